// /api/v1/cycles against a fake HistoryReader.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { assertApiError, fakeServer, NOW_SEC } from '../fakes.js';

const { app, reader } = fakeServer();
after(() => app.close());
const get = (url: string) => app.inject({ method: 'GET', url });

describe('GET /api/v1/cycles (fake HistoryReader)', () => {
  it('defaults to the last 24 h and 1,000 cycles, newest first', async () => {
    const res = await get('/api/v1/cycles');
    assert.equal(res.statusCode, 200);
    assert.deepEqual(reader.queries.at(-1), { fromSec: NOW_SEC - 86400, toSec: NOW_SEC, limit: 1000 });
    const body = res.json() as { fromSec: number; toSec: number; cycles: { startedAtSec: number; coveragePct: number }[] };
    assert.equal(body.fromSec, NOW_SEC - 86400);
    assert.deepEqual(body.cycles.map((c) => c.startedAtSec), [NOW_SEC - 300, NOW_SEC - 600]);
  });

  it('takes from, to and limit', async () => {
    const res = await get('/api/v1/cycles?from=2026-12-04T00:00:00Z&to=2026-12-04T06:00:00Z&limit=1');
    assert.equal(res.statusCode, 200);
    assert.deepEqual(reader.queries.at(-1), { fromSec: NOW_SEC - 12 * 3600, toSec: NOW_SEC - 6 * 3600, limit: 1 });
    assert.equal((res.json() as { cycles: unknown[] }).cycles.length, 1);
  });

  it('400 for a bad limit or range', async () => {
    assertApiError(await get('/api/v1/cycles?limit=0'), 400, 'bad_request', 'query parameter "limit" must be a whole number from 1 to 10000 (got 0)');
    assertApiError(await get('/api/v1/cycles?limit=lots'), 400, 'bad_request', 'query parameter "limit" must be a whole number from 1 to 10000 (got "lots")');
    assertApiError(await get('/api/v1/cycles?from=2026-12-05'), 400, 'bad_request', 'the range is empty: from (2026-12-05T00:00:00Z) must be before to (2026-12-04T12:00:00Z)');
  });
});
