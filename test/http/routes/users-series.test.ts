// /api/v1/hosts/:name/users/series on a real Fastify server reading a real history store that the test fills
// through the recorder: raw and hourly buckets, gaps for failed polls, absent users as 0, exclusion, and every
// bad input's 400/404. The 503 of a reader without the method uses the fake reader.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { HistoryStore } from '../../../src/history/store.js';
import { buildHttpServer } from '../../../src/http/server.js';
import { DEFAULT_HTTP_SETTINGS } from '../../../src/http/settings.js';
import { failedResult, GIB_KB, okResult } from '../../helpers/store-fixtures.js';
import { assertApiError, FakeServiceStatus, fakeServer, RecordingLog } from '../fakes.js';

const dir = mkdtempSync(join(tmpdir(), 'fleetpoll-users-series-'));
const T0 = Date.parse('2026-11-02T10:00:00Z') / 1000;
const POLLS = 36; // three hours of 5-minute polls, and the first of the fourth
const FAILED = new Set([5, 6]);
const NOW = T0 + 4 * 3600;
let store: HistoryStore;
let app: FastifyInstance;

// Poll k: www-data uses k % CPU and k MB; postgres 10 % and 2 GiB always; syslog 1 % and 100 kB in even polls only.
function users(k: number) {
  const list = [
    { user: 'www-data', cpuPct: k, rssKb: k * 1024, processCount: 3 },
    { user: 'postgres', cpuPct: 10, rssKb: 2 * GIB_KB, processCount: 7 },
  ];
  if (k % 2 === 0) list.push({ user: 'syslog', cpuPct: 1, rssKb: 100, processCount: 1 });
  return list;
}

before(() => {
  store = HistoryStore.open(join(dir, 'history.sqlite'), { rawDays: 35, hourlyDays: 400 });
  for (let k = 0; k <= POLLS; k += 1) {
    const web = FAILED.has(k) ? failedResult('web1', 'timeout', 'exec') : okResult('web1', { users: users(k) });
    store.record([web, failedResult('down1', 'unreachable')], { startedAt: new Date((T0 + k * 300) * 1000), durationMs: 1 });
    store.step(T0 + k * 300);
  }
  app = buildHttpServer({ settings: DEFAULT_HTTP_SETTINGS, env: {}, reader: store.read(), status: new FakeServiceStatus(), log: new RecordingLog(), nowSec: () => NOW });
});
after(async () => {
  await app.close();
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

type Body = {
  host: string;
  from: number;
  to: number;
  step: number;
  cores: number | null;
  memTotalKb: number | null;
  times: number[];
  users: { user: string; cpuPct: (number | null)[]; rssKb: (number | null)[] }[];
};

async function get(query: string, host = 'web1'): Promise<Body> {
  const res = await app.inject({ method: 'GET', url: `/api/v1/hosts/${host}/users/series${query}` });
  assert.equal(res.statusCode, 200, res.body);
  return res.json() as Body;
}

const of = (body: Body, user: string) => body.users.find((u) => u.user === user);

describe('GET /api/v1/hosts/:name/users/series (real store)', () => {
  it('5-minute buckets from raw rows: the exact shape, failed polls null for everyone, an absent user 0', async () => {
    const body = await get(`?from=${T0}&to=${T0 + 3600}&step=5m`);
    assert.deepEqual(Object.keys(body), ['host', 'from', 'to', 'step', 'cores', 'memTotalKb', 'times', 'users']);
    assert.deepEqual([body.host, body.from, body.to, body.step, body.cores, body.memTotalKb], ['web1', T0, T0 + 3600, 300, 4, 8 * GIB_KB]);
    assert.deepEqual(body.times, Array.from({ length: 12 }, (_, i) => T0 + i * 300));
    assert.deepEqual(body.users.map((u) => u.user), ['postgres', 'www-data', 'syslog'], 'busiest first (over this hour: 10 % against 5.5 %)');
    assert.deepEqual(of(body, 'www-data')?.cpuPct, [0, 1, 2, 3, 4, null, null, 7, 8, 9, 10, 11]);
    assert.deepEqual(of(body, 'www-data')?.rssKb, [0, 1024, 2048, 3072, 4096, null, null, 7168, 8192, 9216, 10240, 11264]);
    assert.deepEqual(of(body, 'syslog')?.cpuPct, [1, 0, 1, 0, 1, null, null, 0, 1, 0, 1, 0]);
    assert.deepEqual(of(body, 'postgres')?.rssKb[0], 2 * GIB_KB);
  });

  it('a 15-minute bucket averages over its successful polls only', async () => {
    const body = await get(`?from=${T0}&to=${T0 + 3600}&step=15m`);
    assert.equal(body.times.length, 4);
    // Bucket 1 holds k = 3, 4 and 5 (failed); bucket 2 k = 6 (failed), 7 and 8.
    assert.deepEqual(of(body, 'www-data')?.cpuPct, [1, 3.5, 7.5, 10]);
    assert.deepEqual(of(body, 'syslog')?.cpuPct, [0.67, 0.5, 0.5, 0.33]);
    assert.deepEqual(of(body, 'syslog')?.rssKb, [67, 50, 50, 33], 'whole kB');
  });

  it('an hour step comes from the rollups, the hour not rolled up yet from raw rows, and they agree', async () => {
    const body = await get(`?from=${T0}&to=${T0 + 4 * 3600}&step=1h`);
    assert.equal(body.step, 3600);
    assert.deepEqual(body.times, [T0, T0 + 3600, T0 + 7200, T0 + 10_800]);
    // Hour 0: k = 0..11 without 5 and 6 (10 polls, sum 55); hour 3: k = 36 alone, raw.
    assert.deepEqual(of(body, 'www-data')?.cpuPct, [5.5, 17.5, 29.5, 36]);
    assert.deepEqual(of(body, 'syslog')?.cpuPct, [0.5, 0.5, 0.5, 1]);
    const raw = (of(await get(`?from=${T0}&to=${T0 + 3600}&step=5m`), 'www-data')?.cpuPct ?? []).filter((v) => v !== null);
    assert.equal(raw.reduce((a, b) => a + b, 0) / raw.length, 5.5, 'the raw rows of that hour give the same average');
    assert.deepEqual((await get(`?from=${T0}&to=${T0 + 4 * 3600}&step=1h`)).users.map((u) => u.user), ['www-data', 'postgres', 'syslog'], 'busiest over the range');
    // Two-hour buckets weight each hour by its successful polls.
    const two = await get(`?from=${T0}&to=${T0 + 4 * 3600}&step=2h`);
    assert.deepEqual(of(two, 'www-data')?.cpuPct, [Math.round(((55 + 17.5 * 12) / 22) * 100) / 100, Math.round(((29.5 * 12 + 36) / 13) * 100) / 100]);
  });

  it('a range without polls is all null; the default is the last 24 h at the store\'s step', async () => {
    const body = await get('');
    assert.deepEqual([body.from, body.to, body.step], [NOW - 86_400, NOW, 300]);
    assert.equal(body.times.length, 288);
    assert.equal(of(body, 'www-data')?.cpuPct[0], null);
    const empty = await get(`?from=${T0 - 7200}&to=${T0}`);
    assert.deepEqual(empty.users, []);
    assert.equal(empty.cores, null, 'no successful poll before `to`');
  });

  it('exclude leaves those users out (names repeated or unknown are fine)', async () => {
    const body = await get(`?from=${T0}&to=${T0 + 3600}&exclude=syslog,postgres,syslog,nobody`);
    assert.deepEqual(body.users.map((u) => u.user), ['www-data']);
  });

  it('a host whose every poll failed: nulls, cores and memory unknown', async () => {
    const body = await get(`?from=${T0}&to=${T0 + 3600}&step=30m`, 'down1');
    assert.deepEqual([body.cores, body.memTotalKb, body.users, body.times.length], [null, null, [], 2]);
  });

  const bad: [string, number, string, RegExp | string][] = [
    ['/nosuch/users/series', 404, 'not_found', 'no host named "nosuch" in the history'],
    [`/web1/users/series?from=${T0}&to=${T0}`, 400, 'bad_request', /^the range is empty: from \(2026-11-02T10:00:00Z\) must be before to/],
    ['/web1/users/series?from=2025-01-01&step=1s', 400, 'bad_request', /^the range is too long for the step: .* at most 11000: use a step of at least \d+ s or a shorter range$/],
    ['/web1/users/series?step=0', 400, 'bad_request', /^query parameter "step" must be a duration in seconds/],
    ['/web1/users/series?exclude=syslog,,cups', 400, 'bad_request', /^query parameter "exclude" must be a comma-separated list of user names \(none empty\), such as syslog,cups-pk-helper \(got "syslog,,cups"\)$/],
    ['/web1/users/series?exclude=', 400, 'bad_request', /^query parameter "exclude" must be a comma-separated list of user names/],
    ['/web1/users/series?user=root', 400, 'bad_request', 'unknown query parameter "user"'],
    ['/web%201/users/series', 400, 'bad_request', /^path parameter "name" must be a server name/],
  ];
  for (const [path, status, error, detail] of bad) {
    it(`${status} for ${path}`, async () => {
      assertApiError(await app.inject({ method: 'GET', url: `/api/v1/hosts${path}` }), status, error, detail);
    });
  }

  it('read-only: another method is a 405', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/v1/hosts/web1/users/series' });
    assertApiError(res, 405, 'method_not_allowed', /read-only/);
  });
});

describe('GET /api/v1/hosts/:name/users/series (fake HistoryReader without the method)', () => {
  it('503 saying so, rather than a 500', async () => {
    const { app: fake } = fakeServer();
    try {
      assertApiError(await fake.inject({ method: 'GET', url: '/api/v1/hosts/web01/users/series' }), 503, 'unavailable', 'this service does not serve per-user series from its history store');
    } finally {
      await fake.close();
    }
  });
});
