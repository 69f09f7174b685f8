// Warm SSH connections (src/fleet/ssh-connections.ts through the SSH transport's warm mode) against
// real OpenSSH sshd on loopback (127.88.x.x): one connection for many runs, a killed connection,
// a host key changed between runs, max-age recycling, forget(), one exec at a time per host.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { KnownHosts } from '../../src/fleet/known-hosts.js';
import { ConnectionPool } from '../../src/fleet/ssh-connections.js';
import { pollFleet } from '../../src/fleet/poll.js';
import { DEFAULT_WARM_SETTINGS, knownHostsPolicy, SshTransport, type WarmSettings } from '../../src/fleet/ssh.js';
import { failure, type RunOutcome } from '../../src/fleet/transport.js';
import type { Host } from '../../src/model.js';
import { silentLog } from '../../src/log.js';
import { configProblems } from '../helpers/config.js';
import { hostsFromCsv, pollOptions, writeKnownHosts } from '../helpers/fleet.js';
import { ensureTestUser, makeKeys, missingTool, pickPort, removeKeys, SSHD, startSshd, TEST_USER, type Sshd, type SshdKeys } from '../helpers/sshd.js';

const skip = missingTool(SSHD);

const A = {
  many: '127.88.0.1',
  kill: '127.88.0.2',
  rekey: '127.88.0.3',
  age: '127.88.0.4',
  forget: '127.88.0.5',
  serial: '127.88.0.6',
  killMid: '127.88.0.7',
  frozen: '127.88.0.8',
};
// A canned protocol answer: what the transport does is under test, not the probe.
const CANNED = "printf 'fleetpoll-probe\\t1\\nhost\\tcanned\\nend\\n'\n";
const sleepy = (seconds: number): string => `sleep ${seconds}\n${CANNED}`;

// Client ports of the connections sshd accepted and authenticated on `address` (LogLevel VERBOSE:
// "Connection from C port P on A port Q", then "Accepted publickey for U from C port P"); the
// readiness check of startSshd connects too, but never logs in.
function connectionsTo(sshd: Sshd, address: string): string[] {
  const log = sshd.log();
  const re = new RegExp(`Connection from \\S+ port (\\d+) on ${address.replace(/\./g, '\\.')} port`, 'g');
  return [...log.matchAll(re)].map((m) => m[1] ?? '').filter((p) => new RegExp(`Accepted publickey for \\S+ from \\S+ port ${p} `).test(log));
}

// Sessions sshd started for the connection from `clientPort` ("Starting session: command for U from C port P id N").
function sessionsOf(sshd: Sshd, clientPort: string): number {
  return sshd.log().split('\n').filter((l) => l.includes('Starting session:') && l.includes(` port ${clientPort} `)).length;
}

// The per-connection sshd processes (children of the listening sshd) and everything under them.
function connectionTree(masterPid: number): number[] {
  const children = (pid: number): number[] => {
    try {
      return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
    } catch {
      return [];
    }
  };
  const out: number[] = [];
  const walk = (pid: number): void => {
    for (const c of children(pid)) {
      out.push(c);
      walk(c);
    }
  };
  walk(masterPid);
  return out;
}

function killTree(masterPid: number): number {
  const pids = connectionTree(masterPid);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  return pids.length;
}

async function until(what: string, check: () => boolean, limitMs = 10_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!check()) {
    if (Date.now() > end) assert.fail(`timed out waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function expectOk(outcome: RunOutcome): void {
  assert.equal(outcome.ok, true, outcome.ok ? '' : `${outcome.status} during ${outcome.phase}: ${outcome.error}`);
}

describe('warm SSH connections against a real sshd', { skip: skip ?? false }, () => {
  let keys: SshdKeys;
  let otherKeys: SshdKeys;
  const port = pickPort(88);
  let main: Sshd;
  const extra: Sshd[] = [];
  let knownHostsPath: string;
  let scratch: string;

  before(async () => {
    ensureTestUser();
    keys = makeKeys('fleetpoll-warm-');
    otherKeys = makeKeys('fleetpoll-warm-other-');
    scratch = mkdtempSync(join(tmpdir(), 'fleetpoll-warm-kh-'));
    main = await startSshd({ addresses: [A.many, A.age, A.forget, A.serial], port, keys });
    const lines = [...main.knownHostsLines()];
    for (const address of [A.kill, A.rekey, A.killMid, A.frozen]) {
      const one = await startSshd({ addresses: [address], port, keys });
      extra.push(one);
      lines.push(...one.knownHostsLines());
    }
    knownHostsPath = writeKnownHosts(scratch, lines);
  });

  after(async () => {
    await Promise.all([main, ...extra].map(async (s) => {
      if (s === undefined) return;
      killTree(s.pid);
      await s.stop();
    }));
    if (keys !== undefined) removeKeys(keys);
    if (otherKeys !== undefined) removeKeys(otherKeys);
    if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
  });

  const host = (name: string, address: string): Host => hostsFromCsv(`name,address,transport,port,user,auth,os\n${name},${address},ssh,${port},${TEST_USER},key:${keys.clientKeyPath},linux\n`)[0] as Host;

  async function warmTransport(settings: Partial<WarmSettings> = {}): Promise<SshTransport> {
    const knownHosts = new KnownHosts({ mode: 'strict', userFile: knownHostsPath, systemFile: null });
    await knownHosts.load();
    return new SshTransport({
      hostKeys: knownHostsPolicy(knownHosts, silentLog),
      identityPath: null,
      passphrase: undefined,
      env: process.env,
      resolveKeyPath: (p) => p,
      log: silentLog,
      warm: { ...DEFAULT_WARM_SETTINGS, ...settings },
    });
  }

  const runOnce = (transport: SshTransport, h: Host, script = CANNED, timeoutMs = 15_000): Promise<RunOutcome> =>
    transport.run(h, { script, signal: AbortSignal.timeout(timeoutMs), maxOutputBytes: 1024 * 1024 });

  it('keeps one connection across three poll cycles: sshd sees one connection and three sessions', async () => {
    const options = await pollOptions({ knownHostsPath, timeoutMs: 20_000 });
    const transport = await warmTransport();
    const hosts = hostsFromCsv(`name,address,transport,port,user,auth,os\nmany,${A.many},ssh,${port},${TEST_USER},key:${keys.clientKeyPath},linux\n`);
    try {
      for (let cycle = 0; cycle < 3; cycle += 1) {
        const [result] = await pollFleet(hosts, { ...options, transports: { ...options.transports, ssh: transport } });
        assert.equal(result?.status, 'ok', result?.status === 'ok' ? '' : `${result?.phase}: ${result?.error}`);
      }
      const connections = connectionsTo(main, A.many);
      assert.equal(connections.length, 1, `sshd log shows ${connections.length} connections`);
      await until('sshd logged three sessions', () => sessionsOf(main, connections[0] ?? '') === 3);
      assert.deepEqual(transport.connectionStats(), { open: 1, connects: 1, reconnects: 0, recycled: 0, dropped: 0, inBackoff: 0 });
    } finally {
      await transport.close();
    }
    assert.equal(transport.connectionStats().open, 0);
  });

  it('a per-connection sshd killed between runs is noticed; the next run reconnects at once and is ok', async () => {
    const sshd = extra[0] as Sshd;
    const transport = await warmTransport();
    const h = host('kill', A.kill);
    try {
      expectOk(await runOnce(transport, h));
      assert.ok(killTree(sshd.pid) > 0, 'no per-connection sshd process found');
      await until('the pool noticed the dead connection', () => transport.connectionStats().open === 0);
      expectOk(await runOnce(transport, h));
      assert.equal(connectionsTo(sshd, A.kill).length, 2);
      const stats = transport.connectionStats();
      assert.equal(stats.dropped, 1);
      assert.equal(stats.reconnects, 1);
      assert.equal(stats.open, 1);
    } finally {
      await transport.close();
    }
  });

  it('a per-connection sshd killed during a probe costs that run one unreachable row, then the next run reconnects', async () => {
    const sshd = extra[2] as Sshd;
    const transport = await warmTransport();
    const h = host('killmid', A.killMid);
    try {
      expectOk(await runOnce(transport, h));
      // A long sleep: on a loaded machine the probe must still be running when the kill comes (the kill ends it early).
      const running = runOnce(transport, h, sleepy(12), 30_000);
      // The probe's `sleep` runs under the connection's sshd processes once the session started.
      await until('the probe is running', () => connectionTree(sshd.pid).length >= 3);
      await new Promise((r) => setTimeout(r, 300));
      killTree(sshd.pid);
      const outcome = await running;
      assert.equal(outcome.ok, false);
      if (!outcome.ok) {
        assert.ok(outcome.status === 'unreachable' || outcome.status === 'timeout', `${outcome.status}: ${outcome.error}`);
        assert.equal(outcome.retryable, false, 'the probe had started: no retry of a half-run probe');
      }
      expectOk(await runOnce(transport, h));
      assert.equal(connectionsTo(sshd, A.killMid).length, 2);
      assert.equal(transport.connectionStats().reconnects, 1);
    } finally {
      await transport.close();
    }
  });

  it('a host key changed between runs is host_key_mismatch, and stays so while the host is in backoff', async () => {
    const transport = await warmTransport({ backoffBaseMs: 60_000 });
    const h = host('rekey', A.rekey);
    try {
      expectOk(await runOnce(transport, h));
      const old = extra[1] as Sshd;
      killTree(old.pid);
      await old.stop();
      await until('the pool noticed the dead connection', () => transport.connectionStats().open === 0);
      // Same address and port, same client key accepted, a new host key.
      const rekeyed = await startSshd({ addresses: [A.rekey], port, keys: { ...keys, hostKeyPath: otherKeys.hostKeyPath, hostPublicKey: otherKeys.hostPublicKey } });
      extra[1] = rekeyed;
      const outcome = await runOnce(transport, h);
      assert.equal(outcome.ok, false);
      if (!outcome.ok) {
        assert.equal(outcome.status, 'host_key_mismatch', `${outcome.phase}: ${outcome.error}`);
        assert.match(outcome.error, /changed|does not match|mismatch/i);
      }
      // Within the backoff the host is not dialled again, and its row still says what is wrong.
      const connections = connectionsTo(rekeyed, A.rekey).length;
      const again = await runOnce(transport, h);
      assert.equal(again.ok, false);
      if (!again.ok) {
        assert.equal(again.status, 'host_key_mismatch');
        assert.match(again.error, /^reconnect after failure at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d, next try at .*: /);
      }
      assert.equal(connectionsTo(rekeyed, A.rekey).length, connections, 'not dialled during the backoff');
      assert.equal(transport.connectionStats().inBackoff, 1);
    } finally {
      await transport.close();
    }
  });

  it('keepalives notice a peer that stopped answering between runs; the next run reconnects', async () => {
    const sshd = extra[3] as Sshd;
    const transport = await warmTransport({ keepaliveMs: 300, keepaliveCountMax: 2 });
    const h = host('frozen', A.frozen);
    let frozen: number[] = [];
    try {
      expectOk(await runOnce(transport, h));
      // The connection's sshd processes stop (a hung host, a cable pulled): TCP stays up, nothing answers.
      frozen = connectionTree(sshd.pid);
      for (const pid of frozen) process.kill(pid, 'SIGSTOP');
      await until('missed keepalives dropped the connection', () => transport.connectionStats().open === 0);
      assert.equal(transport.connectionStats().dropped, 1);
      expectOk(await runOnce(transport, h));
      assert.equal(transport.connectionStats().reconnects, 1);
    } finally {
      for (const pid of frozen) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
      await transport.close();
    }
  });

  it('recycles a connection past its maximum age, between runs', async () => {
    const transport = await warmTransport({ maxAgeMs: 1500 });
    const h = host('age', A.age);
    try {
      expectOk(await runOnce(transport, h));
      expectOk(await runOnce(transport, h));
      assert.equal(connectionsTo(main, A.age).length, 1, 'young connection reused');
      await new Promise((r) => setTimeout(r, 1700));
      expectOk(await runOnce(transport, h));
      assert.equal(connectionsTo(main, A.age).length, 2);
      const stats = transport.connectionStats();
      assert.equal(stats.recycled, 1);
      assert.equal(stats.reconnects, 1);
      assert.equal(stats.open, 1);
    } finally {
      await transport.close();
    }
  });

  it('forget() and retain() close the connections of removed hosts', async () => {
    const transport = await warmTransport();
    const h = host('forget', A.forget);
    const h2 = host('keepme', A.many);
    try {
      expectOk(await runOnce(transport, h));
      expectOk(await runOnce(transport, h2));
      assert.equal(transport.connectionStats().open, 2);
      const [clientPort] = connectionsTo(main, A.forget);
      await transport.forget('forget');
      assert.equal(transport.connectionStats().open, 1);
      await until('sshd saw the disconnect', () => new RegExp(`(Received disconnect|Disconnected) from .* port ${clientPort}\\b`).test(main.log())).catch((e: Error) => {
        throw new Error(`${e.message}\n${main.log().split('\n').slice(-15).join('\n')}`);
      });
      await transport.retain(['somebody-else']);
      assert.equal(transport.connectionStats().open, 0);
    } finally {
      await transport.close();
    }
  });

  it('runs one exec at a time per host: two concurrent runs serialize; a run whose deadline passes in the queue times out', async () => {
    const transport = await warmTransport();
    const h = host('serial', A.serial);
    try {
      expectOk(await runOnce(transport, h));
      const started = performance.now();
      const ends: number[] = [];
      const first = runOnce(transport, h, sleepy(1.5)).then((o) => (ends.push(performance.now() - started), o));
      const second = runOnce(transport, h, sleepy(1.5)).then((o) => (ends.push(performance.now() - started), o));
      const queued = runOnce(transport, h, CANNED, 1000);
      const timedOut = await queued;
      assert.equal(timedOut.ok, false);
      if (!timedOut.ok) {
        assert.equal(timedOut.status, 'timeout');
        assert.match(timedOut.error, /previous probe was still running/);
      }
      expectOk(await first);
      expectOk(await second);
      assert.ok((ends[1] ?? 0) - (ends[0] ?? 0) >= 1300, `second run ended ${Math.round((ends[1] ?? 0) - (ends[0] ?? 0))} ms after the first: not serialized`);
      assert.equal(connectionsTo(main, A.serial).length, 1);
    } finally {
      await transport.close();
    }
  });
});

describe('connection pool backoff (fake open(), fake clock)', () => {
  it('after failures in a row, waits min(base x 2^(n-1), cap) before dialling again; rows in between say when', async () => {
    let nowMs = Date.UTC(2026, 0, 1, 12, 0, 0);
    const pool = new ConnectionPool({ ...DEFAULT_WARM_SETTINGS, backoffBaseMs: 5000, backoffCapMs: 20_000 }, silentLog, () => nowMs);
    let dials = 0;
    const refused = (): Promise<RunOutcome> => {
      dials += 1;
      return Promise.resolve(failure('unreachable', 'connect', 'connection refused on port 22 (no sshd listening?)'));
    };
    const run = (): Promise<RunOutcome> => pool.run('h', 'id', new AbortController().signal, refused, () => Promise.reject(new Error('no exec without a connection')));
    const gaps: number[] = [];
    for (let i = 0; i < 4; i += 1) {
      const dialled = await run();
      assert.equal(dialled.ok, false);
      const between = await run();
      assert.equal(between.ok, false);
      if (between.ok) return;
      const m = /^reconnect after failure at (\S+ \S+), next try at (\S+ \S+): connection refused/.exec(between.error);
      assert.ok(m !== null, between.error);
      assert.equal(between.status, 'unreachable');
      gaps.push((Date.parse(`${m[2]}Z`) - Date.parse(`${m[1]}Z`)) / 1000);
      assert.equal(pool.stats().inBackoff, 1);
      nowMs += gaps[i]! * 1000;
    }
    assert.deepEqual(gaps, [5, 10, 20, 20]);
    assert.equal(dials, 4, 'one dial per backoff window');
  });
});

describe('warm connection settings', () => {
  it('defaults: keepalive 30 s, maximum age 24 h', () => {
    const config = loadConfig({}, {}, mkdtempSync(join(tmpdir(), 'fleetpoll-warmcfg-')), 'me');
    assert.equal(config.ssh.keepaliveMs, 30_000);
    assert.equal(config.ssh.connectionMaxAgeMs, 24 * 3600 * 1000);
  });

  it('names a bad value precisely', () => {
    assert.deepEqual(configProblems('{\n  "ssh": {\n    "keepaliveSeconds": 0,\n    "connectionMaxAgeHours": "forever"\n  }\n}\n'), [
      'fleetpoll.config.json:3: ssh.keepaliveSeconds must be a number from 1 to 3600 (got 0)',
      'fleetpoll.config.json:4: ssh.connectionMaxAgeHours must be a number from 0.01 to 720 (got "forever")',
    ]);
  });

  it('takes values from the settings file', () => {
    assert.deepEqual(configProblems('{ "ssh": { "keepaliveSeconds": 15, "connectionMaxAgeHours": 6 } }'), []);
  });
});
