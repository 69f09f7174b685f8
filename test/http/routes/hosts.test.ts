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
    const body = res.json() as { hosts: { host: string; status: string; error: string | null }[] };
    assert.deepEqual(body.hosts, JSON.parse(JSON.stringify(FAKE_HOSTS)));
    assert.equal(body.hosts[1]?.status, 'unreachable');
  });

  it('refuses an unknown query parameter by name', async () => {
    assertApiError(await get('/api/v1/hosts?status=ok'), 400, 'bad_request', 'unknown query parameter "status"');
  });
});

describe('GET /api/v1/hosts/:name/series (fake HistoryReader)', () => {
  it('passes the parsed range, step and metrics to the store (ISO and epoch times alike)', async () => {
    const res = await get(`/api/v1/hosts/web01/series?metrics=cpu_pct,load_1m,cpu_pct&from=2026-12-03T12:00:00Z&to=${NOW_SEC}&step=5m`);
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(reader.last('series'), ['web01', ['cpu_pct', 'load_1m'], NOW_SEC - 86400, NOW_SEC, 300]);
    const body = res.json() as { metrics: string[]; points: { t: number; status: string; values: Record<string, unknown> }[] };
    assert.deepEqual(body.metrics, ['cpu_pct', 'load_1m']);
    assert.deepEqual(body.points[1], { t: NOW_SEC - 86400 + 300, polls: 1, ok: 0, status: 'timeout', values: { cpu_pct: null, load_1m: null } }, 'a failed poll is a gap with its status');
  });

  it('defaults to the last 24 h, cpu and memory, and the store\'s own step', async () => {
    assert.equal((await get('/api/v1/hosts/web01/series')).statusCode, 200);
    assert.deepEqual(reader.last('series'), ['web01', ['cpu_pct', 'mem_pct'], NOW_SEC - 86400, NOW_SEC, undefined]);
  });

  it('a time without a zone is UTC; an offset is applied', async () => {
    await get('/api/v1/hosts/web01/series?from=2026-12-04 10:00&to=2026-12-04T13:00:00%2B02:00');
    assert.deepEqual(reader.last('series'), ['web01', ['cpu_pct', 'mem_pct'], NOW_SEC - 7200, NOW_SEC - 3600, undefined]);
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
      const before = reader.calls.length;
      assertApiError(await get(`/api/v1/hosts/web01/series${query.replaceAll(' ', '%20')}`), 400, 'bad_request', detail);
      assert.equal(reader.calls.length, before, 'the store is not asked');
    });
  }

  it('400 for a name servers.csv could not hold, before the store is asked', async () => {
    assertApiError(await get('/api/v1/hosts/web%2001/series'), 400, 'bad_request', /^path parameter "name" must be a server name as in servers\.csv .* \(got "web 01"\)$/);
  });

  it('a refusal by the store itself (QueryError) is a 400 with its reason', async () => {
    reader.failWith = Object.assign(new Error('the range holds more than 20000 steps of 60 s: ask for a larger step'), { name: 'QueryError' });
    try {
      assertApiError(await get('/api/v1/hosts/web01/series'), 400, 'bad_request', 'the range holds more than 20000 steps of 60 s: ask for a larger step');
    } finally {
      reader.failWith = null;
    }
  });
});

describe('GET /api/v1/hosts/:name/users (fake HistoryReader)', () => {
  it('passes the range and returns each user\'s totals', async () => {
    const res = await get(`/api/v1/hosts/db01/users?from=${NOW_SEC - 3600}&to=${NOW_SEC}`);
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(reader.last('users'), ['db01', NOW_SEC - 3600, NOW_SEC]);
    const body = res.json() as { host: string; from: number; to: number; users: { user: string }[] };
    assert.deepEqual([body.host, body.from, body.to, body.users[0]?.user], ['db01', NOW_SEC - 3600, NOW_SEC, 'postgres']);
  });

  it('400 for a bad range, 404 for an unknown host', async () => {
    assertApiError(await get(`/api/v1/hosts/db01/users?from=${NOW_SEC}&to=${NOW_SEC - 1}`), 400, 'bad_request', /^the range is empty/);
    assertApiError(await get('/api/v1/hosts/db02/users'), 404, 'not_found', 'no host named "db02" in the history');
    assertApiError(await get('/api/v1/hosts/db01/users?step=1h'), 400, 'bad_request', 'unknown query parameter "step"');
  });
});

describe('GET /api/v1/hosts/:name/processes (fake HistoryReader)', () => {
  it('returns the poll nearest `at` (default now), host text as data', async () => {
    const res = await get('/api/v1/hosts/web01/processes?at=2026-12-04T11:58:20Z');
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(reader.last('processes'), ['web01', NOW_SEC - 100]);
    const body = res.json() as { host: string; at: number; processes: { name: string }[]; sessions: { user: string }[] };
    assert.equal(body.host, 'web01');
    assert.equal(body.at, NOW_SEC - 300);
    assert.equal(body.processes[0]?.name, '<img src=x onerror=alert(1)>');
    assert.equal(body.sessions[0]?.user, 'alice');
    await get('/api/v1/hosts/web01/processes');
    assert.deepEqual(reader.last('processes'), ['web01', NOW_SEC]);
  });

  it('404 when nothing is recorded, 404 for an unknown host, 400 for a bad time', async () => {
    assertApiError(await get('/api/v1/hosts/web01/processes?at=2020-01-01'), 404, 'not_found', 'no poll of "web01" is recorded (asked for the one nearest 2020-01-01T00:00:00Z)');
    assertApiError(await get('/api/v1/hosts/nosuch/processes'), 404, 'not_found', 'no host named "nosuch" in the history');
    assertApiError(await get('/api/v1/hosts/web01/processes?at=noon'), 400, 'bad_request', /^query parameter "at" must be an ISO 8601 time/);
  });
});
