// Benchmark of zones (issue 20): HOSTS simulated SSH hosts (ssh2's own Server on one loopback address
// each, in HOST_PROCS child processes of their own: bench/ssh2-hosts-child.ts; they answer the probe
// with the canned output of the other benchmarks), polled in one run by
// - zones: a real nats-server -js on loopback, WORKERS real `fleetpoll worker --zone` processes over
//   ZONES zones, and the coordinator, a real `fleetpoll serve` with nats settings;
// - standalone: one real `fleetpoll serve` without nats settings, polling the same hosts itself.
// Both serve back to back (serve.intervalSeconds 1, spreadFraction 0: a cycle starts at the first whole
// second after the previous one ends) with the same settings otherwise (history, alerts, CSV files as
// by default). After each one's cold cycle (every host connects), CYCLES warm cycles are measured: the
// CPU (utime + stime, /proc/<pid>/stat) of every process between the ends of two cycles (the cycle line
// serve prints), RSS (VmRSS) and peak RSS (VmHWM, /proc/<pid>/status), the cycle's wall time; every
// measured cycle must write HOSTS rows, all ok, to recentlog.csv. Targets (issue 20): the coordinator's
// CPU per host <= 1/3 of the standalone serve's (medians of the warm cycles, same run), and no
// coordinator or worker above 500 MB peak RSS (the standalone's is printed beside them).
// Run with `ulimit -n 20000; npm run bench:zones`; env HOSTS (10000), WORKERS (4), ZONES (2), CYCLES
// (warm cycles measured per mode, 3), HOST_PROCS (simulated host processes, 3), TIMEOUT (poll timeout
// s, 300), MODES (zones,standalone), CPU_PROF (a directory: .cpuprofile files of the coordinator, the
// workers and the standalone serve; inflates every figure), CHILD_LOGS (a directory: each fleetpoll
// process's stdout and stderr), NODE_FLAGS (node flags for every fleetpoll process, e.g. --trace-gc).
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { decodeHeartbeat } from '../src/cluster/messages.js';
import { HEARTBEAT_PREFIX, HELLO_SUBJECT } from '../src/cluster/names.js';
import { openFilesSoftLimit } from '../src/fleet/poll.js';
import { startNatsServer, type NatsServer } from '../test/helpers/nats.js';
import { loopbackAddresses, makeKeys, pickPort, removeKeys, type SshdKeys } from '../test/helpers/sshd.js';
import type { SimulatedHostsJob } from './ssh2-hosts-child.js';
import { envInt, settingsOrReason } from './lib/env-int.js';
import { parseProcStat } from './lib/proc-stat.js';

const CLI = fileURLToPath(new URL('../src/cli.js', import.meta.url));
const HOSTS_CHILD = fileURLToPath(new URL('./ssh2-hosts-child.js', import.meta.url));
// Second octet of the loopback block: bench/poll.ts uses 79, dead-hosts 84-86, serve 89, the tests
// 18, 42, 61, 77-83, 88, 93, 94, 97. The hosts take 127.112.0-39.x (10,000), the servers 127.112.200.x.
const ADDRESS_OCTET = 112;
const NATS_ADDRESS = '127.112.200.1';
const COORDINATOR_HTTP = '127.112.200.2';
const STANDALONE_HTTP = '127.112.200.3';
const TARGET_CPU_RATIO = 1 / 3;
const TARGET_RSS_MB = 500;
// File handles a serve needs beyond one per kept connection (logs, CSV, SQLite, NATS, HTTP).
const SPARE_FILES = 1000;
const START_LIMIT_MS = 180_000;
const STOP_LIMIT_MS = 60_000;

type Mode = 'zones' | 'standalone';

interface Settings {
  readonly hosts: number;
  readonly workers: number;
  readonly zones: number;
  readonly cycles: number;
  readonly hostProcs: number;
  readonly timeoutSec: number;
  readonly modes: readonly Mode[];
  readonly cpuProfDir: string | null;
  /** A directory for each fleetpoll process's whole stdout and stderr (`<label>.log`), for debugging. */
  readonly childLogs: string | null;
  /** Extra node flags for every fleetpoll process (NODE_OPTIONS refuses some, e.g. --trace-gc). */
  readonly nodeFlags: readonly string[];
}

function readSettings(env: NodeJS.ProcessEnv): Settings {
  const int = envInt(env);
  const workers = int('WORKERS', 4, 1, 16);
  const zones = int('ZONES', Math.min(2, workers), 1, 16);
  if (zones > workers) throw new Error(`ZONES (${zones}) must be at most WORKERS (${workers}): every zone needs a worker`);
  const modes = (env.MODES ?? 'zones,standalone').split(',').filter((m) => m !== '');
  for (const m of modes) if (m !== 'zones' && m !== 'standalone') throw new Error(`MODES must list zones and/or standalone, comma-separated (got ${JSON.stringify(env.MODES)})`);
  if (modes.length === 0) throw new Error('MODES must name at least one mode');
  return {
    hosts: int('HOSTS', 10_000, 1, 10_000),
    workers,
    zones,
    cycles: int('CYCLES', 3, 1, 20),
    hostProcs: int('HOST_PROCS', 3, 1, 8),
    timeoutSec: int('TIMEOUT', 300, 10, 3600),
    modes: [...new Set(modes)] as Mode[],
    cpuProfDir: env.CPU_PROF ? resolve(env.CPU_PROF) : null,
    childLogs: env.CHILD_LOGS ? resolve(env.CHILD_LOGS) : null,
    nodeFlags: (env.NODE_FLAGS ?? '').split(' ').filter((f) => f !== ''),
  };
}

// What /proc says of one process now.
interface ProcUsage {
  readonly cpuMs: number;
  readonly rssMb: number;
  readonly peakRssMb: number;
}

function procUsage(pid: number | null | undefined): ProcUsage | null {
  if (pid === null || pid === undefined) return null;
  try {
    const { cpuMs } = parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string): number => Number(/^\S+:\s+(\d+)/.exec(status.split('\n').find((l) => l.startsWith(`${key}:`)) ?? '')?.[1] ?? NaN);
    return { cpuMs, rssMb: kb('VmRSS') / 1024, peakRssMb: kb('VmHWM') / 1024 };
  } catch {
    return null; // exited
  }
}

// A child process of the benchmark, its output kept by line (stdout) and as a tail (stderr).
class Child {
  readonly process: ChildProcess;
  readonly exited: Promise<number | null>;
  private lines: string[] = [];
  private waiters: (() => void)[] = [];
  private errTail = '';

  constructor(
    readonly label: string,
    command: string,
    args: readonly string[],
    cwd: string,
    env: NodeJS.ProcessEnv = process.env,
    logPath: string | null = null,
  ) {
    this.process = spawn(command, args, { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    if (logPath !== null) {
      const log = createWriteStream(logPath, { flags: 'a' });
      // Two sources, one file: neither may end it while the other still writes; it ends when the child has exited and both are closed.
      this.process.stdout?.pipe(log, { end: false });
      this.process.stderr?.pipe(log, { end: false });
      this.process.on('close', () => log.end());
    }
    let partial = '';
    this.process.stdout?.on('data', (chunk: Buffer) => {
      const text = partial + chunk.toString('utf8');
      const parts = text.split('\n');
      partial = parts.pop() ?? '';
      this.lines.push(...parts);
      for (const w of this.waiters.splice(0)) w();
    });
    this.process.stderr?.on('data', (chunk: Buffer) => {
      this.errTail = (this.errTail + chunk.toString('utf8')).slice(-4000);
    });
    this.exited = new Promise((r) => this.process.on('exit', (code) => {
      for (const w of this.waiters.splice(0)) w();
      r(code);
    }));
  }

  get pid(): number | null {
    return this.process.exitCode === null && this.process.signalCode === null ? (this.process.pid ?? null) : null;
  }

  /** The next stdout line matching `pattern` after the first `from` lines; its index and text. */
  async nextLine(pattern: RegExp, from: number, timeoutMs: number): Promise<{ index: number; line: string }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (let i = from; i < this.lines.length; i += 1) if (pattern.test(this.lines[i] as string)) return { index: i, line: this.lines[i] as string };
      from = this.lines.length;
      if (this.pid === null) throw new Error(`${this.label} exited (${String(this.process.exitCode ?? this.process.signalCode)}) while waiting for ${pattern}\n${this.tail()}`);
      if (Date.now() > deadline) throw new Error(`${this.label}: no line ${pattern} within ${Math.round(timeoutMs / 1000)} s\n${this.tail()}`);
      await new Promise<void>((r) => {
        const timer = setTimeout(r, 1000);
        this.waiters.push(() => {
          clearTimeout(timer);
          r();
        });
      });
    }
  }

  tail(): string {
    return `--- ${this.label} stdout (last lines):\n${this.lines.slice(-10).join('\n')}\n--- stderr:\n${this.errTail}`;
  }

  /** SIGTERM, then SIGKILL after `limitMs`; resolves when it has exited. */
  async stop(limitMs = STOP_LIMIT_MS): Promise<void> {
    const pid = this.pid;
    if (pid === null) return;
    process.kill(pid, 'SIGTERM');
    const timer = setTimeout(() => {
      if (this.pid !== null) process.kill(pid, 'SIGKILL');
    }, limitMs);
    await this.exited;
    clearTimeout(timer);
  }

  killNow(): void {
    const pid = this.pid;
    if (pid !== null) process.kill(pid, 'SIGKILL');
  }
}

// Everything started, for the finally and for Ctrl-C.
const started: Child[] = [];
let nats: NatsServer | null = null;
const dirs: string[] = [];
let keys: SshdKeys | null = null;

function cleanUpNow(): void {
  for (const c of started) c.killNow();
  const natsPid = nats?.pid();
  if (natsPid != null) process.kill(natsPid, 'SIGKILL');
  if (nats !== null) rmSync(join(nats.storeDir, '..'), { recursive: true, force: true });
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  if (keys !== null) removeKeys(keys);
}

// Children get this environment: no FLEETPOLL_* of the caller's shell.
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('FLEETPOLL_')) env[k] = v;
  return env;
}

function childLog(settings: Settings, label: string): string | null {
  if (settings.childLogs === null) return null;
  mkdirSync(settings.childLogs, { recursive: true });
  return join(settings.childLogs, `${label}.log`);
}

function nodeArgs(settings: Settings, label: string, args: readonly string[]): string[] {
  const prof = settings.cpuProfDir === null ? [] : ['--cpu-prof', '--cpu-prof-dir', settings.cpuProfDir, '--cpu-prof-name', `${label}.cpuprofile`];
  return [...settings.nodeFlags, ...prof, CLI, ...args];
}

async function startSimulatedHosts(settings: Settings, work: string, addresses: readonly string[], port: number, k: SshdKeys): Promise<Child[]> {
  const per = Math.ceil(addresses.length / settings.hostProcs);
  const children: Child[] = [];
  for (let i = 0; i * per < addresses.length; i += 1) {
    const job: SimulatedHostsJob = { addresses: addresses.slice(i * per, (i + 1) * per), port, hostKeyPath: k.hostKeyPath, clientPublicKey: k.clientPublicKey };
    const jobPath = join(work, `hosts-${i + 1}.json`);
    writeFileSync(jobPath, JSON.stringify(job));
    const child = new Child(`simulated hosts ${i + 1}`, process.execPath, [HOSTS_CHILD, jobPath], work);
    started.push(child);
    children.push(child);
  }
  await Promise.all(children.map((c) => c.nextLine(/^ready \d+$/, 0, START_LIMIT_MS)));
  return children;
}

// One cycle as measured.
interface Cycle {
  readonly label: string;
  /** The cycle's own duration, as serve prints it. */
  readonly wallMs: number;
  /** From the end of the previous cycle to the end of this one (the span CPU is measured over). */
  readonly spanMs: number;
  readonly rows: number;
  readonly ok: number;
  readonly problems: readonly string[];
  /** The serve process (coordinator or standalone). */
  readonly serveCpuMs: number;
  readonly serveRssMb: number;
  readonly workers: readonly { readonly cpuMs: number; readonly jobs: number | null; readonly rssMb: number }[];
  readonly natsCpuMs: number | null;
  readonly hostsCpuMs: number;
}

const CYCLE_LINE = /^fleetpoll serve: cycle (\S+): (\d+) host\(s\) in ([\d.]+) s: (\d+) ok, (\d+) failed/;

// recentlog.csv after a cycle: every host once, all ok, all of this cycle.
function checkRecentLog(dataDir: string, hosts: number, cycleIso: string): { rows: number; ok: number; problems: string[] } {
  const records = parse(readFileSync(join(dataDir, 'recentlog.csv')), { bom: true, columns: true }) as Record<string, string>[];
  const problems: string[] = [];
  const names = new Set<string>();
  let ok = 0;
  const times = new Map<string, number>();
  for (const r of records) {
    names.add(r.server ?? '');
    if (r.status === 'ok') ok += 1;
    else if (problems.length < 5) problems.push(`${r.server}: ${r.status} (${r.phase}: ${r.error})`);
    times.set(r.time ?? '', (times.get(r.time ?? '') ?? 0) + 1);
  }
  if (records.length !== hosts || names.size !== hosts) problems.push(`recentlog.csv has ${records.length} rows for ${names.size} hosts, expected ${hosts}`);
  // serve's line has the cycle start in ISO form; the CSV has it as YYYY-MM-DD HH:MM:SS (UTC).
  const want = cycleIso.replace('T', ' ').slice(0, 19);
  if (times.size !== 1 || !times.has(want)) problems.push(`recentlog.csv times ${JSON.stringify([...times].slice(0, 3))}, expected all ${want}`);
  return { rows: records.length, ok, problems };
}

// The workers' own count of finished host polls, asked for at once (the hello every worker answers with a
// heartbeat): a heartbeat that comes on its own schedule may be up to heartbeatSeconds old.
class JobCounts {
  private latest = new Map<number, number>();
  private constructor(
    private readonly nc: NatsConnection,
    private readonly sub: Subscription,
  ) {
    void (async () => {
      for await (const m of sub) {
        const beat = decodeHeartbeat(m.data);
        if (beat !== null) this.latest.set(beat.pid, beat.done);
      }
    })();
  }

  static async open(url: string): Promise<JobCounts> {
    const nc = await connect({ servers: url, name: 'fleetpoll bench (job counts)' });
    return new JobCounts(nc, nc.subscribe(`${HEARTBEAT_PREFIX}.*`));
  }

  /** Jobs finished so far by each of `pids` (null for a worker that did not answer within 2 s). */
  async now(pids: readonly number[]): Promise<Map<number, number | null>> {
    this.latest = new Map();
    this.nc.publish(HELLO_SUBJECT);
    const deadline = Date.now() + 2000;
    while (pids.some((p) => !this.latest.has(p)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    return new Map(pids.map((p) => [p, this.latest.get(p) ?? null]));
  }

  async close(): Promise<void> {
    this.sub.unsubscribe();
    await this.nc.close();
  }
}

// Runs one mode: starts its processes, waits for the cold cycle, measures `cycles` warm ones, stops.
async function runMode(mode: Mode, settings: Settings, work: string, configBase: object, inventoryPath: string, hostChildren: readonly Child[]): Promise<{ cycles: Cycle[]; peaks: Map<string, number> }> {
  const dataDir = join(work, `data-${mode}`);
  const configPath = join(work, `fleetpoll-${mode}.config.json`);
  const httpBind = mode === 'zones' ? COORDINATOR_HTTP : STANDALONE_HTTP;
  const httpPort = pickPort(mode === 'zones' ? 201 : 202);
  const config = { ...configBase, http: { bind: httpBind, port: httpPort }, ...(mode === 'zones' && nats !== null ? { nats: { servers: [nats.url], heartbeatSeconds: 1 } } : {}) };
  writeFileSync(configPath, `${JSON.stringify(config, null, 2)}\n`);
  const env = childEnv();
  const workers: Child[] = [];
  const modeChildren: Child[] = [];
  let counts: JobCounts | null = null;
  try {
    if (mode === 'zones') {
      for (let i = 0; i < settings.workers; i += 1) {
        const zone = `z${(i % settings.zones) + 1}`;
        const w = new Child(`worker ${i + 1} (zone ${zone})`, process.execPath, nodeArgs(settings, `worker-${i + 1}`, ['worker', '--zone', zone, '--config', configPath, '--data-dir', join(work, `worker-${i + 1}`)]), work, env, childLog(settings, `worker-${i + 1}`));
        started.push(w);
        workers.push(w);
        modeChildren.push(w);
      }
      // Ready once its run log says it takes jobs (no --verbose: its stderr stays quiet, as in production).
      const deadline = Date.now() + START_LIMIT_MS;
      for (const [i, w] of workers.entries()) {
        const log = join(work, `worker-${i + 1}`, 'fleetpoll.log');
        while (!(existsSync(log) && /polling zone/.test(readFileSync(log, 'utf8')))) {
          if (w.pid === null || Date.now() > deadline) throw new Error(`${w.label} did not start taking jobs\n${w.tail()}`);
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    }
    const serve = new Child(mode === 'zones' ? 'coordinator' : 'standalone serve', process.execPath, nodeArgs(settings, mode === 'zones' ? 'coordinator' : 'standalone', ['serve', '--config', configPath, '--inventory', inventoryPath, '--data-dir', dataDir]), work, env, childLog(settings, mode === 'zones' ? 'coordinator' : 'standalone'));
    started.push(serve);
    modeChildren.push(serve);
    const cycleLimitMs = (settings.timeoutSec * 2 + 600) * 1000;
    if (mode === 'zones' && nats !== null) counts = await JobCounts.open(nats.url);
    const workerPids = workers.map((w) => w.process.pid ?? -1);

    type Snapshot = { atMs: number; serve: ProcUsage | null; workers: (ProcUsage | null)[]; jobs: Map<number, number | null> | null; nats: ProcUsage | null; hostsCpuMs: number };
    const snapshot = async (): Promise<Snapshot> => ({
      atMs: performance.now(),
      serve: procUsage(serve.pid),
      workers: workers.map((w) => procUsage(w.pid)),
      nats: procUsage(nats?.pid()),
      hostsCpuMs: hostChildren.reduce((sum, c) => sum + (procUsage(c.pid)?.cpuMs ?? 0), 0),
      jobs: counts === null ? null : await counts.now(workerPids),
    });

    let next = 0;
    // The cold cycle: every host connects.
    const cold = await serve.nextLine(CYCLE_LINE, next, cycleLimitMs);
    next = cold.index + 1;
    let before = await snapshot();
    const coldMatch = CYCLE_LINE.exec(cold.line) as RegExpExecArray;
    process.stdout.write(`  ${mode}: cold cycle ${coldMatch[2]} hosts in ${coldMatch[3]} s: ${coldMatch[4]} ok, ${coldMatch[5]} failed\n`);
    const cycles: Cycle[] = [];
    for (let i = 1; i <= settings.cycles; i += 1) {
      const found = await serve.nextLine(CYCLE_LINE, next, cycleLimitMs);
      next = found.index + 1;
      const after = await snapshot();
      const m = CYCLE_LINE.exec(found.line) as RegExpExecArray;
      const check = checkRecentLog(dataDir, settings.hosts, m[1] as string);
      const serveCpu = (after.serve?.cpuMs ?? NaN) - (before.serve?.cpuMs ?? NaN);
      const cycle: Cycle = {
        label: `${mode} warm ${i}`,
        wallMs: Number(m[3]) * 1000,
        spanMs: after.atMs - before.atMs,
        rows: check.rows,
        ok: check.ok,
        problems: check.problems,
        serveCpuMs: serveCpu,
        serveRssMb: after.serve?.rssMb ?? NaN,
        workers: workers.map((w, j) => {
          const pid = w.process.pid ?? -1;
          const jobsBefore = before.jobs?.get(pid) ?? null;
          const jobsAfter = after.jobs?.get(pid) ?? null;
          return {
            cpuMs: (after.workers[j]?.cpuMs ?? NaN) - (before.workers[j]?.cpuMs ?? NaN),
            jobs: jobsBefore === null || jobsAfter === null ? null : jobsAfter - jobsBefore,
            rssMb: after.workers[j]?.rssMb ?? NaN,
          };
        }),
        natsCpuMs: mode === 'zones' ? (after.nats?.cpuMs ?? NaN) - (before.nats?.cpuMs ?? NaN) : null,
        hostsCpuMs: after.hostsCpuMs - before.hostsCpuMs,
      };
      cycles.push(cycle);
      process.stdout.write(`${cycleRow(cycle, settings.hosts)}\n`);
      before = after;
    }
    const peaks = new Map<string, number>();
    for (const c of modeChildren) peaks.set(c.label, procUsage(c.pid)?.peakRssMb ?? NaN);
    return { cycles, peaks };
  } finally {
    await counts?.close();
    // The serve first (it stops at a cycle's end or suspends it), then the workers.
    for (const c of [...modeChildren].reverse()) await c.stop();
  }
}

function cycleRow(c: Cycle, hosts: number): string {
  const perHost = (ms: number, n: number): string => (ms / n).toFixed(3);
  const workers = c.workers.map((w) => `${perHost(w.cpuMs, w.jobs ?? hosts / c.workers.length)}${w.jobs === null ? '~' : ''} ms ${w.rssMb.toFixed(0)} MB (${w.jobs ?? '?'})`).join(' | ');
  return [
    `  ${c.label.padEnd(18)}`,
    `rows ${c.ok}/${c.rows}`,
    `wall ${(c.wallMs / 1000).toFixed(1)} s (span ${(c.spanMs / 1000).toFixed(1)} s)`,
    `serve ${perHost(c.serveCpuMs, hosts)} ms/host ${c.serveRssMb.toFixed(0)} MB`,
    ...(c.workers.length > 0 ? [`workers (CPU/host, RSS, hosts): ${workers}`] : []),
    ...(c.natsCpuMs === null ? [] : [`nats-server ${perHost(c.natsCpuMs, hosts)} ms/host`]),
    `sim hosts ${perHost(c.hostsCpuMs, hosts)} ms/host`,
  ].join('  ');
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

async function benchmark(settings: Settings): Promise<boolean> {
  const limit = openFilesSoftLimit();
  const needed = Math.max(settings.hosts + SPARE_FILES, Math.ceil((2 * settings.hosts) / settings.hostProcs) + SPARE_FILES);
  if (limit < needed) throw new Error(`the open-files limit is ${limit}: HOSTS=${settings.hosts} needs at least ${needed} (a standalone serve keeps one connection per host; run \`ulimit -n ${Math.max(needed, 20000)}\` first)`);
  const work = mkdtempSync(join(tmpdir(), 'fleetpoll-bench-zones-'));
  dirs.push(work);
  keys = makeKeys('fleetpoll-bench-zones-keys-');
  const port = pickPort(112);
  const addresses = loopbackAddresses(settings.hosts, ADDRESS_OCTET);
  const hostKey = keys.hostPublicKey.split(/\s+/).slice(0, 2).join(' ');
  // One host key shared by every simulated host, named for each address: strict checking as in production.
  const knownHostsPath = join(work, 'known_hosts');
  writeFileSync(knownHostsPath, addresses.map((a) => `[${a}]:${port} ${hostKey}\n`).join(''), { mode: 0o600 });
  const inventoryPath = join(work, 'servers.csv');
  const rows = addresses.map((a, i) => `zh-${String(i + 1).padStart(5, '0')},${a},ssh,${port},bench,key:${keys?.clientKeyPath},linux,z${(i % settings.zones) + 1}`);
  writeFileSync(inventoryPath, `name,address,transport,port,user,auth,os,zone\n${rows.join('\n')}\n`);
  const configBase = {
    poll: { timeoutSeconds: settings.timeoutSec },
    ssh: { hostKeyChecking: 'strict', knownHosts: knownHostsPath, systemKnownHosts: join(work, 'no-system-known-hosts') },
    serve: { intervalSeconds: 1, spreadFraction: 0 },
  };

  const startedAt = performance.now();
  const hostChildren = await startSimulatedHosts(settings, work, addresses, port, keys);
  const hostsStartMs = performance.now() - startedAt;
  if (settings.modes.includes('zones')) nats = await startNatsServer(NATS_ADDRESS, pickPort(113));
  process.stdout.write(
    `fleetpoll zones benchmark: ${settings.hosts} simulated hosts (ssh2 Server, ${addresses[0]}..${addresses[addresses.length - 1]}:${port}, in ${hostChildren.length} processes, listening after ${(hostsStartMs / 1000).toFixed(1)} s), ` +
      `${settings.workers} workers over ${settings.zones} zone(s), ${settings.cycles} warm cycles per mode (${settings.modes.join(', ')}), poll timeout ${settings.timeoutSec} s, serve every 1 s (back to back), other settings default; ` +
      `node ${process.version}, ${cpus().length} CPUs, load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}\n` +
      'host side: ssh2 Server, canned probe answer (bench/lib/sshd-fleet.ts) after reading the streamed probe to its end; SSH transport, session, exec and parsing are real\n' +
      'CPU = utime + stime of each process (/proc/<pid>/stat) from the end of the previous cycle to the end of this one; RSS = VmRSS then, peak = VmHWM\n' +
      'worker CPU per host: its CPU / the hosts it polled meanwhile (the count in its heartbeat, asked for at the end of the cycle; ~ = HOSTS / WORKERS when it did not answer)\n',
  );

  const results = new Map<Mode, { cycles: Cycle[]; peaks: Map<string, number> }>();
  for (const mode of settings.modes) {
    process.stdout.write(`\n${mode === 'zones' ? `zones: coordinator + ${settings.workers} workers + nats-server` : 'standalone serve'}\n`);
    results.set(mode, await runMode(mode, settings, work, configBase, inventoryPath, hostChildren));
  }

  let allMet = true;
  const verdict = (met: boolean): string => {
    if (!met) allMet = false;
    return met ? 'ok' : 'MISSED';
  };
  const lines: string[] = [];
  const zones = results.get('zones');
  const standalone = results.get('standalone');
  const every = [...(zones?.cycles ?? []), ...(standalone?.cycles ?? [])];
  const bad = every.filter((c) => c.problems.length > 0 || c.ok !== settings.hosts);
  lines.push(`  every measured cycle has ${settings.hosts} rows, all ok: ${bad.length === 0 ? 'yes' : `no (${bad.map((c) => c.label).join(', ')})`}   ${verdict(bad.length === 0)}`);
  for (const c of bad) for (const p of c.problems) lines.push(`    ${c.label}: ${p}`);
  const perHost = (cycles: readonly Cycle[], pick: (c: Cycle) => number): number => median(cycles.map(pick)) / settings.hosts;
  if (zones !== undefined && standalone !== undefined) {
    const coordinator = perHost(zones.cycles, (c) => c.serveCpuMs);
    const alone = perHost(standalone.cycles, (c) => c.serveCpuMs);
    const ratio = coordinator / alone;
    lines.push(`  coordinator CPU/host / standalone serve CPU/host = ${coordinator.toFixed(3)} / ${alone.toFixed(3)} ms = ${ratio.toFixed(3)}   target <= ${TARGET_CPU_RATIO.toFixed(3)}   ${verdict(ratio <= TARGET_CPU_RATIO)}`);
    const workersAll = perHost(zones.cycles, (c) => c.workers.reduce((s, w) => s + w.cpuMs, 0));
    const natsAll = perHost(zones.cycles, (c) => c.natsCpuMs ?? NaN);
    lines.push(`  (information) zones' whole cost per host: coordinator ${coordinator.toFixed(3)} + workers ${workersAll.toFixed(3)} + nats-server ${natsAll.toFixed(3)} = ${(coordinator + workersAll + natsAll).toFixed(3)} ms, standalone ${alone.toFixed(3)} ms`);
  } else {
    lines.push('  coordinator / standalone CPU ratio: not measured (MODES has one mode)');
    allMet = false;
  }
  if (zones !== undefined) {
    for (const [label, peak] of zones.peaks) lines.push(`  ${label} peak RSS ${peak.toFixed(1)} MB   target <= ${TARGET_RSS_MB} MB   ${verdict(peak <= TARGET_RSS_MB)}`);
  }
  if (standalone !== undefined) {
    for (const [label, peak] of standalone.peaks) lines.push(`  ${label} peak RSS ${peak.toFixed(1)} MB   (information: ${settings.hosts} kept connections in one process; ${peak <= TARGET_RSS_MB ? 'within' : 'above'} ${TARGET_RSS_MB} MB)`);
  }
  process.stdout.write(`\ntargets (CPU: median of the warm cycles)\n${lines.join('\n')}\n`);
  process.stdout.write(`the machine may be shared: CPU figures carry other load (wall time most of all); load average now ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}\n`);
  return allMet;
}

async function main(): Promise<number> {
  const settings = settingsOrReason(readSettings);
  if (settings === null) return 2;
  const onSignal = (): void => {
    cleanUpNow();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return (await benchmark(settings)) ? 0 : 1;
  } catch (error) {
    process.stderr.write(`bench: FAILED: ${(error as Error).stack ?? (error as Error).message}\n`);
    return 1;
  } finally {
    await Promise.all(started.map((c) => c.stop(10_000)));
    await nats?.dispose();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    if (keys !== null) removeKeys(keys);
  }
}

process.exitCode = await main();
