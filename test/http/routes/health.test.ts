// /healthz and /readyz against a fake ServiceStatus.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { assertApiError, fakeServer } from '../fakes.js';

const { app, status } = fakeServer();
after(() => app.close());

describe('health routes (fake ServiceStatus)', () => {
  it('/healthz answers while the process runs, whatever the service state', async () => {
    status.state = { ready: false, reason: 'the history store is not open yet' };
    const res = await app.inject({ method: 'GET', url: '/healthz' });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { status: 'ok' });
  });

  it('/readyz is 503 with the reason until ready, then 200', async () => {
    status.state = { ready: false, reason: 'no cycle has finished yet (the first one started at 2026-12-04T12:00:00Z)' };
    assertApiError(await app.inject({ method: 'GET', url: '/readyz' }), 503, 'unavailable', 'no cycle has finished yet (the first one started at 2026-12-04T12:00:00Z)');
    status.state = { ready: true };
    const res = await app.inject({ method: 'GET', url: '/readyz' });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { status: 'ready' });
  });

  it('HEAD works like GET without a body; other methods are 405 with Allow', async () => {
    const head = await app.inject({ method: 'HEAD', url: '/healthz' });
    assert.equal(head.statusCode, 200);
    assert.equal(head.body, '');
    const post = await app.inject({ method: 'POST', url: '/healthz', payload: { a: 1 } });
    assertApiError(post, 405, 'method_not_allowed', 'POST is not allowed here: this endpoint is read-only (GET or HEAD)');
    assert.equal(post.headers.allow, 'GET, HEAD');
  });
});
