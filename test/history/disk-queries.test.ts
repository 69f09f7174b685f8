// The dashboard's filesystem queries over a real store: the fullest filesystem of each host's latest
// poll, each mount's used % per step (raw below an hour, the hourly rollup from an hour, the same
// figures either way), and trend sums that give the weekly report's forecast.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DiskQueries } from '../../src/history/disk-queries.js';
import { HistoryStore } from '../../src/history/store.js';
import { forecastFull } from '../../src/report/forecast.js';
import { failedResult, GIB_KB, okResult } from '../helpers/store-fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'fleetpoll-disk-queries-'));
const T0 = Date.parse('2026-11-02T00:00:00Z') / 1000;
const POLLS = 2 * 24 * 12; // two days of 5-minute polls
let store: HistoryStore;
let q: DiskQueries;

// /data grows 0.1 GiB a poll from 10 GiB on a 100 GiB filesystem; / stays at 45 of 95 GiB.
const dataUsedGib = (k: number): number => 10 + k * 0.1;

before(() => {
  store = HistoryStore.open(join(dir, 'disks.sqlite'), { rawDays: 35, hourlyDays: 400 });
  for (let k = 0; k < POLLS; k += 1) {
    const used = dataUsedGib(k) * GIB_KB;
    const web = okResult('web1', { disks: [{ mount: '/', fsType: 'ext4', totalKb: 95 * GIB_KB, usedKb: 45 * GIB_KB, availableKb: 50 * GIB_KB }, { mount: '/data', fsType: 'xfs', totalKb: 100 * GIB_KB, usedKb: used, availableKb: 100 * GIB_KB - used }] });
    const db = k === POLLS - 1 ? failedResult('db1') : okResult('db1');
    store.record([web, db], { startedAt: new Date((T0 + k * 300) * 1000), durationMs: 1 });
    store.step(T0 + k * 300);
  }
  q = new DiskQueries(store.db);
});
after(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('disk queries', () => {
  it('the fullest filesystem of each host at its latest poll (none for a host whose latest poll failed)', () => {
    const fullest = q.fullestByHost();
    assert.ok(Math.abs((fullest.get('web1') ?? 0) - dataUsedGib(POLLS - 1)) < 1e-9);
    assert.equal(fullest.has('db1'), false);
  });

  it('used % per step: raw below an hour, the rollup from an hour, the same averages', () => {
    const raw = q.series('web1', T0, T0 + 3600, 900);
    assert.deepEqual(raw?.map((d) => d.mount), ['/', '/data']);
    const data = raw?.[1]?.usedPct ?? [];
    assert.equal(data.length, 4);
    // The first 15 minutes: polls 0, 1, 2 at 10, 10.1, 10.2 %.
    assert.ok(Math.abs((data[0] as number) - 10.1) < 1e-9);
    const hourly = q.series('web1', T0, T0 + 24 * 3600, 3600)?.[1]?.usedPct ?? [];
    const rawHour = q.series('web1', T0, T0 + 24 * 3600, 3599);
    assert.equal(hourly.length, 24);
    assert.ok(Math.abs((hourly[1] as number) - (10 + 0.1 * 17.5)) < 1e-9, `hour 1: ${hourly[1]}`);
    assert.ok(rawHour !== null);
    assert.equal(q.series('nobody', T0, T0 + 3600, 300), null);
  });

  it('trend sums give the report forecast: 0.1 GiB a poll is 28.8 GiB a day', () => {
    const from = T0 + 86_400;
    const to = T0 + 2 * 86_400;
    const [root, data] = q.trends('web1', from, to) ?? [];
    assert.equal(root?.mount, '/');
    assert.equal(forecastFull({ ...root!.sums }, root!.capacityGb, root!.lastT, 30).kind, 'not-growing');
    const f = forecastFull({ ...data!.sums }, data!.capacityGb, data!.lastT, 30);
    assert.equal(f.kind, 'full-in');
    const last = dataUsedGib(POLLS - 1);
    if (f.kind === 'full-in') {
      assert.ok(Math.abs(f.slopePerDay - 28.8) < 1e-6, `slope ${f.slopePerDay}`);
      assert.ok(Math.abs(f.days - (100 - last) / 28.8) < 1e-6, `days ${f.days}`);
      assert.equal(f.flagged, true);
    }
    assert.equal(q.trends('nobody', from, to), null);
  });
});
