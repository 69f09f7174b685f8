// Days until full: least squares from per-day sums, against the textbook formula on the raw points.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addShifted, emptyTrend, fitLine, forecastFull } from '../../src/report/forecast.js';
import type { Trend } from '../../src/report/rollup.js';

// Per-day sums of points (day index, seconds of day, y), as the rollup keeps them.
function sums(points: readonly [number, number, number][]): Trend {
  const byDay = new Map<number, Trend>();
  for (const [day, s, y] of points) {
    const t = s / 86_400;
    const tr = byDay.get(day) ?? emptyTrend();
    tr.n += 1;
    tr.t += t;
    tr.tt += t * t;
    tr.y += y;
    tr.ty += t * y;
    byDay.set(day, tr);
  }
  const total = emptyTrend();
  for (const [day, tr] of byDay) addShifted(total, tr, day);
  return total;
}

describe('forecast', () => {
  it('combining per-day sums gives the same line as fitting all points at once', () => {
    const points: [number, number, number][] = [];
    for (let day = 0; day < 7; day += 1) for (let s = 0; s < 86_400; s += 3_600) points.push([day, s, 40 + 1.5 * (day + s / 86_400) + Math.sin(s) * 0.3]);
    const line = fitLine(sums(points));
    const t = points.map(([d, s]) => d + s / 86_400);
    const y = points.map(([, , v]) => v);
    const tm = t.reduce((a, b) => a + b, 0) / t.length;
    const ym = y.reduce((a, b) => a + b, 0) / y.length;
    const slope = t.reduce((a, ti, i) => a + (ti - tm) * ((y[i] ?? 0) - ym), 0) / t.reduce((a, ti) => a + (ti - tm) ** 2, 0);
    assert.ok(line !== null);
    assert.ok(Math.abs(line.slope - slope) < 1e-9, `${line.slope} vs ${slope}`);
    assert.ok(Math.abs(line.intercept - (ym - slope * tm)) < 1e-9);
  });

  it('a disk growing 2 GB/day with 20 GB left is full in 10 days, and flagged under a 30-day horizon', () => {
    const points: [number, number, number][] = [];
    for (let day = 0; day < 7; day += 1) for (let s = 0; s < 86_400; s += 7_200) points.push([day, s, 66 + 2 * (day + s / 86_400)]);
    const end = 6 + 79_200 / 86_400;
    const f = forecastFull(sums(points), 66 + 2 * end + 20, end, 30);
    assert.equal(f.kind, 'full-in');
    assert.ok(f.kind === 'full-in' && Math.abs(f.days - 10) < 1e-6 && f.flagged);
    const relaxed = forecastFull(sums(points), 66 + 2 * end + 20, end, 7);
    assert.ok(relaxed.kind === 'full-in' && !relaxed.flagged, 'not flagged beyond the horizon');
  });

  it('flat or shrinking usage is "not growing", and so is growth that would take more than 10 years', () => {
    const flat: [number, number, number][] = [0, 1, 2, 3].flatMap((d) => [[d, 0, 50], [d, 43_200, 50]] as [number, number, number][]);
    assert.equal(forecastFull(sums(flat), 100, 3.5, 30).kind, 'not-growing');
    const shrinking = flat.map(([d, s]) => [d, s, 50 - d] as [number, number, number]);
    assert.equal(forecastFull(sums(shrinking), 100, 3.5, 30).kind, 'not-growing');
    const slow = flat.map(([d, s]) => [d, s, 50 + d * 0.001] as [number, number, number]);
    assert.equal(forecastFull(sums(slow), 100, 3.5, 30).kind, 'not-growing');
  });

  it('says nothing without enough samples or spread', () => {
    assert.equal(forecastFull(sums([[0, 0, 1], [0, 60, 2]]), 10, 0, 30).kind, 'insufficient-data');
    assert.equal(forecastFull(sums([[0, 0, 1], [0, 60, 2], [0, 120, 3]]), 10, 0, 30).kind, 'insufficient-data', 'two minutes say nothing about a week');
    assert.equal(forecastFull(sums([[0, 0, 1], [1, 0, 2], [2, 0, 3]]), 0, 2, 30).kind, 'insufficient-data', 'no capacity');
  });

  it('usage already past the line’s capacity is full now (0 days)', () => {
    const points: [number, number, number][] = [0, 1, 2].map((d) => [d, 0, 90 + 5 * d]);
    const f = forecastFull(sums(points), 95, 2, 30);
    assert.ok(f.kind === 'full-in' && f.days === 0 && f.flagged);
  });
});
