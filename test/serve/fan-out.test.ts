// spreadFanOut (src/serve/fan-out.ts) with fake transports (the unit seam): each host starts at its
// offset after the tick, results come in inventory order, and a stop leaves unstarted hosts out.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FAILURE_LINES_PER_CYCLE } from '../../src/fleet/failure-lines.js';
import { failure, type RunOutcome, type Transport } from '../../src/fleet/transport.js';
import type { Host } from '../../src/model.js';
import { silentLog, type Log } from '../../src/log.js';
import { spreadFanOut } from '../../src/serve/fan-out.js';
import { hostsFromCsv } from '../helpers/fleet.js';
import { warningLog, type Warning } from '../helpers/warning-log.js';

const PROBE = 'fleetpoll-probe\t1\nhost\tfake\nos\tlinux\t6.1\tFake\nuptime\t100\ncpu\t2\t10.0\nmem\t1000\t500\t400\t0\t0\nend\n';

// A fake transport that answers a canned probe and notes when each host started.
function fakeTransport(starts: Map<string, number>): Transport {
  return {
    run: (host: Host) => {
      starts.set(host.name, Date.now());
      const outcome: RunOutcome = { ok: true, stdout: PROBE, stderr: '', exitCode: 0, truncated: false };
      return Promise.resolve(outcome);
    },
    close: () => Promise.resolve(),
  };
}

function options(transport: Transport) {
  return {
    transports: { local: transport, ssh: transport, winrm: transport, push: transport },
    scripts: { linux: 'probe', windows: 'probe' },
    concurrency: 4,
    timeoutMs: 5000,
    maxOutputBytes: 1 << 20,
    retries: 0,
    retryBackoffMs: 0,
    log: silentLog,
  };
}

describe('spreadFanOut with fake transports', () => {
  it('fake transport: names its first failed hosts in the run log and counts the rest in one line, as poll does', async () => {
    const warnings: Warning[] = [];
    const log = (): Log => warningLog(warnings);
    const count = FAILURE_LINES_PER_CYCLE + 30;
    const csv = `name,address,transport\n${Array.from({ length: count }, (_, i) => `down-${i},,local`).join('\n')}\n`;
    const refused: Transport = { run: () => Promise.resolve(failure('unreachable', 'connect', 'connection refused')), close: () => Promise.resolve() };
    const fanOut = spreadFanOut({ tickMs: Date.now(), offsetMs: () => 0 }, new AbortController().signal);
    const { results } = await fanOut(hostsFromCsv(csv), { ...options(refused), log: log() });
    assert.equal(results.length, count, 'every host still gets its row');
    assert.equal(warnings.filter((w) => w.host !== undefined).length, FAILURE_LINES_PER_CYCLE);
    const counted = warnings.filter((w) => w.host === undefined);
    assert.equal(counted.length, 1);
    assert.match(counted[0]!.message, /^30 more failed hosts not named one by one/);
  });

  it('starts each host at tick + its offset, and returns every result in inventory order', async () => {
    const hosts = hostsFromCsv('name,address,transport\na,,local\nb,,local\nc,,local\n');
    const offsets: Record<string, number> = { a: 600, b: 0, c: 300 };
    const starts = new Map<string, number>();
    const tickMs = Date.now();
    const fanOut = spreadFanOut({ tickMs, offsetMs: (h) => offsets[h.name]! }, new AbortController().signal);
    const { results, notStarted } = await fanOut(hosts, options(fakeTransport(starts)));
    assert.deepEqual(results.map((r) => [r.host.name, r.status]), [['a', 'ok'], ['b', 'ok'], ['c', 'ok']]);
    assert.equal(notStarted.size, 0);
    for (const [name, offset] of Object.entries(offsets)) {
      const at = starts.get(name)! - tickMs;
      // Never early; late by at most a loaded machine's margin.
      assert.ok(at >= offset - 5 && at < offset + 2000, `${name} started at +${at} ms, offset ${offset}`);
    }
  });

  it('a stop before a host starts leaves it out (carried over), hosts already done keep their rows', async () => {
    const hosts = hostsFromCsv('name,address,transport\nnow,,local\nlater,,local\n');
    const starts = new Map<string, number>();
    const stop = new AbortController();
    const fanOut = spreadFanOut({ tickMs: Date.now(), offsetMs: (h) => (h.name === 'now' ? 0 : 60_000) }, stop.signal);
    const running = fanOut(hosts, options(fakeTransport(starts)));
    setTimeout(() => stop.abort(), 200);
    const startedAt = Date.now();
    const { results, notStarted } = await running;
    assert.ok(Date.now() - startedAt < 5000, 'the stop does not wait for the 60 s offset');
    assert.deepEqual(results.map((r) => r.host.name), ['now']);
    assert.deepEqual([...notStarted], ['later']);
    assert.equal(starts.has('later'), false);
  });
});
