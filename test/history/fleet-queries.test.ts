// The fleet-wide averages of the overview agree with each host's own series: the same hourly averages
// from the rollup, the same raw averages below an hour, gaps where no poll succeeded.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FleetQueries } from '../../src/history/fleet-queries.js';
import { HistoryStore } from '../../src/history/store.js';
import { failedResult, okResult } from '../helpers/store-fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'fleetpoll-fleet-queries-'));
const T0 = Date.parse('2026-11-02T00:00:00Z') / 1000;
let store: HistoryStore;

before(() => {
  store = HistoryStore.open(join(dir, 'fleet.sqlite'), { rawDays: 35, hourlyDays: 400 });
  for (let k = 0; k < 36; k += 1) {
    const db = k >= 12 && k < 24 ? failedResult('db1') : okResult('db1', { cpuBusyPct: 50 + k });
    store.record([okResult('web1', { cpuBusyPct: k, mem: { totalKb: 100, availableKb: 100 - k, freeKb: 0, swapTotalKb: 0, swapFreeKb: 0 } }), db], { startedAt: new Date((T0 + k * 300) * 1000), durationMs: 1 });
    store.step(T0 + k * 300);
  }
});
after(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('fleet queries', () => {
  it('hourly and raw averages match each host series; an hour of failed polls is a gap', () => {
    const q = new FleetQueries(store.db);
    for (const step of [3600, 900]) {
      const rows = q.averages(T0, T0 + 3 * 3600, step);
      assert.deepEqual(rows.map((r) => r.host), ['db1', 'web1']);
      for (const row of rows) {
        const series = store.read().series(row.host, ['cpu_pct', 'mem_pct'], T0, T0 + 3 * 3600, step);
        assert.deepEqual(row.cpuPct, series?.points.map((p) => p.values.cpu_pct?.avg ?? null), `${row.host} cpu at ${step}`);
        const mem = series?.points.map((p) => p.values.mem_pct?.avg ?? null) ?? [];
        row.memPct.forEach((v, i) => assert.ok(v === mem[i] || Math.abs((v as number) - (mem[i] as number)) < 1e-9, `${row.host} mem ${i}`));
      }
    }
    const db = q.averages(T0, T0 + 3 * 3600, 3600)[0];
    assert.equal(db?.cpuPct[1], null);
    assert.equal(db?.cpuPct[0], 50 + 5.5);
  });
});
