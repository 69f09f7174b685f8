// ServiceSignals and stoppable (src/serve/stop.ts): a fake signal source (an EventEmitter) and a fake
// exiter stand in for the process; the real thing is exercised by test/serve/command.test.ts.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import type { RunOptions, Transport } from '../../src/fleet/transport.js';
import { ServiceSignals, stoppable } from '../../src/serve/stop.js';
import { hostsFromCsv } from '../helpers/fleet.js';

describe('ServiceSignals with a fake signal source', () => {
  it('first SIGTERM aborts stop, the second exits at once; SIGHUP asks for one reload', () => {
    const source = new EventEmitter();
    const exits: string[] = [];
    const events: string[] = [];
    const signals = new ServiceSignals((m) => events.push(m), { exitNow: (s) => exits.push(s) });
    signals.install(source as never);
    source.emit('SIGHUP', 'SIGHUP');
    assert.equal(signals.takeReload(), true);
    assert.equal(signals.takeReload(), false);
    assert.equal(signals.stop.aborted, false);
    source.emit('SIGTERM', 'SIGTERM');
    assert.equal(signals.stop.aborted, true);
    assert.equal(signals.stoppedBy, 'SIGTERM');
    assert.deepEqual(exits, []);
    source.emit('SIGINT', 'SIGINT');
    assert.deepEqual(exits, ['SIGINT']);
    assert.match(events.join('\n'), /SIGTERM: stopping; the running cycle ends within its deadline/);
    signals.dispose();
    assert.equal(source.listenerCount('SIGTERM'), 0);
  });
});

describe('stoppable with a fake transport', () => {
  it('aborts a running host when the hard stop fires, and keeps gatesCpu', async () => {
    const fake: Transport = {
      gatesCpu: true,
      run: (_host, options: RunOptions) =>
        new Promise((resolveRun) => {
          options.signal.addEventListener('abort', () => resolveRun({ ok: false, status: 'timeout', phase: 'exec', error: 'aborted', retryable: false }));
        }),
      close: () => Promise.resolve(),
    };
    const hard = new AbortController();
    const wrapped = stoppable({ local: fake, ssh: fake, winrm: fake, push: fake }, hard.signal);
    assert.equal(wrapped.ssh.gatesCpu, true);
    const [host] = hostsFromCsv('name,address,transport\nh,,local\n');
    const run = wrapped.local.run(host!, { script: 's', signal: new AbortController().signal, maxOutputBytes: 1 });
    hard.abort();
    assert.deepEqual(await run, { ok: false, status: 'timeout', phase: 'exec', error: 'aborted', retryable: false });
  });
});
