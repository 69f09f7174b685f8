// Benchmark of one poll cycle: the real CLI against a bare-ssh2 floor, both polling real
// OpenSSH sshd processes on loopback. Run with `npm run bench:poll`; env N (hosts, default
// 200), CONCURRENCY (default 50), WINDOW (probe CPU window s, default 1), REPEAT (measured
// rounds, one run of each tool, default 5), FLOOR_500=1 (also run the floor at concurrency 500, for its RSS),
// CPU_PROF (a directory: write .cpuprofile files of the measured children).
// Both run on Node's defaults, with no V8 flags of their own.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { preferHostKeyAlgorithms } from '../src/fleet/known-hosts.js';
import { CIPHERS, KEX_ALGORITHMS } from '../src/fleet/ssh.js';
import { buildProbeScript } from '../src/probes/scripts.js';
import { ensureTestUser, loopbackAddresses, makeKeys, pickPort, removeKeys, startSshdFleet, TEST_USER, type Sshd, type SshdKeys } from '../test/helpers/sshd.js';
import type { FloorJob, FloorReport } from './floor-child.js';
import type { ChildUsage } from './usage-hook.js';
import { envInt, settingsOrReason } from './lib/env-int.js';

const CLI = fileURLToPath(new URL('../src/cli.js', import.meta.url));
const FLOOR = fileURLToPath(new URL('./floor-child.js', import.meta.url));
const HOOK = new URL('./usage-hook.js', import.meta.url).href;

// The memory target is stated at this concurrency, whatever CONCURRENCY says.
const MEMORY_CONCURRENCY = 500;
const TARGET_CPU_RATIO = 1.25;
const TARGET_WALL_RATIO = 1.15;
const TARGET_RSS_MB = 250;
// A stuck child must not hold the machine (and the sshd fleet) forever.
const CHILD_LIMIT_MS = 10 * 60 * 1000;
// Per-host deadline for the CLI: slowness on a loaded 2-core box should show as wall time,
// not as timeouts that end hosts early and make fleetpoll look cheaper.
const POLL_TIMEOUT_S = 300;
// Second octet of the loopback addresses; the tests use 77 and 78.
const ADDRESS_OCTET = 79;

type Tool = 'floor' | 'fleetpoll';

interface Settings {
  readonly hosts: number;
  readonly concurrency: number;
  readonly windowSec: number;
  readonly repeat: number;
  readonly floorAt500: boolean;
  readonly cpuProfDir: string | null;
}

interface Measurement {
  readonly tool: Tool;
  readonly hosts: number;
  readonly concurrency: number;
  readonly wallMs: number;
  readonly cpuUserMs: number;
  readonly cpuSystemMs: number;
  readonly maxRssMb: number;
  readonly okHosts: number;
}

interface Bench {
  readonly settings: Settings;
  readonly work: string;
  readonly keys: SshdKeys;
  readonly addresses: readonly string[];
  readonly port: number;
  readonly scriptPath: string;
  readonly configPath: string;
  readonly knownKeysBase64: readonly string[];
  seq: number;
}

let interrupted: NodeJS.Signals | 'EPIPE' | null = null;
let running: ChildProcess | null = null;
let fleet: Sshd[] = [];
const tempDirs: string[] = [];

function onSignal(signal: NodeJS.Signals | 'EPIPE'): void {
  // Every later write to the dead pipe fails too; only a real second signal forces.
  if (signal === 'EPIPE' && interrupted !== null) return;
  if (interrupted !== null) {
    // Second Ctrl-C: no more waiting, but still no sshd or temp dir left behind.
    for (const sshd of fleet) killQuietly(sshd.pid);
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
    process.exit(130);
  }
  interrupted = signal;
  process.stderr.write(`\nbench: ${signal}: stopping the running child, then the sshd fleet (Ctrl-C again to force)\n`);
  running?.kill('SIGTERM');
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

function checkInterrupted(): void {
  if (interrupted !== null) throw new Error(`interrupted by ${interrupted}`);
}

function readSettings(env: NodeJS.ProcessEnv): Settings {
  const int = envInt(env);
  const rawWindow = env.WINDOW;
  const windowSec = rawWindow === undefined || rawWindow === '' ? 1 : Number(rawWindow);
  if (!Number.isFinite(windowSec) || windowSec < 0.1 || windowSec > 30) throw new Error(`WINDOW must be a number of seconds from 0.1 to 30 (got ${JSON.stringify(rawWindow)})`);
  const prof = env.CPU_PROF;
  return {
    hosts: int('N', 200, 1, 4000),
    concurrency: int('CONCURRENCY', 50, 1, 10000),
    windowSec,
    repeat: int('REPEAT', 5, 1, 20),
    floorAt500: env.FLOOR_500 === '1',
    cpuProfDir: prof === undefined || prof === '' ? null : resolve(prof),
  };
}

// Each connection is one descriptor in the measured child, which inherits our limit.
function openFileLimit(): number | null {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line?.split(/\s{2,}/)[1];
    if (soft === undefined) return null;
    return soft === 'unlimited' ? Infinity : Number(soft);
  } catch {
    return null;
  }
}

function inventoryCsv(addresses: readonly string[], port: number, keyPath: string): string {
  const rows = addresses.map((address, i) => `bench-${String(i + 1).padStart(4, '0')},${address},ssh,${port},${TEST_USER},key:${keyPath},linux`);
  return `name,address,transport,port,user,auth,os\n${rows.join('\n')}\n`;
}

// Children get our environment minus fleetpoll's own variables, so a developer's shell
// cannot change what is measured.
function childEnv(usageFile: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('FLEETPOLL_')) env[k] = v;
  env.BENCH_USAGE_FILE = usageFile;
  return env;
}

interface ChildRun {
  readonly wallMs: number;
  readonly usage: ChildUsage;
  readonly stdout: string;
  readonly stderr: string;
}

// Spawns `node --import usage-hook <script> ...args`; wall time is spawn to exit, as a user sees it.
function runChild(bench: Bench, tag: string, script: string, args: readonly string[]): Promise<ChildRun> {
  checkInterrupted();
  const usageFile = join(bench.work, `usage-${tag}.json`);
  const profArgs = bench.settings.cpuProfDir === null ? [] : ['--cpu-prof', `--cpu-prof-dir=${bench.settings.cpuProfDir}`, `--cpu-prof-name=${tag}.cpuprofile`];
  return new Promise((resolveRun, reject) => {
    const started = performance.now();
    let wallMs = 0;
    const child = spawn(process.execPath, [...profArgs, '--import', HOOK, script, ...args], {
      cwd: bench.work,
      env: childEnv(usageFile),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running = child;
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    const watchdog = setTimeout(() => child.kill('SIGKILL'), CHILD_LIMIT_MS);
    child.on('exit', () => {
      wallMs = performance.now() - started;
    });
    child.on('error', (error) => {
      clearTimeout(watchdog);
      running = null;
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(watchdog);
      running = null;
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      if (wallMs === 0) wallMs = performance.now() - started;
      if (interrupted !== null) {
        reject(new Error(`interrupted by ${interrupted}`));
        return;
      }
      if (code !== 0) {
        reject(new Error(`${tag}: child exited with ${signal ?? `code ${code}`}\n--- stdout ---\n${tail(stdout)}\n--- stderr ---\n${tail(stderr)}`));
        return;
      }
      let usage: ChildUsage;
      try {
        usage = JSON.parse(readFileSync(usageFile, 'utf8')) as ChildUsage;
      } catch (error) {
        reject(new Error(`${tag}: the child did not report its usage: ${(error as Error).message}`));
        return;
      }
      resolveRun({ wallMs, usage, stdout, stderr });
    });
  });
}

function tail(text: string, lines = 40): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

function measurement(tool: Tool, hosts: number, concurrency: number, run: ChildRun, okHosts: number): Measurement {
  return {
    tool,
    hosts,
    concurrency,
    wallMs: run.wallMs,
    cpuUserMs: run.usage.cpuUserUs / 1000,
    cpuSystemMs: run.usage.cpuSystemUs / 1000,
    maxRssMb: run.usage.maxRssKb / 1024,
    okHosts,
  };
}

function inventoryFor(bench: Bench, hosts: number): string {
  const path = join(bench.work, `servers-${hosts}.csv`);
  writeFileSync(path, inventoryCsv(bench.addresses.slice(0, hosts), bench.port, bench.keys.clientKeyPath));
  return path;
}

// The real CLI, as a scheduler would start it; a fresh data dir so every run writes the same files.
async function runFleetpoll(bench: Bench, hosts: number, concurrency: number, label: string): Promise<Measurement> {
  bench.seq += 1;
  const tag = `${String(bench.seq).padStart(2, '0')}-fleetpoll-${label}`;
  const dataDir = join(bench.work, `data-${tag}`);
  const args = ['poll', '--config', bench.configPath, '--inventory', inventoryFor(bench, hosts), '--data-dir', dataDir, '--concurrency', String(concurrency)];
  const run = await runChild(bench, tag, CLI, args);
  const summary = /^fleetpoll: polled (\d+) host\(s\) in [\d.]+ s: (.*)$/m.exec(run.stdout);
  if (summary === null) throw new Error(`${tag}: no summary line from the CLI\n--- stdout ---\n${tail(run.stdout)}\n--- stderr ---\n${tail(run.stderr)}`);
  const polled = Number(summary[1]);
  const ok = Number(/^(\d+) ok\b/.exec(summary[2] ?? '')?.[1] ?? 0);
  if (polled !== hosts || ok !== hosts) {
    throw new Error(`${tag}: fleetpoll polled ${polled} host(s), ${ok} ok; expected ${hosts} ok (${summary[2]})\n--- stdout ---\n${tail(run.stdout)}\n--- stderr ---\n${tail(run.stderr)}`);
  }
  return measurement('fleetpoll', hosts, concurrency, run, ok);
}

// The bare ssh2 client.
async function runFloor(bench: Bench, hosts: number, concurrency: number, label: string): Promise<Measurement> {
  bench.seq += 1;
  const tag = `${String(bench.seq).padStart(2, '0')}-floor-${label}`;
  const job: FloorJob = {
    hosts: bench.addresses.slice(0, hosts).map((address) => ({ address, port: bench.port })),
    user: TEST_USER,
    keyPath: bench.keys.clientKeyPath,
    knownKeysBase64: bench.knownKeysBase64,
    scriptPath: bench.scriptPath,
    concurrency,
    kex: KEX_ALGORITHMS,
    ciphers: CIPHERS,
    // What fleetpoll offers for a host whose known_hosts line is ssh-ed25519.
    serverHostKey: preferHostKeyAlgorithms(['ssh-ed25519']),
  };
  const jobPath = join(bench.work, `floor-job-${tag}.json`);
  writeFileSync(jobPath, JSON.stringify(job));
  const run = await runChild(bench, tag, FLOOR, [jobPath]);
  const last = run.stdout.trimEnd().split('\n').pop() ?? '';
  let report: FloorReport;
  try {
    report = JSON.parse(last) as FloorReport;
  } catch {
    throw new Error(`${tag}: no report from the floor child\n--- stdout ---\n${tail(run.stdout)}\n--- stderr ---\n${tail(run.stderr)}`);
  }
  if (report.ok !== hosts) {
    throw new Error(`${tag}: floor got ${report.ok} ok of ${hosts}; first failures:\n  ${report.failures.join('\n  ')}`);
  }
  return measurement('floor', hosts, concurrency, run, report.ok);
}

function runTool(bench: Bench, tool: Tool, hosts: number, concurrency: number, label: string): Promise<Measurement> {
  if (tool === 'fleetpoll') return runFleetpoll(bench, hosts, concurrency, label);
  return runFloor(bench, hosts, concurrency, label);
}

function cpuMs(m: Measurement): number {
  return m.cpuUserMs + m.cpuSystemMs;
}

// Noise on a shared box only ever adds time, so the lowest wall and CPU are the truest;
// peak RSS takes the highest, so the memory verdict errs on the safe side.
function summarise(runs: readonly Measurement[]): Measurement {
  const first = runs[0];
  if (first === undefined) throw new Error('no runs to summarise');
  const best = runs.reduce((a, b) => (cpuMs(b) < cpuMs(a) ? b : a));
  return {
    ...first,
    wallMs: Math.min(...runs.map((r) => r.wallMs)),
    cpuUserMs: best.cpuUserMs,
    cpuSystemMs: best.cpuSystemMs,
    maxRssMb: Math.max(...runs.map((r) => r.maxRssMb)),
  };
}

const COLUMNS = ['', 'hosts', 'conc', 'wall s', 'CPU ms', 'user ms', 'sys ms', 'CPU ms/host', 'peak RSS MB'];
const WIDTHS = [24, 6, 6, 8, 9, 9, 8, 12, 12];

function row(cells: readonly string[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(WIDTHS[i] ?? 10) : c.padStart(WIDTHS[i] ?? 10))).join(' ');
}

function measurementRow(name: string, m: Measurement): string {
  return row([
    name,
    String(m.hosts),
    String(m.concurrency),
    (m.wallMs / 1000).toFixed(2),
    cpuMs(m).toFixed(0),
    m.cpuUserMs.toFixed(0),
    m.cpuSystemMs.toFixed(0),
    (cpuMs(m) / m.hosts).toFixed(2),
    m.maxRssMb.toFixed(1),
  ]);
}

function ratioRow(floor: Measurement, fleetpoll: Measurement, name = 'fleetpoll / floor'): string {
  const x = (a: number, b: number): string => `${(a / b).toFixed(2)}x`;
  return row([
    name,
    '',
    '',
    x(fleetpoll.wallMs, floor.wallMs),
    x(cpuMs(fleetpoll), cpuMs(floor)),
    x(fleetpoll.cpuUserMs, floor.cpuUserMs),
    x(fleetpoll.cpuSystemMs, floor.cpuSystemMs),
    x(cpuMs(fleetpoll) / fleetpoll.hosts, cpuMs(floor) / floor.hosts),
    x(fleetpoll.maxRssMb, floor.maxRssMb),
  ]);
}

function verdict(met: boolean): string {
  return met ? 'met' : 'MISSED';
}

async function benchmark(settings: Settings): Promise<void> {
  const { hosts, concurrency } = settings;
  const limit = openFileLimit();
  const needed = Math.max(concurrency, MEMORY_CONCURRENCY) + 256;
  if (limit === null) process.stdout.write('warning: cannot read the open-file limit (/proc/self/limits); at concurrency 500 the poller needs ~760\n');
  else if (limit < needed) {
    process.stdout.write(`warning: open-file limit is ${limit}, below the ~${needed} descriptors the pollers may need; raise it with \`ulimit -n ${needed * 2}\`\n`);
  }

  ensureTestUser();
  const keys = makeKeys('fleetpoll-bench-');
  const work = mkdtempSync(join(tmpdir(), 'fleetpoll-bench-work-'));
  tempDirs.push(keys.dir, work);
  if (settings.cpuProfDir !== null) mkdirSync(settings.cpuProfDir, { recursive: true });
  try {
    const addresses = loopbackAddresses(hosts, ADDRESS_OCTET);
    const port = pickPort(9);
    const startedFleet = performance.now();
    fleet = await startSshdFleet(addresses, port, keys);
    checkInterrupted();
    const knownHostsPath = join(work, 'known_hosts');
    writeFileSync(knownHostsPath, `${fleet.flatMap((s) => s.knownHostsLines()).join('\n')}\n`, { mode: 0o600 });
    const scriptPath = join(work, 'probe.sh');
    writeFileSync(scriptPath, buildProbeScript('linux', { cpuWindowSec: settings.windowSec, topProcesses: 10 }));
    const configPath = join(work, 'fleetpoll.config.json');
    const config = {
      poll: { timeoutSeconds: POLL_TIMEOUT_S, cpuWindowSeconds: settings.windowSec, topProcesses: 10 },
      ssh: { hostKeyChecking: 'strict', knownHosts: knownHostsPath, systemKnownHosts: join(work, 'no-system-known-hosts') },
    };
    writeFileSync(configPath, `${JSON.stringify(config, null, 2)}\n`);
    const hostKeyBase64 = keys.hostPublicKey.split(/\s+/)[1] ?? '';
    const bench: Bench = { settings, work, keys, addresses, port, scriptPath, configPath, knownKeysBase64: [hostKeyBase64], seq: 0 };

    process.stdout.write(
      `fleetpoll poll benchmark: ${hosts} hosts on ${fleet.length} sshd (${addresses[0]}..${addresses[addresses.length - 1]}:${port}, started in ${((performance.now() - startedFleet) / 1000).toFixed(1)} s), ` +
        `probe window ${settings.windowSec} s, node ${process.version}, ${cpus().length} CPUs, open-file limit ${limit ?? 'unknown'}\n` +
        'fleetpoll = the real CLI (node dist/src/cli.js poll, strict known_hosts, fresh data dir per run); floor = bare ssh2 Client (dist/bench/floor-child.js)\n' +
        'CPU and peak RSS are reported by each child itself at exit (node start-up and module loading included); wall = spawn to exit\n',
    );
    if (settings.cpuProfDir !== null) process.stdout.write(`CPU profiles go to ${settings.cpuProfDir}; profiling inflates every figure below\n`);

    // One untimed pass of each warms the page cache (node_modules, sshd-session) and sshd.
    const warmHosts = Math.min(hosts, concurrency);
    process.stdout.write(`warm-up (not counted): ${warmHosts} host(s) each\n`);
    await runFloor(bench, warmHosts, concurrency, 'warmup');
    await runFleetpoll(bench, warmHosts, concurrency, 'warmup');

    // ABBA order: a slow drift of the machine then weighs on both tools alike.
    const measured: Record<Tool, Measurement[]> = { floor: [], fleetpoll: [] };
    const tools: Tool[] = ['floor', 'fleetpoll'];
    for (let r = 0; r < settings.repeat; r += 1) {
      const order = r % 2 === 0 ? tools : [...tools].reverse();
      for (const tool of order) {
        const m = await runTool(bench, tool, hosts, concurrency, `c${concurrency}`);
        measured[tool].push(m);
        process.stdout.write(`  run ${r + 1}/${settings.repeat} ${measurementRow(tool, m)}\n`);
      }
    }

    // The memory target needs only fleetpoll; the floor there costs as long again (500
    // probes at once saturate 2 cores), so it is opt-in.
    let memory: { floor: Measurement | null; fleetpoll: Measurement } | null = null;
    if (concurrency !== MEMORY_CONCURRENCY) {
      const fleetpollMem = await runFleetpoll(bench, hosts, MEMORY_CONCURRENCY, `c${MEMORY_CONCURRENCY}`);
      process.stdout.write(`  memory run   ${measurementRow('fleetpoll', fleetpollMem)}\n`);
      let floorMem: Measurement | null = null;
      if (settings.floorAt500) {
        floorMem = await runFloor(bench, hosts, MEMORY_CONCURRENCY, `c${MEMORY_CONCURRENCY}`);
        process.stdout.write(`  memory run   ${measurementRow('floor', floorMem)}\n`);
      }
      memory = { floor: floorMem, fleetpoll: fleetpollMem };
    }

    const floor = summarise(measured.floor);
    const fleetpoll = summarise(measured.fleetpoll);
    const lines: string[] = [''];
    const pick = settings.repeat > 1 ? `lowest of ${settings.repeat} runs for wall and CPU, highest for RSS` : 'one run';
    lines.push(`concurrency ${concurrency} (${pick}); all ${hosts} hosts ok in every run`);
    lines.push(row(COLUMNS));
    lines.push(measurementRow('floor (bare ssh2)', floor));
    lines.push(measurementRow('fleetpoll (CLI)', fleetpoll));
    lines.push(ratioRow(floor, fleetpoll));
    const memRuns = memory ?? { floor, fleetpoll };
    if (memory !== null) {
      lines.push('');
      lines.push(`concurrency ${MEMORY_CONCURRENCY} (one run${memory.floor === null ? '' : ' each'})`);
      lines.push(row(COLUMNS));
      if (memory.floor !== null) lines.push(measurementRow('floor (bare ssh2)', memory.floor));
      lines.push(measurementRow('fleetpoll (CLI)', memory.fleetpoll));
      if (memory.floor !== null) lines.push(ratioRow(memory.floor, memory.fleetpoll));
      else lines.push('(floor not run at this concurrency; FLOOR_500=1 adds it)');
    }
    const cpuRatio = cpuMs(fleetpoll) / fleetpoll.hosts / (cpuMs(floor) / floor.hosts);
    // Each round's runs are neighbours in time: fleetpoll's ratio to a floor of the same round is free of the machine's slow drift, so its
    // median shows how far the lowest-of figure above may be luck (here a single run swings by +-15 %).
    const roundRatios = (base: readonly Measurement[]): number[] => measured.fleetpoll.map((m, i) => cpuMs(m) / cpuMs(base[i] ?? m)).sort((a, b) => a - b);
    const median = (sorted: readonly number[]): number => sorted[Math.floor(sorted.length / 2)] ?? cpuRatio;
    const pairRatios = roundRatios(measured.floor);
    const pairMedian = median(pairRatios);
    const wallRatio = fleetpoll.wallMs / floor.wallMs;
    const rss = memRuns.fleetpoll.maxRssMb;
    const atOnce = Math.min(hosts, MEMORY_CONCURRENCY);
    lines.push('');
    lines.push('targets');
    lines.push(`  CPU per host  fleetpoll/floor = ${cpuRatio.toFixed(2)}x   target <= ${TARGET_CPU_RATIO.toFixed(2)}x   ${verdict(cpuRatio <= TARGET_CPU_RATIO)}`);
    if (pairRatios.length > 1) {
      lines.push(`                (per-round ratios ${pairRatios.map((r) => r.toFixed(2)).join(' ')}; median ${pairMedian.toFixed(2)}x; the verdict uses the lowest-of figure)`);
    }
    lines.push(`  wall time     fleetpoll/floor = ${wallRatio.toFixed(2)}x   target <= ${TARGET_WALL_RATIO.toFixed(2)}x   ${verdict(wallRatio <= TARGET_WALL_RATIO)}`);
    lines.push(
      `  peak RSS      fleetpoll at concurrency ${MEMORY_CONCURRENCY} = ${rss.toFixed(1)} MB   target <= ${TARGET_RSS_MB} MB   ${verdict(rss <= TARGET_RSS_MB)}` +
        (atOnce < MEMORY_CONCURRENCY ? `   (only ${hosts} hosts, so at most ${atOnce} at once: run with N=${MEMORY_CONCURRENCY} for the real figure)` : ''),
    );
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    const pids = fleet.map((s) => s.pid);
    await Promise.all(fleet.map((s) => s.stop()));
    fleet = [];
    removeKeys(keys);
    rmSync(work, { recursive: true, force: true });
    if (pids.length > 0) process.stdout.write(`stopped ${pids.length} sshd (pids ${pids[0]}..${pids[pids.length - 1]}), removed ${work}\n`);
  }
}

async function main(): Promise<number> {
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  // A reader that went away (`| head`) would otherwise crash us past the cleanup.
  process.stdout.on('error', () => onSignal('EPIPE'));
  const settings = settingsOrReason(readSettings);
  if (settings === null) return 2;
  try {
    await benchmark(settings);
    return 0;
  } catch (error) {
    process.stderr.write(`bench: FAILED: ${(error as Error).message}\n`);
    return interrupted !== null ? 130 : 1;
  }
}

process.exitCode = await main();
