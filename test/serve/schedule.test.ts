// The schedule's pure functions (src/serve/schedule.ts): ticks on the clock, stable spread offsets,
// overrun skips.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { afterCycle, hostOffsetMs, nextTickMs, startDelayMs } from '../../src/serve/schedule.js';

const MIN5 = 300_000;
const T = Date.parse('2026-12-04T10:00:00.000Z');

describe('nextTickMs', () => {
  it('is the next multiple of the interval since the epoch, strictly after now', () => {
    assert.equal(nextTickMs(T, MIN5), T + MIN5);
    assert.equal(nextTickMs(T + 1, MIN5), T + MIN5);
    assert.equal(nextTickMs(T + MIN5 - 1, MIN5), T + MIN5);
    assert.equal(new Date(nextTickMs(Date.parse('2026-12-04T10:07:13.500Z'), MIN5)).toISOString(), '2026-12-04T10:10:00.000Z');
    assert.equal(new Date(nextTickMs(Date.parse('2026-12-04T10:07:13.500Z'), 60_000)).toISOString(), '2026-12-04T10:08:00.000Z');
  });
});

describe('hostOffsetMs', () => {
  it('is stable for a name and lies within the spread', () => {
    assert.equal(hostOffsetMs('web01', MIN5, 0.5), hostOffsetMs('web01', MIN5, 0.5));
    for (let i = 0; i < 1000; i += 1) {
      const offset = hostOffsetMs(`host${i}`, MIN5, 0.5);
      assert.ok(offset >= 0 && offset < MIN5 * 0.5, `host${i}: ${offset}`);
    }
  });

  it('spreads 10,000 hosts evenly: no tenth of the spread gets more than 12% of them', () => {
    const buckets = new Array<number>(10).fill(0);
    for (let i = 0; i < 10_000; i += 1) buckets[Math.floor(hostOffsetMs(`srv-${i}.example.org`, MIN5, 0.5) / (MIN5 * 0.05))]! += 1;
    for (const count of buckets) assert.ok(count > 800 && count < 1200, buckets.join(' '));
  });

  it('is 0 for everyone when the spread is 0', () => {
    assert.equal(hostOffsetMs('web01', MIN5, 0), 0);
  });

  it('scales with the span it spreads over', () => {
    const full = hostOffsetMs('web01', MIN5, 0.5);
    const half = hostOffsetMs('web01', MIN5 / 2, 0.5);
    assert.ok(Math.abs(full / 2 - half) <= 1);
  });
});

describe('afterCycle', () => {
  it('a cycle inside its interval: next tick, nothing skipped', () => {
    assert.deepEqual(afterCycle(T, T + 40_000, MIN5), { nextTickMs: T + MIN5, skippedTicks: 0 });
  });

  it('a cycle that overruns one tick skips it, and the next cycle starts on the following one', () => {
    assert.deepEqual(afterCycle(T, T + MIN5 + 5_000, MIN5), { nextTickMs: T + 2 * MIN5, skippedTicks: 1 });
    assert.deepEqual(afterCycle(T, T + 3 * MIN5 + 1, MIN5), { nextTickMs: T + 4 * MIN5, skippedTicks: 3 });
  });

  it('a cycle ending exactly on a tick skips that tick (never two cycles at once)', () => {
    assert.deepEqual(afterCycle(T, T + MIN5, MIN5), { nextTickMs: T + 2 * MIN5, skippedTicks: 1 });
  });

  it('the first cycle, started between ticks, goes on to the next tick on the clock', () => {
    assert.deepEqual(afterCycle(T + 100_000, T + 150_000, MIN5), { nextTickMs: T + MIN5, skippedTicks: 0 });
  });
});

describe('startDelayMs', () => {
  it('waits for the host offset after the tick, and not at all when already late', () => {
    assert.equal(startDelayMs(T, 30_000, T + 10_000), 20_000);
    assert.equal(startDelayMs(T, 30_000, T + 40_000), 0);
  });
});
