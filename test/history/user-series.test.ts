// The per-user series at the store: raw and hourly buckets agree, a poll without a user counts 0 for it, failed
// polls are gaps, `exclude` drops users, bad requests are QueryErrors. (The HTTP route: test/http/routes/users-series.test.ts.)
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { QueryError } from '../../src/history/range.js';
import { HistoryStore } from '../../src/history/store.js';
import { failedResult, okResult } from '../helpers/store-fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'fleetpoll-history-user-series-'));
const T0 = Date.parse('2026-11-03T00:00:00Z') / 1000;
let store: HistoryStore;

// Two hours of 5-minute polls; poll 3 failed; 'batch' runs only in the second hour, at 200 % (two cores).
before(() => {
  store = HistoryStore.open(join(dir, 'users.sqlite'), { rawDays: 35, hourlyDays: 400 });
  for (let k = 0; k < 24; k += 1) {
    const users = [{ user: 'www-data', cpuPct: 10, rssKb: 1000, processCount: 4 }];
    if (k >= 12) users.push({ user: 'batch', cpuPct: 200, rssKb: 5000, processCount: 2 });
    const result = k === 3 ? failedResult('app1', 'timeout', 'exec') : okResult('app1', { users, cpuCores: 8 });
    store.record([result], { startedAt: new Date((T0 + k * 300) * 1000), durationMs: 1 });
    store.step(T0 + k * 300);
  }
  store.step(T0 + 2 * 3600);
});
after(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('history queries: per-user series', () => {
  it('raw: one value per bucket, null for the failed poll, 0 where a user had no process', () => {
    const s = store.read().usersSeries('app1', T0, T0 + 7200, 1800, []);
    assert.equal(s?.cores, 8);
    assert.deepEqual(s?.times, [T0, T0 + 1800, T0 + 3600, T0 + 5400]);
    assert.deepEqual(s?.users.map((u) => [u.user, u.cpuPct, u.rssKb]), [
      ['batch', [0, 0, 200, 200], [0, 0, 5000, 5000]],
      ['www-data', [10, 10, 10, 10], [1000, 1000, 1000, 1000]],
    ]);
    const fine = store.read().usersSeries('app1', T0, T0 + 1200, 300, []);
    assert.deepEqual(fine?.users.find((u) => u.user === 'www-data')?.cpuPct, [10, 10, 10, null]);
  });

  it('hourly (rolled up) and raw agree; exclude drops users', () => {
    const q = store.read();
    assert.ok((store.maintainer().rolledUpTo() ?? 0) >= T0 + 7200, 'both hours rolled up');
    const hourly = q.usersSeries('app1', T0, T0 + 7200, 3600, ['www-data']);
    assert.deepEqual(hourly?.users, [{ user: 'batch', cpuPct: [0, 200], rssKb: [0, 5000] }]);
    const wholeRange = q.usersSeries('app1', T0, T0 + 7200, 7200, []);
    // 23 successful polls, batch in 12 of them.
    assert.deepEqual(wholeRange?.users.map((u) => u.cpuPct[0]), [Math.round(((200 * 12) / 23) * 100) / 100, 10]);
  });

  it('an unknown host is null; bad requests are QueryErrors', () => {
    const q = store.read();
    assert.equal(q.usersSeries('nobody', T0, T0 + 60, 60, []), null);
    assert.throws(() => q.usersSeries('app1', T0, T0, 60, []), QueryError);
    assert.throws(() => q.usersSeries('app1', 0, 86_400 * 365, 60, []), /more than 20000 steps/);
  });
});
