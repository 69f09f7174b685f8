// /api/v1/cycles against a fake HistoryReader.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { assertApiError, fakeServer, NOW_SEC } from '../fakes.js';

const { app, reader } = fakeServer();
after(() => app.close());
const get = (url: string) => app.inject({ method: 'GET', url });

describe('GET /api/v1/cycles (fake HistoryReader)', () => {
  it('defaults to the last 24 h, oldest first as the store gives them', async () => {
    const res = await get('/api/v1/cycles');
    assert.equal(res.statusCode, 200);
    assert.deepEqual(reader.last('cycles'), [NOW_SEC - 86400, NOW_SEC]);
    const body = res.json() as { from: number; to: number; cycles: { startedAt: number; coveragePct: number }[] };
    assert.equal(body.from, NOW_SEC - 86400);
    assert.equal(body.to, NOW_SEC);
    assert.deepEqual(body.cycles.map((c) => c.startedAt), [NOW_SEC - 600, NOW_SEC - 300]);
  });

  it('takes from and to', async () => {
    assert.equal((await get('/api/v1/cycles?from=2026-12-04T00:00:00Z&to=2026-12-04T06:00:00Z')).statusCode, 200);
    assert.deepEqual(reader.last('cycles'), [NOW_SEC - 12 * 3600, NOW_SEC - 6 * 3600]);
  });

  it('400 for a bad range or an unknown parameter', async () => {
    assertApiError(await get('/api/v1/cycles?from=2026-12-05'), 400, 'bad_request', 'the range is empty: from (2026-12-05T00:00:00Z) must be before to (2026-12-04T12:00:00Z)');
    assertApiError(await get('/api/v1/cycles?limit=5'), 400, 'bad_request', 'unknown query parameter "limit"');
  });
});
