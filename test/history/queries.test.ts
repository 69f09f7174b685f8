// Series: failed polls are gaps (null, never interpolated) that keep their status; buckets average and peak
// what they hold; steps of an hour or more come from the hourly rollup and agree with the raw samples.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { defaultStep, QueryError } from '../../src/history/queries.js';
import { HistoryStore } from '../../src/history/store.js';
import { failedResult, GIB_KB, okResult } from '../helpers/store-fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'fleetpoll-history-queries-'));
const T0 = Date.parse('2026-11-02T10:00:00Z') / 1000;
const POLLS = 36; // three hours of 5-minute polls
const FAILED = new Set([5, 6]);
let store: HistoryStore;

before(() => {
  store = HistoryStore.open(join(dir, 'series.sqlite'), { rawDays: 35, hourlyDays: 400 });
  for (let k = 0; k <= POLLS; k += 1) {
    const result = FAILED.has(k) ? failedResult('web1', 'timeout', 'exec') : okResult('web1', { cpuBusyPct: k, mem: { totalKb: 100, availableKb: 100 - k, freeKb: 0, swapTotalKb: 0, swapFreeKb: 0 } });
    const startedAt = new Date((T0 + k * 300) * 1000);
    store.record([result], { startedAt, durationMs: 1 });
    store.step(T0 + k * 300);
  }
});
after(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('history queries: series', () => {
  it('raw 5-minute points: a failed poll is a null with its status, a time without polls a null without one', () => {
    const series = store.read().series('web1', ['cpu_pct'], T0 - 600, T0 + 3600, 300);
    assert.equal(series?.source, 'raw');
    assert.equal(series?.points.length, 14);
    const points = series?.points ?? [];
    assert.deepEqual(points[0], { t: T0 - 600, polls: 0, ok: 0, status: null, values: { cpu_pct: null } });
    assert.deepEqual(points[2], { t: T0, polls: 1, ok: 1, status: 'ok', values: { cpu_pct: { avg: 0, max: 0 } } });
    assert.deepEqual(points[7], { t: T0 + 1500, polls: 1, ok: 0, status: 'timeout', values: { cpu_pct: null } });
    assert.deepEqual(points[8], { t: T0 + 1800, polls: 1, ok: 0, status: 'timeout', values: { cpu_pct: null } });
    assert.deepEqual(points[9]?.values, { cpu_pct: { avg: 7, max: 7 } });
  });

  it('downsamples: a 15-minute bucket averages and peaks its successful polls', () => {
    const points = store.read().series('web1', ['cpu_pct', 'mem_pct'], T0, T0 + 3600, 900)?.points ?? [];
    assert.equal(points.length, 4);
    assert.deepEqual(points[1], { t: T0 + 900, polls: 3, ok: 2, status: 'ok', values: { cpu_pct: { avg: 3.5, max: 4 }, mem_pct: { avg: 3.5, max: 4 } } });
    assert.deepEqual(points[2]?.values.cpu_pct, { avg: 7.5, max: 8 });
  });

  it('an hour step comes from the rollup and matches the raw samples; two hours weight each by its polls', () => {
    const hourly = store.read().series('web1', ['cpu_pct'], T0, T0 + 3 * 3600, 3600);
    assert.equal(hourly?.source, 'hourly');
    // Hour 0: k = 0..11 without 5 and 6.
    assert.deepEqual(hourly?.points[0], { t: T0, polls: 12, ok: 10, status: 'ok', values: { cpu_pct: { avg: 5.5, max: 11 } } });
    assert.deepEqual(hourly?.points[1]?.values.cpu_pct, { avg: 17.5, max: 23 });
    const raw = store.db.prepare("SELECT avg(cpu_pct), max(cpu_pct) FROM samples WHERE at >= ? AND at < ? AND status = 'ok'").raw().get(T0, T0 + 3600);
    assert.deepEqual(raw, [5.5, 11]);
    const twoHours = store.read().series('web1', ['cpu_pct'], T0, T0 + 4 * 3600, 7200)?.points ?? [];
    assert.deepEqual(twoHours[0]?.values.cpu_pct, { avg: (5.5 * 10 + 17.5 * 12) / 22, max: 23 });
    // The last hour (k = 36, not rolled up yet) comes from raw samples.
    assert.deepEqual(twoHours[1], { t: T0 + 7200, polls: 13, ok: 13, status: 'ok', values: { cpu_pct: { avg: 30, max: 36 } } });
  });

  it('the default step gives about 500 points; bad requests are QueryErrors; an unknown host is null', () => {
    assert.equal(defaultStep(0, 86_400), 300);
    assert.equal(defaultStep(0, 30 * 86_400), 7200);
    const q = store.read();
    assert.throws(() => q.series('web1', ['cpu_pct; DROP TABLE samples'], T0, T0 + 1), (e: unknown) => e instanceof QueryError && /unknown metric "cpu_pct; DROP TABLE samples"/.test(e.message));
    assert.throws(() => q.series('web1', [], T0, T0 + 1), QueryError);
    assert.throws(() => q.series('web1', ['cpu_pct'], T0, T0), /to \(\d+\) must be after from/);
    assert.throws(() => q.series('web1', ['cpu_pct'], 0, 86_400 * 365, 60), /more than 20000 steps/);
    assert.equal(q.series('nobody', ['cpu_pct'], T0, T0 + 1), null);
    assert.equal(q.users('nobody', T0, T0 + 1), null);
  });
});

describe('history queries: rollups', () => {
  it('hourly rows hold avg, min and max of host metrics, disk used % and per-user totals', () => {
    const hour = store.db.prepare('SELECT polls, ok, last_failure, cpu_pct_avg, cpu_pct_min, cpu_pct_max, mem_pct_max FROM hourly WHERE hour = ?').raw().get(T0);
    assert.deepEqual(hour, [12, 10, 'timeout', 5.5, 0, 11, 11]);
    const disk = store.db.prepare("SELECT used_pct_avg, used_pct_min, used_pct_max FROM hourly_disks WHERE hour = ? AND mount = '/var'").raw().get(T0);
    assert.deepEqual(disk, [90, 90, 90]);
    const user = store.db.prepare("SELECT polls, cpu_pct_avg, rss_kb_max FROM hourly_users WHERE hour = ? AND user = 'www-data'").raw().get(T0);
    assert.deepEqual(user, [10, 97, 300 * 1024]);
    // users() over three hours: rolled-up hours plus raw rows, one total per user.
    const users = store.read().users('web1', T0, T0 + 3 * 3600 + 1) ?? [];
    assert.deepEqual(users.map((u) => [u.user, u.polls, u.rssKbMax]), [['www-data', 35, 300 * 1024], ['postgres', 35, 2 * GIB_KB]]);
  });
});
