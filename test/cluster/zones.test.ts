// Zones end to end: a real nats-server (JetStream) on loopback, real sshd hosts (127.61.x.x), a real
// coordinator (`fleetpoll serve` with nats settings) and real workers (`fleetpoll worker`) as child
// processes. Two zones with workers (a: two, b: one) and one without (dmz). Every cycle must give every
// host exactly one row, whatever dies in the middle: a worker (SIGKILL, one with hosts in hand), the
// coordinator, NATS itself. And each host is polled by one worker of its zone, over one kept connection.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect } from '@nats-io/transport-node';
import { encode, type Heartbeat } from '../../src/cluster/messages.js';
import { CLI, readCsv } from '../helpers/cli.js';
import { missingNatsServer, startNatsServer, type NatsServer } from '../helpers/nats.js';
import { ensureTestUser, loopbackAddresses, makeKeys, missingTool, pickPort, removeKeys, SSHD, startSshdFleet, TEST_USER, type Sshd, type SshdKeys } from '../helpers/sshd.js';

// A fleetpoll child process and what it printed.
interface Child {
  readonly child: ChildProcess;
  out: string;
  err: string;
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function start(args: readonly string[], cwd: string): Child {
  const child = spawn(process.execPath, [CLI, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const run: Child = { child, out: '', err: '', exit: new Promise((r) => child.on('exit', (code, signal) => r({ code, signal }))) };
  child.stdout?.on('data', (c: Buffer) => (run.out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (run.err += c.toString()));
  return run;
}

async function waitFor(what: string, check: () => boolean, timeoutMs: number, show: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${show()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function stopChild(run: Child, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (run.child.exitCode !== null || run.child.signalCode !== null) return;
  run.child.kill(signal);
  const timer = setTimeout(() => run.child.kill('SIGKILL'), 20_000);
  await run.exit;
  clearTimeout(timer);
}

const HEADER = 'name,address,transport,port,user,auth,os,tags,enabled,zone';

// Established TCP connections whose local end is address:port (the sshd side of each kept connection), from /proc/net/tcp.
function connectionsTo(address: string, port: number): number {
  const hex = address.split('.').map((b) => Number(b).toString(16).padStart(2, '0').toUpperCase()).reverse().join('');
  const local = `${hex}:${port.toString(16).padStart(4, '0').toUpperCase()}`;
  return readFileSync('/proc/net/tcp', 'utf8').split('\n').filter((line) => {
    const f = line.trim().split(/\s+/);
    return f[1] === local && f[3] === '01';
  }).length;
}
const ZONE_A = ['a1', 'a2', 'a3', 'a4'];
const ZONE_B = ['b1', 'b2', 'b3'];

describe('zones: coordinator and workers over a real NATS JetStream, real sshd hosts', { skip: missingTool(SSHD) ?? missingNatsServer() ?? false }, () => {
  let keys: SshdKeys;
  let fleet: Sshd[] = [];
  let nats: NatsServer;
  const port = pickPort(61);
  const addresses = loopbackAddresses(8, 61);
  const natsAddress = '127.61.9.1';
  const httpAddress = '127.61.9.2';
  const natsPort = pickPort(62);
  const httpPort = pickPort(63);
  const dirs: string[] = [];
  const workers = new Map<string, Child>();
  let dir = '';

  function row(name: string, address: string, zone: string): string {
    return `${name},${address},ssh,${port},${TEST_USER},key:${keys.clientKeyPath},linux,,yes,${zone}`;
  }

  function startWorker(id: string, zone: string): Child {
    const w = start(['worker', '--zone', zone, '--data-dir', join(dir, `worker-${id}`), '--verbose'], dir);
    workers.set(id, w);
    return w;
  }

  // Rows of log.csv per host and cycle time.
  function rowsByCycle(): Map<string, Map<string, string[]>> {
    const file = join(dir, 'data', 'log.csv');
    const byCycle = new Map<string, Map<string, string[]>>();
    if (!existsSync(file)) return byCycle;
    for (const r of readCsv(file)) {
      const time = r.timestamp ?? r.time ?? Object.values(r)[0] ?? '';
      const hosts = byCycle.get(time) ?? new Map<string, string[]>();
      const name = r.server ?? r.name ?? r.host ?? '';
      hosts.set(name, [...(hosts.get(name) ?? []), `${r.status}:${r.error ?? ''}`]);
      byCycle.set(time, hosts);
    }
    return byCycle;
  }

  // Every cycle written so far has each of the 8 hosts exactly once; returns the number of cycles.
  function assertOneRowPerHostPerCycle(): number {
    const byCycle = rowsByCycle();
    for (const [time, hosts] of byCycle) {
      assert.equal(hosts.size, 8, `cycle ${time}: ${JSON.stringify([...hosts])}`);
      for (const [host, rows] of hosts) assert.equal(rows.length, 1, `cycle ${time}, host ${host}: ${JSON.stringify(rows)}`);
    }
    return byCycle.size;
  }

  function recent(): Map<string, Record<string, string>> {
    return new Map(readCsv(join(dir, 'data', 'recentlog.csv')).map((r) => [r.server ?? r.name ?? '', r]));
  }

  function runLog(): string {
    const file = join(dir, 'data', 'fleetpoll.log');
    return existsSync(file) ? readFileSync(file, 'utf8') : '';
  }

  const diagnose = (run: Child): string =>
    `stdout:\n${run.out}\nstderr:\n${run.err}\nrun log:\n${runLog()}\nexit ${String(run.child.exitCode)}\nworkers:\n${[...workers].map(([id, w]) => `${id} (exit ${String(w.child.exitCode)}): ${w.out}${w.err}`).join('\n')}`;

  const cycleLines = (run: Child): number => run.out.split('\n').filter((l) => l.startsWith('fleetpoll serve: cycle ')).length;

  before(async () => {
    ensureTestUser();
    keys = makeKeys();
    fleet = await startSshdFleet(addresses, port, keys);
    nats = await startNatsServer(natsAddress, natsPort);
    dir = mkdtempSync(join(tmpdir(), 'fleetpoll-zones-'));
    dirs.push(dir);
    mkdirSync(join(dir, 'inventory'));
    const rows = [
      ...ZONE_A.map((n, i) => row(n, addresses[i]!, 'a')),
      ...ZONE_B.map((n, i) => row(n, addresses[4 + i]!, 'b')),
      row('dmz1', addresses[7]!, 'dmz'),
    ];
    writeFileSync(join(dir, 'inventory', 'servers.csv'), `${HEADER}\n${rows.join('\n')}\n`);
    writeFileSync(join(dir, 'known_hosts'), `${fleet.flatMap((s) => s.knownHostsLines()).join('\n')}\n`);
    const settings = {
      http: { bind: httpAddress, port: httpPort },
      // A 2 s CPU window makes each poll long enough to kill something in the middle of it.
      poll: { cpuWindowSeconds: 2, topProcesses: 3, timeoutSeconds: 10, retries: 0 },
      alerts: { enabled: false },
      ssh: { knownHosts: 'known_hosts' },
      serve: { intervalSeconds: 40 },
      nats: { servers: [nats.url], ackWaitSeconds: 3, heartbeatSeconds: 1 },
    };
    writeFileSync(join(dir, 'fleetpoll.config.json'), `${JSON.stringify(settings, null, 2)}\n`);
    await Promise.all([workerReady('a1', 'a'), workerReady('a2', 'a'), workerReady('b1', 'b')]);
  });

  // Starts a worker and waits until it takes jobs (a loaded machine may take many seconds to start node).
  async function workerReady(id: string, zone: string): Promise<void> {
    const w = startWorker(id, zone);
    await waitFor(`worker ${id} ready`, () => /polling zone/.test(w.err), 150_000, () => w.out + w.err);
  }

  after(async () => {
    await Promise.all([...workers.values()].map((w) => stopChild(w)));
    await nats?.dispose();
    await Promise.all(fleet.map((s) => s.stop()));
    if (keys !== undefined) removeKeys(keys);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  // The id of the worker of zone a whose heartbeat says it has hosts in hand, or null after `timeoutMs`.
  async function zoneAWorkerPolling(timeoutMs: number): Promise<string | null> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const body = (await fetch(`http://${httpAddress}:${httpPort}/api/v1/workers`)
        .then((r) => r.json())
        .catch(() => ({ workers: [] }))) as { workers: { zone: string; pid: number; inFlight: number; live: boolean }[] };
      const busy = body.workers.find((w) => w.zone === 'a' && w.live && w.inFlight > 0);
      const id = busy === undefined ? undefined : [...workers].find(([k, w]) => k.startsWith('a') && w.child.pid === busy.pid)?.[0];
      if (id !== undefined) return id;
      await new Promise((r) => setTimeout(r, 100));
    }
    return null;
  }

  it('two zones, three workers, one SIGKILLed mid-cycle: every host one row; a zone without workers gets explicit rows; the API lists the workers', async () => {
    const serve = start(['serve'], dir);
    let killedId = 'a1';
    try {
      // Mid-cycle: the jobs are out and the polls (2 s CPU window each) are running.
      await waitFor('the first jobs', () => /poll started/.test(runLog()), 150_000, () => diagnose(serve));
      // A worker of zone a with hosts in hand (its heartbeat's inFlight, seen through the API) is the
      // one killed: its jobs are redelivered to the other once its slots pass to it.
      const busy = await zoneAWorkerPolling(30_000);
      assert.ok(busy !== null, `no worker of zone a had hosts in hand\n${diagnose(serve)}`);
      killedId = busy;
      const killed = workers.get(killedId)!;
      killed.child.kill('SIGKILL');
      await killed.exit;
      await waitFor('the first cycle', () => cycleLines(serve) >= 1, 240_000, () => diagnose(serve));
      assert.equal(assertOneRowPerHostPerCycle(), 1);
      const rows = recent();
      for (const name of [...ZONE_A, ...ZONE_B]) assert.equal(rows.get(name)?.status, 'ok', `${name}: ${JSON.stringify(rows.get(name))}`);
      assert.equal(rows.get('dmz1')?.status, 'unreachable');
      assert.match(rows.get('dmz1')?.error ?? '', /no poller in zone dmz/);

      const api = `http://${httpAddress}:${httpPort}`;
      type Workers = { mode: string; workers: { zone: string; version: string; live: boolean }[] };
      const liveWorkers = async (): Promise<{ body: Workers; live: Workers['workers'] }> => {
        const body = (await (await fetch(`${api}/api/v1/workers`)).json()) as Workers;
        return { body, live: body.workers.filter((w) => w.live) };
      };
      // The killed worker counts as live until its heartbeats have been missed (3 beats): on a quick
      // machine the cycle can end before that, so give the API those seconds before asking.
      let { body, live } = await liveWorkers();
      for (const giveUpAt = Date.now() + 20_000; live.length > 2 && Date.now() < giveUpAt; ) {
        await new Promise((r) => setTimeout(r, 250));
        ({ body, live } = await liveWorkers());
      }
      assert.equal(body.mode, 'coordinator');
      assert.deepEqual(live.map((w) => w.zone).sort(), ['a', 'b']);
      assert.ok(live.every((w) => /^\d+\.\d+\.\d+/.test(w.version)), JSON.stringify(body));
    } finally {
      await stopChild(serve);
      await workerReady(killedId, 'a');
    }
    assert.equal((await serve.exit).code, 0, serve.err);
  });

  it('the coordinator killed mid-cycle: the next start resumes that cycle; no duplicate, no lost row', async () => {
    const before = rowsByCycle().size;
    const first = start(['serve'], dir);
    await waitFor('the cycle to start', () => existsSync(join(dir, 'data', 'cluster-cycle.json')), 150_000, () => diagnose(first));
    await new Promise((r) => setTimeout(r, 2500));
    first.child.kill('SIGKILL');
    await first.exit;
    assert.equal(rowsByCycle().size, before, 'the killed coordinator wrote nothing');
    const second = start(['serve', '--once'], dir);
    const exit = await second.exit;
    assert.equal(exit.code, 0, second.err);
    assert.match(runLog(), /resuming cycle c\d+/);
    assert.equal(assertOneRowPerHostPerCycle(), before + 1);
    const rows = recent();
    for (const name of [...ZONE_A, ...ZONE_B]) assert.equal(rows.get(name)?.status, 'ok', `${name}: ${JSON.stringify(rows.get(name))}`);
    assert.ok(!existsSync(join(dir, 'data', 'cluster-cycle.json')), 'the written cycle is forgotten');
  });

  it('NATS stopped mid-cycle: the coordinator says so, retries, and the cycle is written whole once NATS is back', async () => {
    const before = rowsByCycle().size;
    const serve = start(['serve', '--once'], dir);
    await waitFor('the cycle to start', () => existsSync(join(dir, 'data', 'cluster-cycle.json')), 150_000, () => diagnose(serve));
    await new Promise((r) => setTimeout(r, 1500));
    await nats.stop();
    await waitFor('the coordinator to say NATS is gone', () => /NATS connection lost/.test(serve.err), 90_000, () => serve.err);
    await new Promise((r) => setTimeout(r, 2000));
    await nats.start();
    const exit = await serve.exit;
    assert.equal(exit.code, 0, serve.err);
    assert.match(serve.err, /NATS connection back/);
    assert.equal(assertOneRowPerHostPerCycle(), before + 1);
    const rows = recent();
    for (const name of [...ZONE_A, ...ZONE_B]) assert.equal(rows.get(name)?.status, 'ok', `${name}: ${JSON.stringify(rows.get(name))}\n${serve.err}`);
  });

  it('each host is polled by one worker of its zone, over one kept connection, cycle after cycle; the API shows the slots each worker owns; a worker of another version is named', async () => {
    for (let i = 0; i < 2; i++) {
      const serve = start(['serve', '--once'], dir);
      if (i === 0) {
        // A heartbeat of an older worker, of a zone no host is in (so the cycle is not touched).
        await waitFor('the cycle to start', () => existsSync(join(dir, 'data', 'cluster-cycle.json')), 150_000, () => diagnose(serve));
        const nc = await connect({ servers: nats.url });
        const beat: Heartbeat = { v: 1, id: 'old:1:000000', zone: 'elsewhere', version: '0.0.1', hostname: 'old', pid: 1, startedAtSec: 0, sentAtSec: Math.floor(Date.now() / 1000), inFlight: 0, done: 0, stopping: false };
        nc.publish('fleetpoll.workers.elsewhere', encode(beat));
        await nc.flush();
        await nc.close();
        // The API shows each live worker's share: zone a's two workers 30 slots each, zone b's one all 60.
        type Listed = { workers: { zone: string; slots: number | null; live: boolean }[] };
        const shares = async (): Promise<string> => {
          const body = (await (await fetch(`http://${httpAddress}:${httpPort}/api/v1/workers`)).json()) as Listed;
          return body.workers.filter((w) => w.live && w.zone !== 'elsewhere').map((w) => `${w.zone}:${w.slots}`).sort().join(' ');
        };
        let seen = '';
        for (const giveUpAt = Date.now() + 15_000; seen !== 'a:30 a:30 b:60' && Date.now() < giveUpAt; ) {
          seen = await shares().catch(() => '');
          if (seen !== 'a:30 a:30 b:60') await new Promise((r) => setTimeout(r, 250));
        }
        assert.equal(seen, 'a:30 a:30 b:60');
      }
      const exit = await serve.exit;
      assert.equal(exit.code, 0, diagnose(serve));
      if (i === 0) assert.match(serve.err, /worker old:1:000000 of zone elsewhere runs fleetpoll 0\.0\.1, this coordinator \d+\.\d+\.\d+: upgrade the coordinator and the workers together/);
    }
    const rows = recent();
    for (const name of [...ZONE_A, ...ZONE_B]) assert.equal(rows.get(name)?.status, 'ok', `${name}: ${JSON.stringify(rows.get(name))}`);
    // Zone a's two workers share its slots (a worker left behind by a worker's restart closes its
    // connections to hosts it no longer polls); each host has one connection, from one worker.
    const perHost = (): string => [...ZONE_A, ...ZONE_B].map((name, i) => `${name}:${connectionsTo(addresses[i]!, port)}`).join(' ');
    const one = [...ZONE_A, ...ZONE_B].map((name) => `${name}:1`).join(' ');
    await waitFor('one kept connection per host', () => perHost() === one, 15_000, () => `${perHost()}\n${[...workers].map(([id, w]) => `${id}: ${w.err}`).join('\n')}`);
    const zoneA = [...workers].filter(([id, w]) => id.startsWith('a') && w.child.exitCode === null && w.child.signalCode === null);
    assert.equal(zoneA.length, 2);
    for (const [id, w] of zoneA) assert.match(w.err, /takes 30 of the 60 slots of zone a \(2 live workers\)/, `worker ${id}: ${w.err}`);
  });
});

