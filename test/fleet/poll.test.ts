// The poll loop (src/fleet/poll.ts) against FAKE transports: retries, backoff, deadlines, the CPU
// and connection budgets. No sshd needed; the real transports are tested in ssh.test.ts & co.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { pollFleet, pollHost, defaultMaxConnections, type PollOptions } from '../../src/fleet/poll.js';
import { failure, type RunOptions, type RunOutcome, type Transport } from '../../src/fleet/transport.js';
import type { Host, PollResult } from '../../src/model.js';
import { silentLog, type Log } from '../../src/log.js';
import { FAILURE_LINES_PER_CYCLE } from '../../src/fleet/failure-lines.js';
import { hostsFromCsv } from '../helpers/fleet.js';
import { warningLog, type Warning } from '../helpers/warning-log.js';

const PROBE_OUTPUT = readFileSync(new URL('../../../test/fixtures/probe/debian12-dash/output.txt', import.meta.url), 'utf8');
const OK: RunOutcome = { ok: true, stdout: PROBE_OUTPUT, stderr: '', exitCode: 0, truncated: false };
const REFUSED = (): RunOutcome => failure('unreachable', 'connect', 'connection refused on port 22 (no sshd listening?)', true);

// A fake transport: each call runs `behave` and is recorded with its start time.
class FakeTransport implements Transport {
  readonly calls: { host: string; atMs: number }[] = [];
  private readonly t0 = performance.now();
  constructor(
    private readonly behave: (host: Host, run: RunOptions, call: number) => Promise<RunOutcome>,
    readonly gatesCpu = false,
  ) {}
  run(host: Host, run: RunOptions): Promise<RunOutcome> {
    const call = this.calls.filter((c) => c.host === host.name).length;
    this.calls.push({ host: host.name, atMs: performance.now() - this.t0 });
    return this.behave(host, run, call);
  }
  async close(): Promise<void> {}
}

function hosts(count: number, prefix = 'h'): Host[] {
  const rows = Array.from({ length: count }, (_, i) => `${prefix}${i},10.0.0.${i + 1},local`);
  return hostsFromCsv(`name,address,transport\n${rows.join('\n')}\n`);
}

function options(transport: Transport, overrides: Partial<PollOptions> = {}): PollOptions {
  return {
    transports: { local: transport, ssh: transport, winrm: transport, push: transport },
    scripts: { linux: 'probe', windows: 'probe' },
    concurrency: 5,
    timeoutMs: 5000,
    maxOutputBytes: 1024 * 1024,
    retries: 1,
    retryBackoffMs: 50,
    log: silentLog,
    ...overrides,
  };
}

// Resolves after `ms`, or with a timeout outcome when the run's deadline passes first.
function waitOrDeadline(run: RunOptions, ms: number, then: () => RunOutcome): Promise<RunOutcome> {
  return new Promise((resolveRun) => {
    const timer = setTimeout(() => {
      run.signal.removeEventListener('abort', onAbort);
      resolveRun(then());
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      resolveRun(failure('timeout', 'handshake', 'no SSH handshake before the deadline'));
    };
    if (run.signal.aborted) onAbort();
    else run.signal.addEventListener('abort', onAbort, { once: true });
  });
}

const status = (r: PollResult): string => (r.status === 'ok' ? 'ok' : `${r.status} (${r.phase}: ${r.error})`);

describe('poll loop with a fake transport', () => {
  it('fake transport: a cycle names its first failed hosts in the run log and counts the rest in one line', async () => {
    const warnings: Warning[] = [];
    const log = (): Log => warningLog(warnings);
    const fake = new FakeTransport(async () => failure('unreachable', 'connect', 'connection refused', false));
    const count = FAILURE_LINES_PER_CYCLE + 50;
    const results = await pollFleet(hosts(count), options(fake, { log: log() }));
    assert.equal(results.length, count, 'every host still gets its result');
    assert.ok(results.every((r) => r.status === 'unreachable'));
    const named = warnings.filter((w) => w.host !== undefined);
    assert.equal(named.length, FAILURE_LINES_PER_CYCLE);
    assert.ok(named.every((w) => w.message === 'unreachable during connect'));
    const counted = warnings.filter((w) => w.host === undefined);
    assert.equal(counted.length, 1);
    assert.match(counted[0]!.message, /^50 more failed hosts not named one by one/);
  });

  it('fake transport: a transient error is retried and the retry answer counts', async () => {
    const fake = new FakeTransport(async (_h, _r, call) => (call === 0 ? REFUSED() : OK));
    const [host] = hosts(1);
    const result = await pollHost(host!, options(fake));
    assert.equal(status(result), 'ok');
    assert.equal(result.attempts, 2);
    assert.equal(fake.calls.length, 2);
    assert.ok(fake.calls[1]!.atMs - fake.calls[0]!.atMs >= 45, 'the retry waited its backoff');
  });

  it('fake transport: the backoff doubles and stops growing at the cap', async () => {
    const fake = new FakeTransport(async () => REFUSED());
    const [host] = hosts(1);
    const result = await pollHost(host!, options(fake, { retries: 4, retryBackoffMs: 100, maxRetryBackoffMs: 250, timeoutMs: 20_000 }));
    assert.equal(result.status, 'unreachable');
    assert.equal(result.attempts, 5);
    const gaps = fake.calls.slice(1).map((c, i) => c.atMs - fake.calls[i]!.atMs);
    // 100, 200, then capped at 250 (not 400, 800): about 800 ms in all instead of 1,500.
    const expected = [100, 200, 250, 250];
    gaps.forEach((gap, i) => assert.ok(gap >= expected[i]! - 5, `gap ${i} was ${gap.toFixed(0)} ms, expected at least ${expected[i]}`));
    const totalMs = gaps.reduce((a, b) => a + b, 0);
    assert.ok(totalMs < 1400, `the backoffs took ${totalMs.toFixed(0)} ms in all: the cap did not hold`);
  });

  it('fake transport: an auth failure is never retried (account lockout)', async () => {
    const fake = new FakeTransport(async () => failure('auth_failed', 'auth', 'authentication failed (all offered methods were refused)'));
    const [host] = hosts(1);
    const result = await pollHost(host!, options(fake, { retries: 5 }));
    assert.equal(result.status, 'auth_failed');
    assert.equal(result.attempts, 1);
    assert.equal(fake.calls.length, 1);
  });

  it('fake transport: a host that never answers gets its timeout row at the deadline', async () => {
    const fake = new FakeTransport((_h, run) => waitOrDeadline(run, 60_000, () => OK));
    const [host] = hosts(1);
    const started = performance.now();
    const result = await pollHost(host!, options(fake, { timeoutMs: 300 }));
    const tookMs = performance.now() - started;
    assert.equal(result.status, 'timeout');
    assert.ok(tookMs >= 290 && tookMs < 2000, `took ${tookMs.toFixed(0)} ms for a 300 ms deadline`);
  });

  it('fake transport: a retry that cannot fit in the deadline is not attempted', async () => {
    const fake = new FakeTransport(async () => REFUSED());
    const [host] = hosts(1);
    const result = await pollHost(host!, options(fake, { timeoutMs: 1000, retryBackoffMs: 800, retries: 3 }));
    assert.equal(result.status, 'unreachable');
    assert.equal(result.attempts, 1);
  });

  it('fake transport: a transport that throws costs that host a probe_error, not the cycle', async () => {
    const fake = new FakeTransport(async (host) => {
      if (host.name === 'h1') throw new Error('bug in the transport');
      return OK;
    });
    const results = await pollFleet(hosts(3), options(fake));
    assert.deepEqual(results.map((r) => r.status), ['ok', 'probe_error', 'ok']);
    const broken = results[1]!;
    assert.ok(broken.status !== 'ok' && /internal error: bug in the transport/.test(broken.error));
  });

  it('fake transport: a transport that holds the CPU slot for its whole run is bounded by concurrency', async () => {
    let running = 0;
    let peak = 0;
    const fake = new FakeTransport(async () => {
      running += 1;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 20));
      running -= 1;
      return OK;
    });
    const results = await pollFleet(hosts(30), options(fake, { concurrency: 3 }));
    assert.ok(results.every((r) => r.status === 'ok'));
    assert.equal(peak, 3);
  });

  it('fake transport: hosts waiting on the network hold no CPU slot; CPU phases stay within concurrency', async () => {
    // 50 "silent" hosts wait on the network until the deadline; 20 healthy ones need the CPU briefly.
    let inCpu = 0;
    let peakCpu = 0;
    const doneAt = new Map<string, number>();
    const t0 = performance.now();
    const fake = new FakeTransport(async (host, run) => {
      if (host.name.startsWith('silent')) return waitOrDeadline(run, 60_000, () => OK);
      await new Promise((r) => setTimeout(r, 10)); // TCP + banner
      const grant = await run.cpu!.acquire();
      if (!grant.ok) return failure('timeout', 'handshake', grant.error);
      inCpu += 1;
      peakCpu = Math.max(peakCpu, inCpu);
      await new Promise((r) => setTimeout(r, 15)); // key exchange + auth
      inCpu -= 1;
      run.cpu!.release();
      const outcome = await waitOrDeadline(run, 50, () => OK); // the probe's window
      doneAt.set(host.name, performance.now() - t0);
      return outcome;
    }, true);
    const fleet = [...hosts(50, 'silent'), ...hosts(20, 'ok')];
    const results = await pollFleet(fleet, options(fake, { concurrency: 5, timeoutMs: 1500 }));
    const wallMs = performance.now() - t0;
    assert.deepEqual(new Set(results.slice(0, 50).map((r) => r.status)), new Set(['timeout']));
    assert.deepEqual(new Set(results.slice(50).map((r) => r.status)), new Set(['ok']));
    assert.ok(peakCpu <= 5, `peak ${peakCpu} hosts in a CPU phase at concurrency 5`);
    const lastHealthy = Math.max(...doneAt.values());
    assert.ok(lastHealthy < 1400, `healthy hosts finished at ${lastHealthy.toFixed(0)} ms, while the silent ones still waited`);
    assert.ok(wallMs < 1500 + 1500, `cycle took ${wallMs.toFixed(0)} ms for a 1.5 s deadline`);
  });

  it('fake transport: a retry backoff holds no slot, so healthy hosts are not delayed by it', async () => {
    const doneAt = new Map<string, number>();
    const t0 = performance.now();
    const fake = new FakeTransport(async (host, _run, call) => {
      if (host.name === 'r0' && call === 0) return REFUSED();
      doneAt.set(host.name, performance.now() - t0);
      return OK;
    });
    const fleet = [...hosts(1, 'r'), ...hosts(5, 'ok')];
    const results = await pollFleet(fleet, options(fake, { concurrency: 1, retryBackoffMs: 800, timeoutMs: 5000 }));
    assert.ok(results.every((r) => r.status === 'ok'), results.map(status).join('; '));
    for (let i = 0; i < 5; i += 1) assert.ok(doneAt.get(`ok${i}`)! < 600, `ok${i} finished at ${doneAt.get(`ok${i}`)!.toFixed(0)} ms, during r0's 800 ms backoff`);
    assert.ok(doneAt.get('r0')! >= 790);
  });

  it('fake transport: hosts beyond the connection limit wait their turn, and their deadline starts then', async () => {
    let open = 0;
    let peakOpen = 0;
    const fake = new FakeTransport(async (_h, run) => {
      open += 1;
      peakOpen = Math.max(peakOpen, open);
      const outcome = await waitOrDeadline(run, 100, () => OK);
      open -= 1;
      return outcome;
    }, true);
    // 20 hosts of 100 ms each through 4 connections take ~500 ms; a 300 ms deadline still suffices.
    const results = await pollFleet(hosts(20), options(fake, { maxConnections: 4, timeoutMs: 300 }));
    assert.ok(results.every((r) => r.status === 'ok'), results.map(status).join('; '));
    assert.equal(peakOpen, 4);
  });

  it('fake transport: hosts past their banner (session running) are bounded by maxSessions, not by concurrency', async () => {
    let inSession = 0;
    let peakSession = 0;
    const fake = new FakeTransport(async (_h, run) => {
      const grant = await run.cpu!.acquire();
      if (!grant.ok) return failure('timeout', 'handshake', grant.error);
      inSession += 1;
      peakSession = Math.max(peakSession, inSession);
      run.cpu!.release(); // authenticated: the probe's window holds no CPU slot
      const outcome = await waitOrDeadline(run, 100, () => OK);
      inSession -= 1;
      return outcome;
    }, true);
    const results = await pollFleet(hosts(30), options(fake, { concurrency: 2, maxSessions: 6, timeoutMs: 3000 }));
    assert.ok(results.every((r) => r.status === 'ok'), results.map(status).join('; '));
    assert.equal(peakSession, 6, 'more sessions than CPU slots, and no more than maxSessions');
  });

  it('fake transport: a host starts just before its booked connection, not seconds ahead, and a retry does not queue behind every later first attempt', async () => {
    // 40 refused hosts at 20 starts a second: first attempts every 50 ms over 2 s.
    const startedAtMs = new Map<string, number>();
    const connectedAtMs: { host: string; atMs: number }[] = [];
    const t0 = performance.now();
    const fake = new FakeTransport(async (host, run) => {
      if (!startedAtMs.has(host.name)) startedAtMs.set(host.name, performance.now() - t0);
      await run.start?.wait();
      connectedAtMs.push({ host: host.name, atMs: performance.now() - t0 });
      return REFUSED();
    }, true);
    const results = await pollFleet(hosts(40), options(fake, { startsPerSecond: 20, retryBackoffMs: 100, timeoutMs: 10_000 }));
    assert.deepEqual(results.map((r) => r.attempts), Array(40).fill(2));
    // The last host is booked about 1.95 s out; it starts (deadline, attempt) about START_LEAD_MS before that.
    const lastStartMs = startedAtMs.get('h39') ?? 0;
    assert.ok(lastStartMs > 1500, `the last host started at ${lastStartMs.toFixed(0)} ms, long before its turn (~1950 ms)`);
    // h0's retry (after its 100 ms backoff) gets the next free turn, not one after all 40 first attempts (~2 s).
    const h0Retry = connectedAtMs.filter((c) => c.host === 'h0')[1]?.atMs ?? Infinity;
    assert.ok(h0Retry < 1000, `h0's retry connected at ${h0Retry.toFixed(0)} ms: queued behind the later hosts' first attempts`);
    // The pace still holds: 80 connections at 20 a second take about 4 s.
    const lastMs = Math.max(...connectedAtMs.map((c) => c.atMs));
    assert.ok(lastMs > 3500, `80 connections at 20 a second ended at ${lastMs.toFixed(0)} ms`);
  });

  it('fake transport: an onResult that throws rejects the poll with its error, while later hosts are still starting', async () => {
    const fake = new FakeTransport(async () => OK);
    const polling = pollFleet(hosts(30), options(fake, { startsPerSecond: 100, onResult: (r) => {
      if (r.host.name === 'h0') throw new Error('progress line broke');
    } }));
    await assert.rejects(polling, /progress line broke/);
  });

  it('defaultMaxConnections: the open-files limit minus a reserve, within bounds', () => {
    assert.equal(defaultMaxConnections(50, 1024), 1024 - 256 - 50);
    assert.equal(defaultMaxConnections(50, 1_048_576), 2048);
    assert.equal(defaultMaxConnections(50, 256), 50);
  });
});
