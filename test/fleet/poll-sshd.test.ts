// Part of the fleet down (issue 15), against a real sshd plus silent and refusing listeners on
// loopback: waiting hosts hold no CPU slot, a refused host's retry delays nobody, new connections
// are paced, and no more than `concurrency` hosts are ever in key exchange + authentication at once.
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { pollFleet, type PollOptions } from '../../src/fleet/poll.js';
import type { RunOptions, RunOutcome, Transport } from '../../src/fleet/transport.js';
import type { Host, PollResult } from '../../src/model.js';
import { hostsFromCsv, pollOptions, writeKnownHosts } from '../helpers/fleet.js';
import { ensureTestUser, loopbackAddresses, makeKeys, missingTool, pickPort, removeKeys, SSHD, startSshd, TEST_USER, type Sshd, type SshdKeys } from '../helpers/sshd.js';

const skip = missingTool(SSHD);

// Loopback block 127.83.x.x: healthy hosts in .0, silent in .1, refusing (nothing listens) in .2.
const HEALTHY = loopbackAddresses(12, 83, 0);
const SILENT = loopbackAddresses(50, 83, 1);
const REFUSING = loopbackAddresses(10, 83, 2);
const CONCURRENCY = 5;
// The cycle must end within the deadline plus this (teardown, scheduling on a loaded 2-core box).
const MARGIN_MS = 2500;

// Wraps the real SSH transport and counts the hosts holding a CPU slot at once (and which did).
class CountingSsh implements Transport {
  readonly gatesCpu = true;
  holding = 0;
  peak = 0;
  readonly acquiredBy = new Set<string>();
  constructor(private readonly inner: Transport) {}
  run(host: Host, run: RunOptions): Promise<RunOutcome> {
    const cpu = run.cpu!;
    let held = false;
    return this.inner.run(host, {
      ...run,
      cpu: {
        acquire: async () => {
          const grant = await cpu.acquire();
          if (grant.ok && !held) {
            held = true;
            this.holding += 1;
            this.peak = Math.max(this.peak, this.holding);
            this.acquiredBy.add(host.name);
          }
          return grant;
        },
        release: () => {
          if (held) {
            held = false;
            this.holding -= 1;
          }
          cpu.release();
        },
      },
    });
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

describe('poll with part of the fleet down (real sshd)', { skip: skip ?? false }, () => {
  let keys: SshdKeys;
  let sshd: Sshd;
  const silentServers: Server[] = [];
  const silentSockets: Socket[] = [];
  let knownHostsPath: string;
  const port = pickPort(83);

  before(async () => {
    ensureTestUser();
    keys = makeKeys();
    sshd = await startSshd({ addresses: HEALTHY, port, keys });
    knownHostsPath = writeKnownHosts(keys.dir, sshd.knownHostsLines());
    for (const address of SILENT) {
      // Accepts TCP and never says a word: a firewall or a hung sshd.
      const server = createServer((sock) => {
        silentSockets.push(sock);
        sock.on('error', () => {});
      });
      await new Promise<void>((r) => server.listen(port, address, r));
      silentServers.push(server);
    }
  });

  after(async () => {
    for (const s of silentSockets) s.destroy();
    for (const s of silentServers) s.close();
    await sshd?.stop();
    if (keys !== undefined) removeKeys(keys);
  });

  const fleet = (groups: [string, readonly string[]][]): Host[] => {
    const rows = groups.flatMap(([prefix, addresses]) => addresses.map((a, i) => `${prefix}${i},${a},ssh,${port},${TEST_USER},key:${keys.clientKeyPath},linux`));
    return hostsFromCsv(`name,address,transport,port,user,auth,os\n${rows.join('\n')}\n`);
  };

  const counting = async (timeoutMs: number, extra: Partial<PollOptions> = {}): Promise<{ options: PollOptions; ssh: CountingSsh }> => {
    const base = await pollOptions({ knownHostsPath, timeoutMs });
    const ssh = new CountingSsh(base.transports.ssh);
    return { ssh, options: { ...base, transports: { ...base.transports, ssh }, concurrency: CONCURRENCY, ...extra } };
  };

  it('with concurrency 5 and 50 silent hosts, healthy hosts are polled while the silent ones wait; the cycle ends at the deadline', async () => {
    const timeoutMs = 6000;
    const { options, ssh } = await counting(timeoutMs);
    // Silent hosts first: under the old slot-per-host fan-out they would take every slot for the whole deadline.
    const hosts = fleet([['silent', SILENT], ['ok', HEALTHY]]);
    const finishedAt = new Map<string, number>();
    const started = performance.now();
    const results = await pollFleet(hosts, { ...options, onResult: (r) => finishedAt.set(r.host.name, performance.now() - started) });
    const wallMs = performance.now() - started;
    const statusOf = (r: PollResult): string => (r.status === 'ok' ? 'ok' : `${r.status}: ${r.error}`);
    const silent = results.filter((r) => r.host.name.startsWith('silent'));
    const healthy = results.filter((r) => r.host.name.startsWith('ok'));
    assert.deepEqual([...new Set(silent.map((r) => r.status))], ['timeout'], silent.map(statusOf).join('; '));
    assert.deepEqual([...new Set(healthy.map((r) => r.status))], ['ok'], healthy.map(statusOf).join('; '));
    assert.ok(wallMs <= timeoutMs + MARGIN_MS, `cycle took ${wallMs.toFixed(0)} ms for a ${timeoutMs} ms deadline`);
    const lastHealthyMs = Math.max(...healthy.map((r) => finishedAt.get(r.host.name)!));
    assert.ok(lastHealthyMs < timeoutMs - 500, `the healthy hosts finished at ${lastHealthyMs.toFixed(0)} ms, not while the silent ones waited`);
    // The CPU bound held, and no silent host ever took a slot (it never got past the banner).
    assert.ok(ssh.peak <= CONCURRENCY, `${ssh.peak} hosts in key exchange + auth at once`);
    assert.ok(ssh.peak >= 1);
    assert.equal([...ssh.acquiredBy].filter((n) => n.startsWith('silent')).length, 0);
  });

  it("a refused host's retry backoff does not delay the healthy hosts", async () => {
    const backoffMs = 3000;
    const { options } = await counting(10_000, { concurrency: 2, retries: 1, retryBackoffMs: backoffMs });
    const hosts = fleet([['refused', REFUSING], ['ok', HEALTHY.slice(0, 6)]]);
    const finishedAt = new Map<string, number>();
    const started = performance.now();
    const results = await pollFleet(hosts, { ...options, onResult: (r) => finishedAt.set(r.host.name, performance.now() - started) });
    const refused = results.filter((r) => r.host.name.startsWith('refused'));
    const healthy = results.filter((r) => r.host.name.startsWith('ok'));
    for (const r of refused) {
      assert.equal(r.attempts, 2, 'the refused host was retried once');
      assert.ok(r.status === 'unreachable' && /connection refused/.test(r.error), r.status === 'ok' ? 'ok' : `${r.status}: ${r.error}`);
    }
    assert.deepEqual([...new Set(healthy.map((r) => r.status))], ['ok']);
    const lastHealthyMs = Math.max(...healthy.map((r) => finishedAt.get(r.host.name)!));
    assert.ok(lastHealthyMs < backoffMs, `the healthy hosts finished at ${lastHealthyMs.toFixed(0)} ms, after the ${backoffMs} ms backoff`);
  });

  it('new connections are paced at startsPerSecond (poll.maxConnectsPerSecond), and waiting for a turn uses none of the deadline', async () => {
    // 10 refused hosts at 4 a second: the last one's turn comes after ~2.25 s, past its 1 s deadline.
    const { options } = await counting(1000, { retries: 0, startsPerSecond: 4 });
    const hosts = fleet([['refused', REFUSING]]);
    const finishedAt: number[] = [];
    const started = performance.now();
    const results = await pollFleet(hosts, { ...options, onResult: () => finishedAt.push(performance.now() - started) });
    for (const r of results) assert.ok(r.status === 'unreachable' && /connection refused/.test(r.error), r.status === 'ok' ? 'ok' : `${r.status}: ${r.error}`);
    finishedAt.sort((a, b) => a - b);
    assert.ok(finishedAt[0]! < 1000, `the first host finished at ${finishedAt[0]!.toFixed(0)} ms`);
    assert.ok(finishedAt.at(-1)! >= 2000, `the last host finished at ${finishedAt.at(-1)!.toFixed(0)} ms: the starts were not paced at 4 a second`);
  });
});
