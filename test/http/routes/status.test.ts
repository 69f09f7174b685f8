// /api/v1/status against a fake ServiceStatus.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { assertApiError, fakeServer, NOW_SEC } from '../fakes.js';

const { app } = fakeServer();
after(() => app.close());

describe('GET /api/v1/status (fake ServiceStatus)', () => {
  it('shows the service state, including the problems of a bad reload', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/status' });
    assert.equal(res.statusCode, 200);
    const body = res.json() as { nextCycleAtSec: number; reload: { ok: boolean; problems: string[] } };
    assert.equal(body.nextCycleAtSec, NOW_SEC + 120);
    assert.deepEqual(body.reload.problems, ['inventory/servers.csv:7: port "22x" is not a number']);
    assert.equal(body.reload.ok, false);
  });

  it('takes no query parameters', async () => {
    assertApiError(await app.inject({ method: 'GET', url: '/api/v1/status?verbose=1' }), 400, 'bad_request', 'unknown query parameter "verbose"');
  });
});
