// The SSH transport against a real OpenSSH sshd on loopback: the happy path and every failure status.
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { pollFleet, pollHost, type PollOptions } from '../../src/fleet/poll.js';
import type { PollResult } from '../../src/model.js';
import { hostsFromCsv, pollOptions, writeKnownHosts } from '../helpers/fleet.js';
import { ensureTestUser, makeKeys, missingTool, pickPort, removeKeys, SSHD, startSshd, TEST_USER, type Sshd, type SshdKeys } from '../helpers/sshd.js';

const skip = missingTool(SSHD);

type Failure = Exclude<PollResult, { status: 'ok' }>;
function expectFailure(result: PollResult, status: Failure['status']): Failure {
  assert.equal(result.status, status, result.status === 'ok' ? 'host answered ok' : `${result.phase}: ${result.error}`);
  return result as Failure;
}
const TIMEOUT_MS = 3000;
// The cycle must end within the deadline plus this (teardown, scheduling on a 2-core box).
const MARGIN_MS = 1500;

const A = {
  ok: '127.78.0.1',
  hangExec: '127.78.0.2',
  garbage: '127.78.0.3',
  noEnd: '127.78.0.4',
  huge: '127.78.0.5',
  changedKey: '127.78.0.6',
  unknownKey: '127.78.0.7',
  nothing: '127.78.1.1',
  silent: '127.78.1.2',
};

describe('ssh transport against a real sshd', { skip: skip ?? false }, () => {
  let keys: SshdKeys;
  let sshd: Sshd;
  let silentServer: Server;
  const silentSockets: Socket[] = [];
  let knownHostsPath: string;
  const port = pickPort(1);

  const forced = (address: string, command: string): string => `Match LocalAddress ${address}\n  ForceCommand ${command}\n`;

  before(async () => {
    ensureTestUser();
    keys = makeKeys();
    sshd = await startSshd({
      addresses: [A.ok, A.hangExec, A.garbage, A.noEnd, A.huge, A.changedKey, A.unknownKey],
      port,
      keys,
      extraConfig: [
        // Bounded, so the orphan left on the "host" ends by itself.
        forced(A.hangExec, 'sleep 20'),
        forced(A.garbage, "echo 'this is not a probe'; echo '<html>'"),
        forced(A.noEnd, "printf 'fleetpoll-probe\\t1\\nhost\\tx\\ncpu\\t2\\t5.0\\n'"),
        forced(A.huge, "head -c 52428800 /dev/zero | tr '\\\\000' x"),
      ].join(''),
    });
    const other = makeKeys('fleetpoll-otherkey-');
    const otherKey = other.hostPublicKey.split(' ');
    removeKeys(other);
    const lines = sshd.knownHostsLines().filter((l) => !l.includes(A.changedKey) && !l.includes(A.unknownKey));
    lines.push(`[${A.changedKey}]:${port} ${otherKey[0]} ${otherKey[1]}`);
    knownHostsPath = writeKnownHosts(keys.dir, lines);
    silentServer = createServer((sock) => {
      // Accepts TCP and never says a word: the SSH banner never comes.
      silentSockets.push(sock);
      sock.on('error', () => {});
    });
    await new Promise<void>((r) => silentServer.listen(port, A.silent, r));
  });

  after(async () => {
    for (const s of silentSockets) s.destroy();
    silentServer?.close();
    await sshd?.stop();
    if (keys !== undefined) removeKeys(keys);
  });

  const row = (name: string, address: string, auth?: string): string =>
    `${name},${address},ssh,${port},${TEST_USER},${auth ?? `key:${keys.clientKeyPath}`},linux`;

  const pollOne = async (csvRow: string, extra: Partial<PollOptions> = {}, env?: NodeJS.ProcessEnv): Promise<PollResult> => {
    const [host] = hostsFromCsv(`name,address,transport,port,user,auth,os\n${csvRow}\n`, env ?? process.env);
    assert.ok(host !== undefined);
    const options = { ...(await pollOptions({ knownHostsPath, timeoutMs: TIMEOUT_MS, env })), ...extra };
    const started = Date.now();
    const result = await pollHost(host, options);
    const elapsed = Date.now() - started;
    assert.ok(elapsed <= TIMEOUT_MS + MARGIN_MS, `${host.name} took ${elapsed} ms, deadline ${TIMEOUT_MS} ms`);
    return result;
  };

  it('polls a healthy host with a key and parses a full sample', async () => {
    const result = await pollOne(row('ok', A.ok));
    assert.equal(result.status, 'ok', result.status === 'ok' ? '' : `${result.phase}: ${result.error}`);
    if (result.status !== 'ok') return;
    assert.ok(result.sample.mem.totalKb > 0);
    assert.ok(result.sample.disks.some((d) => d.mount === '/'));
    assert.equal(result.attempts, 1);
  });

  it('nothing listening -> unreachable, fast', async () => {
    const result = expectFailure(await pollOne(row('nothing', A.nothing)), 'unreachable');
    assert.equal(result.phase, 'connect');
    assert.match(result.error, /refused/);
    assert.equal(result.attempts, 2, 'a refused connection is retried once');
  });

  it('accepts TCP but never speaks -> timeout in handshake', async () => {
    const result = expectFailure(await pollOne(row('silent', A.silent)), 'timeout');
    assert.equal(result.phase, 'handshake');
    assert.ok(result.durationMs >= TIMEOUT_MS - 50);
  });

  it('command never ends -> timeout in exec', async () => {
    const result = expectFailure(await pollOne(row('hang', A.hangExec)), 'timeout');
    assert.equal(result.phase, 'exec');
  });

  it('wrong password -> auth_failed, tried once', async () => {
    const before = (sshd.log().match(/Connection from .* on 127\.78\.0\.1 /g) ?? []).length;
    const result = await pollOne(row('badpass', A.ok, 'password-env:FP_TEST_WRONG'), {}, { ...process.env, FP_TEST_WRONG: 'not-the-password' });
    assert.equal(expectFailure(result, 'auth_failed').attempts, 1);
    await new Promise((r) => setTimeout(r, 200));
    const afterCount = (sshd.log().match(/Connection from .* on 127\.78\.0\.1 /g) ?? []).length;
    assert.equal(afterCount - before, 1, 'exactly one connection reached sshd');
  });

  it('changed host key -> host_key_mismatch', async () => {
    const result = expectFailure(await pollOne(row('changed', A.changedKey)), 'host_key_mismatch');
    assert.match(result.error, /changed/);
  });

  it('unknown host key in strict mode -> refused, and accept-new records it', async () => {
    const refused = expectFailure(await pollOne(row('unknown', A.unknownKey)), 'host_key_mismatch');
    assert.match(refused.error, /no known_hosts entry/);
    const tofuPath = writeKnownHosts(keys.dir, [], 'known_hosts_tofu');
    const accepted = await pollOne(row('unknown', A.unknownKey), await pollOptions({ knownHostsPath: tofuPath, timeoutMs: TIMEOUT_MS, mode: 'accept-new' }));
    assert.equal(accepted.status, 'ok');
    const { readFileSync } = await import('node:fs');
    assert.match(readFileSync(tofuPath, 'utf8'), new RegExp(`^\\[${A.unknownKey.replace(/\./g, '\\.')}\\]:${port} ssh-ed25519 `, 'm'));
  });

  it('garbage output -> probe_error', async () => {
    const result = expectFailure(await pollOne(row('garbage', A.garbage)), 'probe_error');
    assert.match(result.error, /not probe output/);
  });

  it('output without end -> probe_error (truncated)', async () => {
    const result = expectFailure(await pollOne(row('noend', A.noEnd)), 'probe_error');
    assert.match(result.error, /truncated/);
  });

  it('50 MB of output -> capped probe_error, memory stays bounded', async () => {
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    let peak = rssBefore;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);
    const result = await pollOne(row('huge', A.huge));
    clearInterval(sampler);
    assert.match(expectFailure(result, 'probe_error').error, /exceeded 4 MB/);
    const grownMb = (peak - rssBefore) / 1024 / 1024;
    assert.ok(grownMb < 60, `RSS grew by ${grownMb.toFixed(1)} MB while reading 50 MB`);
  });

  it('a fleet with every failure kind finishes within one deadline and never rejects', async () => {
    const csv = [
      'name,address,transport,port,user,auth,os',
      row('ok', A.ok),
      row('nothing', A.nothing),
      row('silent', A.silent),
      row('hang', A.hangExec),
      row('garbage', A.garbage),
      row('changed', A.changedKey),
    ].join('\n');
    const hosts = hostsFromCsv(csv);
    const options = await pollOptions({ knownHostsPath, timeoutMs: TIMEOUT_MS });
    const started = Date.now();
    const results = await pollFleet(hosts, options);
    const elapsed = Date.now() - started;
    assert.ok(elapsed <= TIMEOUT_MS + MARGIN_MS, `cycle took ${elapsed} ms`);
    assert.deepEqual(
      results.map((r) => [r.host.name, r.status]),
      [
        ['ok', 'ok'],
        ['nothing', 'unreachable'],
        ['silent', 'timeout'],
        ['hang', 'timeout'],
        ['garbage', 'probe_error'],
        ['changed', 'host_key_mismatch'],
      ],
    );
  });
});
