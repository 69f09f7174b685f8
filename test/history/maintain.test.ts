// Retention: raw samples (with their details) older than rawDays and hourly rows older than hourlyDays go,
// a bounded slice per step; rollups are made before the raw rows they summarise are deleted.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { STEP_LIMITS } from '../../src/history/maintain.js';
import { HistoryStore } from '../../src/history/store.js';
import { okResult } from '../helpers/store-fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'fleetpoll-history-maintain-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const DAY = 86_400;
const T0 = Date.parse('2026-11-02T00:00:00Z') / 1000;

function count(store: HistoryStore, table: string): number {
  // Disks and users: the entries of the polls' lists (a poll's details are one row, see schema v3).
  const sql = {
    samples: 'SELECT count(*) FROM samples',
    disks: 'SELECT sum(json_array_length(disks)) FROM details',
    users: 'SELECT sum(json_array_length(users)) FROM details',
    processes: 'SELECT count(processes) FROM details',
    sessions: 'SELECT count(sessions) FROM details',
    hourly: 'SELECT count(*) FROM hourly',
    cycles: 'SELECT count(*) FROM cycles',
  }[table] as string;
  return store.db.prepare(sql).pluck().get() as number;
}

describe('history retention', () => {
  it('prunes raw data past rawDays (details too) and hourly rows past hourlyDays; keeps the rest', () => {
    const store = HistoryStore.open(join(dir, 'retention.sqlite'), { rawDays: 2, hourlyDays: 3 });
    try {
      // One poll an hour for four days.
      for (let h = 0; h < 4 * 24; h += 1) {
        const at = T0 + h * 3600;
        store.record([okResult('web1'), okResult('web2')], { startedAt: new Date(at * 1000), durationMs: 1 });
        store.step(at);
      }
      const now = T0 + 4 * DAY;
      store.record([okResult('web1'), okResult('web2')], { startedAt: new Date(now * 1000), durationMs: 1 });
      for (let i = 0; i < 5; i += 1) store.step(now);
      // Raw: the last two days and the new poll (at the cutoff itself: kept).
      const rawKept = 2 * 24 + 1;
      assert.equal(count(store, 'samples'), 2 * rawKept);
      assert.equal(count(store, 'disks'), 2 * 2 * rawKept);
      assert.equal(count(store, 'users'), 2 * 2 * rawKept);
      assert.equal(count(store, 'processes'), 2 * rawKept);
      assert.equal(count(store, 'sessions'), 2 * rawKept);
      assert.equal(count(store, 'cycles'), rawKept);
      // Hourly: the last three days, every hour rolled up before its raw rows went.
      assert.equal(count(store, 'hourly'), 2 * 3 * 24);
      assert.equal(store.db.prepare('SELECT min(hour) FROM hourly').pluck().get(), now - 3 * DAY);
      assert.equal(store.db.prepare('SELECT min(at) FROM samples').pluck().get(), now - 2 * DAY);
    } finally {
      store.close();
    }
  });

  it('works a slice of hosts per step, so a backlog never lands on one cycle', () => {
    const store = HistoryStore.open(join(dir, 'bounded.sqlite'), { rawDays: 1, hourlyDays: 10 });
    try {
      const hosts = STEP_LIMITS.minHostsPruned * 2;
      const names = Array.from({ length: hosts }, (_, i) => `h${i}`);
      store.record(names.map((n) => okResult(n)), { startedAt: new Date(T0 * 1000), durationMs: 1 });
      const now = T0 + 2 * DAY;
      store.record(names.map((n) => okResult(n)), { startedAt: new Date(now * 1000), durationMs: 1 });
      const first = store.step(now);
      assert.equal(first.samplesPruned, STEP_LIMITS.minHostsPruned);
      const second = store.step(now);
      assert.equal(second.samplesPruned, STEP_LIMITS.minHostsPruned);
      assert.equal(count(store, 'samples'), hosts);
      assert.equal(store.step(now).samplesPruned, 0);
    } finally {
      store.close();
    }
  });
});
