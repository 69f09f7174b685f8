// Benchmark: part of the fleet down (issue 15). In one run, the real CLI polls HEALTHY hosts (real
// OpenSSH sshd on loopback, bench/lib/sshd-fleet.ts) alone, then the same hosts plus SILENT ones
// (accept TCP, never speak) and REFUSED ones (nothing listens), default settings and a 10 s
// deadline. It prints cycle wall, the poller's peak CPU (busiest second), CPU time and peak RSS for both runs, their ratios against
// the targets, and checks the status of every row of recentlog.csv. The healthy hosts answer with
// the CANNED probe by default (see sshd-fleet.ts: on loopback 1,000 real probes would load the
// poller's own cores and time out), and their sshd serve connections without re-executing (sshd -r:
// 1,000 sshd execs at once cost the healthy hosts their deadline before the banner). Run with `npm run bench:dead-hosts`; env HEALTHY (default
// 1000), SILENT (200), REFUSED (2000), TIMEOUT (deadline s, 10), ORDER (mixed | dead-first |
// dead-last: where the dead hosts are in servers.csv, default mixed), PROBE (canned | real), ROUNDS
// (pairs of runs, default 3; the targets compare medians),
// CPU_PROF (a directory: write .cpuprofile files of the measured CLI runs; inflates every figure).
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { loopbackAddresses } from '../test/helpers/sshd.js';
import { describeHostProbe, startFleet, type HostProbe, type SshdFleet } from './lib/sshd-fleet.js';
import type { ChildUsage } from './usage-hook.js';
import { envInt, settingsOrReason } from './lib/env-int.js';
import { parseProcStat } from './lib/proc-stat.js';

const CLI = fileURLToPath(new URL('../src/cli.js', import.meta.url));
const HOOK = new URL('./usage-hook.js', import.meta.url).href;
// Second octets of the loopback blocks: bench/poll.ts uses 79, the tests 77, 78, 80-83.
const HEALTHY_OCTET = 84;
const SILENT_OCTET = 85;
const REFUSED_OCTET = 86;
// Targets of issue 15.
const TARGET_WALL = 1.2;
const TARGET_CPU = 1.2;
const TARGET_RSS = 1.2;
const CHILD_LIMIT_MS = 15 * 60 * 1000;

type Order = 'mixed' | 'dead-first' | 'dead-last';
type Kind = 'healthy' | 'silent' | 'refused';

interface Settings {
  readonly healthy: number;
  readonly silent: number;
  readonly refused: number;
  readonly timeoutSec: number;
  readonly order: Order;
  readonly probe: HostProbe;
  readonly cpuProfDir: string | null;
  /** Pairs of runs (healthy alone, then with dead hosts); the targets apply to the medians. */
  readonly rounds: number;
}

interface Run {
  readonly label: string;
  readonly hosts: number;
  readonly wallMs: number;
  readonly cpuMs: number;
  /** The CLI's CPU in its busiest second, % of one core. */
  readonly peakCpuPct: number;
  readonly rssMb: number;
  readonly statuses: Map<string, number>;
  readonly wrong: string[];
}

let running: ChildProcess | null = null;
let stopping = false;
// Set while the sshd fleet runs: a second Ctrl-C must not leave sshd behind.
let onInterrupt: (() => void) | null = null;

function readSettings(env: NodeJS.ProcessEnv): Settings {
  const int = envInt(env);
  const order = env.ORDER ?? 'mixed';
  if (order !== 'mixed' && order !== 'dead-first' && order !== 'dead-last') throw new Error(`ORDER must be mixed, dead-first or dead-last (got ${JSON.stringify(order)})`);
  const probe = env.PROBE ?? 'canned';
  if (probe !== 'canned' && probe !== 'real') throw new Error(`PROBE must be canned or real (got ${JSON.stringify(probe)})`);
  return { healthy: int('HEALTHY', 1000, 1, 4000), silent: int('SILENT', 200, 0, 1000), refused: int('REFUSED', 2000, 0, 10000), timeoutSec: int('TIMEOUT', 10, 1, 300), order, probe, cpuProfDir: env.CPU_PROF ? resolve(env.CPU_PROF) : null, rounds: int('ROUNDS', 3, 1, 20) };
}

interface Row {
  readonly name: string;
  readonly address: string;
  readonly kind: Kind;
}

// Dead hosts spread evenly among the healthy ones (mixed), or all before or after them.
function arrange(healthy: Row[], dead: Row[], order: Order): Row[] {
  if (order === 'dead-first') return [...dead, ...healthy];
  if (order === 'dead-last') return [...healthy, ...dead];
  const all = [...healthy.map((r, i) => ({ r, at: i / healthy.length })), ...dead.map((r, i) => ({ r, at: (i + 0.5) / dead.length }))];
  return all.sort((a, b) => a.at - b.at).map((x) => x.r);
}

const CPU_SAMPLE_MS = 250;
const PEAK_WINDOW_SAMPLES = 4;

// The process's user + system CPU so far in ms, or null once it has gone.
function cpuMsOf(pid: number): number | null {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8')).cpuMs;
  } catch {
    return null;
  }
}

// Samples a running process's CPU; peakPct() is its busiest window of PEAK_WINDOW_SAMPLES samples (1 s).
function sampleCpu(pid: number): { stop(): void; peakPct(): number } {
  const samples: { atMs: number; cpuMs: number }[] = [];
  const take = (): void => {
    const cpuMs = cpuMsOf(pid);
    if (cpuMs !== null) samples.push({ atMs: performance.now(), cpuMs });
  };
  take();
  const timer = setInterval(take, CPU_SAMPLE_MS);
  return {
    stop: () => clearInterval(timer),
    peakPct: () => {
      let peak = 0;
      for (let i = PEAK_WINDOW_SAMPLES; i < samples.length; i += 1) {
        const a = samples[i - PEAK_WINDOW_SAMPLES]!;
        const b = samples[i]!;
        peak = Math.max(peak, ((b.cpuMs - a.cpuMs) * 100) / (b.atMs - a.atMs));
      }
      return peak;
    },
  };
}

// The real CLI with the usage hook; wall = spawn to exit, as a scheduler sees it.
function runCli(work: string, label: string, inventoryPath: string, configPath: string, expected: ReadonlyMap<string, Kind>, cpuProfDir: string | null = null): Promise<Run> {
  const dataDir = join(work, `data-${label}`);
  const usageFile = join(work, `usage-${label}.json`);
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('FLEETPOLL_')) env[k] = v;
  env.BENCH_USAGE_FILE = usageFile;
  return new Promise((resolveRun, reject) => {
    const started = performance.now();
    let wallMs = 0;
    const prof = cpuProfDir === null ? [] : ['--cpu-prof', '--cpu-prof-dir', cpuProfDir, '--cpu-prof-name', `${label}.cpuprofile`];
    const child = spawn(process.execPath, [...prof, '--import', HOOK, CLI, 'poll', '--config', configPath, '--inventory', inventoryPath, '--data-dir', dataDir, '--quiet'], {
      cwd: work,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running = child;
    const cpu = sampleCpu(child.pid ?? -1);
    const err: Buffer[] = [];
    child.stdout.resume();
    child.stderr.on('data', (c: Buffer) => err.push(c));
    const watchdog = setTimeout(() => child.kill('SIGKILL'), CHILD_LIMIT_MS);
    child.on('exit', () => {
      wallMs = performance.now() - started;
      cpu.stop();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(watchdog);
      running = null;
      if (stopping) return reject(new Error('interrupted'));
      // 0: all ok; 1: some hosts down (expected in the run with dead hosts).
      if (code !== 0 && code !== 1) return reject(new Error(`${label}: fleetpoll exited with ${code}\n${Buffer.concat(err).toString('utf8').slice(-3000)}`));
      try {
        const usage = JSON.parse(readFileSync(usageFile, 'utf8')) as ChildUsage;
        const records = parse(readFileSync(join(dataDir, 'recentlog.csv')), { bom: true, columns: true }) as Record<string, string>[];
        const statuses = new Map<string, number>();
        const wrong: string[] = [];
        for (const record of records) {
          const status = record.status ?? '';
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          const kind = expected.get(record.server ?? '');
          const want = kind === 'healthy' ? 'ok' : kind === 'silent' ? 'timeout' : 'unreachable';
          const errorOk = kind !== 'refused' || /connection refused/.test(record.error ?? '');
          if (kind === undefined || status !== want || !errorOk) wrong.push(`${record.server}: ${status} (${record.phase}: ${record.error}), expected ${want}`);
        }
        if (records.length !== expected.size) wrong.push(`recentlog.csv has ${records.length} rows, expected ${expected.size}`);
        resolveRun({ label, hosts: expected.size, wallMs, cpuMs: (usage.cpuUserUs + usage.cpuSystemUs) / 1000, peakCpuPct: cpu.peakPct(), rssMb: usage.maxRssKb / 1024, statuses, wrong });
      } catch (error) {
        reject(error as Error);
      }
    });
  });
}

// The median of each figure over the rounds; statuses of the first round, every wrong row of all.
function medianRun(label: string, runs: readonly Run[]): Run {
  const median = (values: number[]): number => {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  };
  const first = runs[0] as Run;
  return {
    label,
    hosts: first.hosts,
    wallMs: median(runs.map((r) => r.wallMs)),
    peakCpuPct: median(runs.map((r) => r.peakCpuPct)),
    cpuMs: median(runs.map((r) => r.cpuMs)),
    rssMb: median(runs.map((r) => r.rssMb)),
    statuses: first.statuses,
    wrong: runs.flatMap((r) => r.wrong),
  };
}

function line(run: Run): string {
  const statuses = [...run.statuses.entries()].map(([s, n]) => `${n} ${s}`).join(', ');
  return `${run.label.padEnd(22)} ${String(run.hosts).padStart(6)} ${(run.wallMs / 1000).toFixed(2).padStart(8)} ${run.peakCpuPct.toFixed(0).padStart(9)} ${run.cpuMs.toFixed(0).padStart(8)} ${run.rssMb.toFixed(1).padStart(8)}   ${statuses}`;
}

async function benchmark(settings: Settings): Promise<boolean> {
  let fleet: SshdFleet | null = null;
  const silentServers: Server[] = [];
  const silentSockets: Socket[] = [];
  try {
    fleet = await startFleet({ hosts: settings.healthy, octet: HEALTHY_OCTET, portSeed: 15, prefix: 'fleetpoll-bench-dead-', probe: settings.probe, noReexec: true, drainStdin: true });
    onInterrupt = fleet.killNow;
    const { port, work } = fleet;
    const healthyRows: Row[] = fleet.addresses.map((address, i) => ({ name: `ok-${i + 1}`, address, kind: 'healthy' }));
    const silentRows: Row[] = loopbackAddresses(settings.silent, SILENT_OCTET).map((address, i) => ({ name: `silent-${i + 1}`, address, kind: 'silent' }));
    const refusedRows: Row[] = loopbackAddresses(settings.refused, REFUSED_OCTET).map((address, i) => ({ name: `refused-${i + 1}`, address, kind: 'refused' }));
    for (const row of silentRows) {
      const server = createServer((sock) => {
        silentSockets.push(sock);
        sock.on('error', () => {});
      });
      await new Promise<void>((r) => server.listen({ port, host: row.address, backlog: 511 }, r));
      silentServers.push(server);
    }
    const configPath = join(work, 'fleetpoll.config.json');
    // Default settings except the deadline, and known_hosts of this bench.
    writeFileSync(configPath, JSON.stringify({ poll: { timeoutSeconds: settings.timeoutSec }, ssh: { hostKeyChecking: 'strict', knownHosts: fleet.knownHostsPath, systemKnownHosts: join(work, 'none') } }));
    const alone = join(work, 'servers-healthy.csv');
    writeFileSync(alone, fleet.inventory(healthyRows));
    const withDead = join(work, 'servers-with-dead.csv');
    const arranged = arrange(healthyRows, [...silentRows, ...refusedRows], settings.order);
    writeFileSync(withDead, fleet.inventory(arranged));

    process.stdout.write(
      `fleetpoll dead-hosts benchmark: ${settings.healthy} healthy (${fleet.sshd.length} sshd, started in ${(fleet.startedMs / 1000).toFixed(1)} s), ` +
        `${settings.silent} silent, ${settings.refused} refused (order ${settings.order}), deadline ${settings.timeoutSec} s, other settings default; ` +
        `node ${process.version}, ${cpus().length} CPUs, load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}\n` +
        `${describeHostProbe(settings.probe)}${settings.probe === 'canned' ? ', after draining the streamed probe (cat >/dev/null)' : ''}; sshd -r (no re-exec per connection)\nCPU time and peak RSS are the CLI's own (reported at its exit); peak CPU = its busiest second (/proc/<pid>/stat every ${CPU_SAMPLE_MS} ms); wall = spawn to exit\n`,
    );
    // Untimed: warms the page cache and sshd.
    const warm = healthyRows.slice(0, Math.min(50, healthyRows.length));
    const warmPath = join(work, 'servers-warm.csv');
    writeFileSync(warmPath, fleet.inventory(warm));
    await runCli(work, 'warmup', warmPath, configPath, new Map(warm.map((r) => [r.name, r.kind])));

    // Peak RSS moves by tens of MB between identical runs (when V8 happens to collect): the targets
    // compare the medians of ROUNDS interleaved pairs.
    const healthyRuns: Run[] = [];
    const deadRuns: Run[] = [];
    for (let round = 1; round <= settings.rounds; round += 1) {
      healthyRuns.push(await runCli(work, `healthy-alone-${round}`, alone, configPath, new Map(healthyRows.map((r) => [r.name, r.kind])), settings.cpuProfDir));
      deadRuns.push(await runCli(work, `with-dead-${round}`, withDead, configPath, new Map(arranged.map((r) => [r.name, r.kind])), settings.cpuProfDir));
    }
    const healthy = medianRun('healthy-alone median', healthyRuns);
    const dead = medianRun('with-dead median', deadRuns);

    const out: string[] = ['', `${'run'.padEnd(22)} ${'hosts'.padStart(6)} ${'wall s'.padStart(8)} ${'peak CPU%'.padStart(9)} ${'CPU ms'.padStart(8)} ${'RSS MB'.padStart(8)}   statuses`];
    for (let i = 0; i < settings.rounds; i += 1) out.push(line(healthyRuns[i] as Run), line(deadRuns[i] as Run));
    out.push(line(healthy), line(dead));
    const wallLimit = Math.max(settings.timeoutSec * 1000, healthy.wallMs) * TARGET_WALL;
    const peakCpuRatio = dead.peakCpuPct / healthy.peakCpuPct;
    const cpuRatio = dead.cpuMs / healthy.cpuMs;
    const rssRatio = dead.rssMb / healthy.rssMb;
    const verdict = (met: boolean): string => (met ? 'met' : 'MISSED');
    const wallMet = dead.wallMs <= wallLimit;
    const rowsMet = healthy.wrong.length === 0 && dead.wrong.length === 0;
    out.push('', 'targets');
    out.push(`  wall with dead ${(dead.wallMs / 1000).toFixed(2)} s <= max(deadline, healthy wall) x ${TARGET_WALL} = ${(wallLimit / 1000).toFixed(2)} s   ${verdict(wallMet)}`);
    out.push(`  peak CPU (busiest second) with dead / healthy alone = ${peakCpuRatio.toFixed(2)}x   target <= ${TARGET_CPU}x   ${verdict(peakCpuRatio <= TARGET_CPU)}`);
    out.push(`  CPU time with dead / healthy alone = ${cpuRatio.toFixed(2)}x   (for information, with ${(dead.hosts / healthy.hosts).toFixed(1)}x the hosts: ${((dead.cpuMs - healthy.cpuMs) / Math.max(1, dead.hosts - healthy.hosts)).toFixed(2)} ms per added host)`);
    out.push(`  peak RSS with dead / healthy alone = ${rssRatio.toFixed(2)}x   target <= ${TARGET_RSS}x   ${verdict(rssRatio <= TARGET_RSS)}`);
    out.push(`  every row's status right: ${verdict(rowsMet)}`);
    for (const wrong of [...healthy.wrong, ...dead.wrong].slice(0, 20)) out.push(`    ${wrong}`);
    process.stdout.write(`${out.join('\n')}\n`);
    return wallMet && peakCpuRatio <= TARGET_CPU && rssRatio <= TARGET_RSS && rowsMet;
  } finally {
    for (const s of silentSockets) s.destroy();
    for (const s of silentServers) s.close();
    onInterrupt = null;
    await fleet?.stop();
  }
}

async function main(): Promise<number> {
  const stop = (): void => {
    if (stopping && onInterrupt !== null) {
      onInterrupt();
      process.exit(130);
    }
    stopping = true;
    running?.kill('SIGTERM');
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const settings = settingsOrReason(readSettings);
  if (settings === null) return 2;
  try {
    return (await benchmark(settings)) ? 0 : 1;
  } catch (error) {
    process.stderr.write(`bench: FAILED: ${(error as Error).message}\n`);
    return 1;
  }
}

process.exitCode = await main();
