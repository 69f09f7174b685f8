// reportingStarts (src/fleet/report-starts.ts) with fake transports: one start per host, retries
// are not starts, and every call still reaches the real transport.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { reportingStarts } from '../../src/fleet/report-starts.js';
import type { RunOptions, RunOutcome, Transport } from '../../src/fleet/transport.js';
import type { Host } from '../../src/model.js';
import { hostsFromCsv } from '../helpers/fleet.js';

// A fake transport: records what it is asked to run and answers a fixed outcome.
function fakeTransport(name: string, calls: string[]): Transport {
  const outcome: RunOutcome = { ok: true, stdout: name, stderr: '', exitCode: 0, truncated: false };
  return {
    run: (host: Host) => {
      calls.push(`${name} ${host.name}`);
      return Promise.resolve(outcome);
    },
    close: () => {
      calls.push(`${name} closed`);
      return Promise.resolve();
    },
  };
}

describe('reportingStarts with fake transports', () => {
  it('reports each host once, at its first attempt, and passes every run through', async () => {
    const calls: string[] = [];
    const started: string[] = [];
    const wrapped = reportingStarts(
      { local: fakeTransport('local', calls), ssh: fakeTransport('ssh', calls), winrm: fakeTransport('winrm', calls), push: fakeTransport('push', calls) },
      (host) => started.push(host.name),
    );
    const [a, b, w] = hostsFromCsv('name,address,transport,os\na,10.0.0.1,ssh,linux\nb,,local,linux\nw,10.0.0.3,winrm,windows\n');
    assert.ok(a !== undefined && b !== undefined && w !== undefined);
    const options: RunOptions = { script: 'x', signal: new AbortController().signal, maxOutputBytes: 1024 };
    const first = await wrapped.ssh.run(a, options);
    assert.deepEqual(first, { ok: true, stdout: 'ssh', stderr: '', exitCode: 0, truncated: false });
    await wrapped.ssh.run(a, options); // a retry
    await wrapped.local.run(b, options);
    await wrapped.winrm.run(w, options);
    assert.deepEqual(started, ['a', 'b', 'w']);
    assert.deepEqual(calls, ['ssh a', 'ssh a', 'local b', 'winrm w']);
    await wrapped.ssh.close();
    assert.equal(calls.at(-1), 'ssh closed');
  });

  it('keeps a transport\'s gatesCpu, so the fan-out still frees the CPU slot while an SSH host waits', () => {
    const calls: string[] = [];
    const ssh: Transport = { ...fakeTransport('ssh', calls), gatesCpu: true };
    const wrapped = reportingStarts({ local: fakeTransport('local', calls), ssh, winrm: fakeTransport('winrm', calls), push: fakeTransport('push', calls) }, () => {});
    assert.equal(wrapped.ssh.gatesCpu, true);
    assert.equal(wrapped.local.gatesCpu, undefined);
  });
});
