// The host routes against a fake HistoryReader: what they pass to the store and every bad input's 400/404.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { assertApiError, FAKE_HOSTS, fakeServer, NOW_SEC } from '../fakes.js';

const { app, reader } = fakeServer();
after(() => app.close());

const get = (url: string) => app.inject({ method: 'GET', url });

describe('GET /api/v1/hosts (fake HistoryReader)', () => {
  it('lists the latest poll of every host, ok or not, with its status', async () => {
    const res = await get('/api/v1/hosts');
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    assert.equal(res.headers['cache-control'], 'no-store');
    const body = res.json() as { hosts: { name: string; status: string; error: string | null }[] };
    assert.deepEqual(body.hosts, JSON.parse(JSON.stringify(FAKE_HOSTS)));
    assert.equal(body.hosts[1]?.status, 'unreachable');
  });

  it('refuses an unknown query parameter by name', async () => {
    assertApiError(await get('/api/v1/hosts?status=ok'), 400, 'bad_request', 'unknown query parameter "status"');
  });
});

describe('GET /api/v1/hosts/:name/series (fake HistoryReader)', () => {
  it('passes the parsed range, step and metrics to the store (ISO and epoch times alike)', async () => {
    const res = await get('/api/v1/hosts/web01/series?metrics=cpu_pct,load_1m,cpu_pct&from=2026-12-03T12:00:00Z&to=1796385600&step=5m');
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(reader.queries.at(-1), { host: 'web01', metrics: ['cpu_pct', 'load_1m'], fromSec: NOW_SEC - 86400, toSec: NOW_SEC, stepSec: 300 });
    const body = res.json() as { values: Record<string, unknown[]>; timesSec: number[]; failures: unknown[] };
    assert.deepEqual(Object.keys(body.values), ['cpu_pct', 'load_1m']);
    assert.deepEqual(body.values.cpu_pct, [1.5, null], 'a gap stays null');
    assert.equal(body.failures.length, 1);
  });

  it('defaults to the last 24 h, cpu and memory, about 1,000 points', async () => {
    assert.equal((await get('/api/v1/hosts/web01/series')).statusCode, 200);
    assert.deepEqual(reader.queries.at(-1), { host: 'web01', metrics: ['cpu_pct', 'mem_pct'], fromSec: NOW_SEC - 86400, toSec: NOW_SEC, stepSec: 87 });
  });

  it('a time without a zone is UTC; an offset is applied', async () => {
    await get('/api/v1/hosts/web01/series?from=2026-12-04 10:00&to=2026-12-04T13:00:00%2B02:00');
    assert.deepEqual(reader.queries.at(-1), { host: 'web01', metrics: ['cpu_pct', 'mem_pct'], fromSec: NOW_SEC - 7200, toSec: NOW_SEC - 3600, stepSec: 60 });
  });

  it('404 for a host the history does not know', async () => {
    assertApiError(await get('/api/v1/hosts/nosuch/series'), 404, 'not_found', 'no host named "nosuch" in the history');
  });

  const bad: [string, RegExp | string][] = [
    ['?from=2026-12-04T12:00:00Z&to=2026-12-04T11:00:00Z', 'the range is empty: from (2026-12-04T12:00:00Z) must be before to (2026-12-04T11:00:00Z)'],
    ['?from=2026-12-04T12:00:00Z&to=2026-12-04T12:00:00Z', /^the range is empty/],
    ['?from=2025-12-04&step=1s', /^the range is too long for the step: 2025-12-04T00:00:00Z to 2026-12-04T12:00:00Z at a step of 1 s is 31579200 points, at most 11000: use a step of at least 2871 s or a shorter range$/],
    ['?metrics=cpu_pct,cpu_pcnt,disk', 'unknown metrics "cpu_pcnt", "disk" (known: cpu_pct, mem_pct, swap_pct, load_1m, load_5m, load_15m, mem_used_kb)'],
    ['?metrics=cpu_pct;drop', /^query parameter "metrics" must be a comma-separated list of metric names \(cpu_pct, .*\) \(got "cpu_pct;drop"\)$/],
    ['?from=yesterday', /^query parameter "from" must be an ISO 8601 time such as 2026-12-04T10:00:00Z \(UTC when no zone is given\) or epoch seconds \(got "yesterday"\)$/],
    ['?to=2026-02-30', /^query parameter "to" must be an ISO 8601 time/],
    ['?from=1&from=2', /^query parameter "from" must be an ISO 8601 time .* \(got \["1","2"\]\)$/],
    ['?step=0', /^query parameter "step" must be a duration in seconds, or with a unit: 90, 5m, 1h, 1d, from 1 s to 31 d \(got "0"\)$/],
    ['?step=5 minutes', /^query parameter "step" must be a duration/],
    ['?form=2026-12-01', 'unknown query parameter "form"'],
  ];
  for (const [query, detail] of bad) {
    it(`400 with the reason for ${query}`, async () => {
      assertApiError(await get(`/api/v1/hosts/web01/series${query.replaceAll(' ', '%20')}`), 400, 'bad_request', detail);
    });
  }

  it('400 for a name servers.csv could not hold, before the store is asked', async () => {
    assertApiError(await get('/api/v1/hosts/web%2001/series'), 400, 'bad_request', /^path parameter "name" must be a server name as in servers\.csv .* \(got "web 01"\)$/);
  });
});

describe('GET /api/v1/hosts/:name/users (fake HistoryReader)', () => {
  it('passes the range and returns per-user series', async () => {
    const res = await get('/api/v1/hosts/db01/users?from=1764763200&to=1764849600&step=1h');
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(reader.queries.at(-1), { host: 'db01', fromSec: 1764763200, toSec: 1764849600, stepSec: 3600 });
    assert.equal((res.json() as { users: { user: string }[] }).users[0]?.user, 'postgres');
  });

  it('400 for a bad range, 404 for an unknown host', async () => {
    assertApiError(await get('/api/v1/hosts/db01/users?from=1764849600&to=1764763200'), 400, 'bad_request', /^the range is empty/);
    assertApiError(await get('/api/v1/hosts/db02/users'), 404, 'not_found', 'no host named "db02" in the history');
  });
});

describe('GET /api/v1/hosts/:name/processes (fake HistoryReader)', () => {
  it('returns the poll at or before `at` (default now), host text as data', async () => {
    const res = await get('/api/v1/hosts/web01/processes?at=2026-12-04T11:58:20Z');
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(reader.queries.at(-1), { host: 'web01', atSec: NOW_SEC - 100 });
    const body = res.json() as { atSec: number; processes: { name: string }[] };
    assert.equal(body.atSec, NOW_SEC - 300);
    assert.equal(body.processes[0]?.name, '<img src=x onerror=alert(1)>');
    await get('/api/v1/hosts/web01/processes');
    assert.deepEqual(reader.queries.at(-1), { host: 'web01', atSec: NOW_SEC });
  });

  it('404 when nothing is recorded then, 404 for an unknown host, 400 for a bad time', async () => {
    assertApiError(await get('/api/v1/hosts/web01/processes?at=2020-01-01'), 404, 'not_found', 'no poll of "web01" is recorded at or before 2020-01-01T00:00:00Z');
    assertApiError(await get('/api/v1/hosts/nosuch/processes'), 404, 'not_found', /no host named "nosuch"/);
    assertApiError(await get('/api/v1/hosts/web01/processes?at=noon'), 400, 'bad_request', /^query parameter "at" must be an ISO 8601 time/);
  });
});
