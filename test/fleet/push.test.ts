// The push transport (src/fleet/push.ts) over a real spool directory: never pushed, a fresh push handed
// over as probe output, a push older than the interval plus grace a timeout row, a damaged spool file a
// probe_error. The clock is pinned.
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { PushTransport } from '../../src/fleet/push.js';
import type { Host } from '../../src/model.js';
import { spoolFile, writeSpool } from '../../src/push/spool.js';

const dir = mkdtempSync(join(tmpdir(), 'fleetpoll-push-transport-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const NOW_MS = Date.UTC(2026, 11, 4, 12, 0, 0);
const host = (name: string): Host => ({ name, address: name, transport: 'push', port: 22, user: 'x', auth: { kind: 'default' }, os: 'linux', tags: [], enabled: true, line: 2, extra: {}, push: { intervalSeconds: 300 } });
const run = (transport: PushTransport, name: string, maxOutputBytes = 1024 * 1024) => transport.run(host(name), { script: '', signal: new AbortController().signal, maxOutputBytes });

describe('PushTransport', () => {
  const transport = new PushTransport({ dataDir: dir, graceSeconds: 60, nowMs: () => NOW_MS });

  it('never pushed: a timeout row that says so', async () => {
    const outcome = await run(transport, 'dmz01');
    assert.deepEqual(outcome.ok === false && [outcome.status, outcome.phase, outcome.error], ['timeout', 'read', 'never pushed: no push received from this host yet (docs/push.md)']);
  });

  it('a push within interval + grace is the probe output; older is timeout "no push since"', async () => {
    await writeSpool(dir, { host: 'dmz01', sampleAtSec: NOW_MS / 1000 - 361, receivedAtMs: NOW_MS - 360_000, body: 'fleetpoll-probe\t1\nend\n' });
    assert.deepEqual(await run(transport, 'dmz01'), { ok: true, stdout: 'fleetpoll-probe\t1\nend\n', stderr: '', exitCode: 0, truncated: false });
    assert.deepEqual(await run(transport, 'DMZ01'), await run(transport, 'dmz01'), 'names match case-insensitively');
    await writeSpool(dir, { host: 'dmz01', sampleAtSec: NOW_MS / 1000 - 362, receivedAtMs: NOW_MS - 360_001, body: 'fleetpoll-probe\t1\nend\n' });
    const outcome = await run(transport, 'dmz01');
    assert.deepEqual(outcome.ok === false && [outcome.status, outcome.error], ['timeout', 'no push since 2026-12-04 11:53:59 UTC (interval 300 s)']);
  });

  it('a push larger than poll.maxOutputMB now allows, or a damaged file: probe_error naming the file', async () => {
    await writeSpool(dir, { host: 'big', sampleAtSec: NOW_MS / 1000, receivedAtMs: NOW_MS, body: 'x'.repeat(2000) });
    const big = await run(transport, 'big', 1000);
    assert.deepEqual(big.ok === false && [big.status, big.error], ['probe_error', 'the last push is larger than poll.maxOutputMB allows now']);
    mkdirSync(join(dir, 'push'), { recursive: true });
    writeFileSync(spoolFile(dir, 'bad:01'), '{"host": 1');
    const bad = await run(transport, 'bad:01');
    assert.deepEqual(bad.ok === false && [bad.status, bad.error], ['probe_error', `the last push cannot be read: ${join(dir, 'push', 'bad%3a01.json')}: is not valid JSON (edited by hand?); the next accepted push replaces it`]);
  });
});
