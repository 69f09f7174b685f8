// Benchmark of what the Linux probe costs the host it runs on, against `top -b -n 2 -d 1`
// (and `ps aux`, for reference) on the same machine at the same moment. Run with
// `npm run bench:probe`; env EXTRA (processes to add for the busy case, default 2000),
// REPEAT (rounds per process count, default 5), WINDOW (probe CPU window s, default 1 as in
// config), PROBE_FILE (an older probe script, measured alongside src/probes/linux.sh in the
// same rounds, each run next to the current one's: a before/after comparison that holds on
// a loaded machine), MOUNTS (root: every run inside a private mount namespace holding this
// many bind mounts of one ext2 disk, as on a container host; default 0, none).
//
// The probe runs exactly as a transport runs it: `sh -s` with the script on stdin, under the
// machine's /bin/sh and under BusyBox ash with only BusyBox applets on PATH. CPU is the
// kernel's account of the measured command and every descendant it waited for
// (getrusage(RUSAGE_CHILDREN), read with bash's `times` builtin, to the millisecond), never
// wall time: the machine may be shared. Each figure is the median of REPEAT runs; the probe
// and top runs of one round are neighbours in time.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseProbeOutput } from '../src/probes/protocol.js';
import { buildProbeScript } from '../src/probes/scripts.js';
import { envInt, settingsOrReason } from './lib/env-int.js';

// The issue's targets: no dearer than top at 2,000+ processes, under 20 ms on a quiet host.
const TARGET_BUSY_RATIO = 1;
const TARGET_QUIET_MS = 20;
// Below this many processes a host counts as quiet for the 20 ms target.
const QUIET_MAX_PROCESSES = 400;
// The busy-host target is stated from this many processes up.
const BUSY_MIN_PROCESSES = 2000;
// config.ts's default for poll.topProcesses.
const TOP_PROCESSES = 10;
// A run that hangs must not hold the machine; a probe with a 1 s window needs ~1.2 s.
const RUN_LIMIT_MS = 120_000;
// How long making MOUNTS bind mounts may take (a mount is a fork and exec: ~2 ms each).
const MOUNTS_SETUP_LIMIT_MS = 300_000;
// The extra processes end by themselves after this long should the bench be killed outright.
const EXTRA_LIFETIME_S = 3600;

type Tool = 'probe' | 'top' | 'ps';
type ShellName = 'sh' | 'busybox';
// A measured probe: the current script ("probe") or PROBE_FILE's ("before"), under one shell.
type ProbeKey = `${'probe' | 'before'} ${ShellName}`;

interface Settings {
  readonly extra: number;
  readonly repeat: number;
  readonly windowSec: number;
  readonly probeFile: string | null;
  readonly mounts: number;
}

// How to run one measured command: argv (after the bash wrapper), environment, stdin.
interface Command {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly stdin: string;
}

interface Usage {
  readonly userMs: number;
  readonly sysMs: number;
}

interface Level {
  readonly label: string;
  readonly processes: number;
  readonly runs: Map<string, Usage[]>;
}

let interrupted: NodeJS.Signals | null = null;
let extras: ChildProcess | null = null;
// The process holding the MOUNTS mount namespace open; measured commands enter it with nsenter.
let mountHolder: ChildProcess | null = null;
const running = new Set<ChildProcess>();
const tempDirs: string[] = [];

function onSignal(signal: NodeJS.Signals): void {
  if (interrupted !== null) {
    cleanUp();
    process.exit(130);
  }
  interrupted = signal;
  process.stderr.write(`\nbench: ${signal}: stopping (Ctrl-C again to force)\n`);
  for (const child of running) child.kill('SIGKILL');
}

function cleanUp(): void {
  stopExtras();
  stopMountHolder();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.length = 0;
}

function readSettings(env: NodeJS.ProcessEnv): Settings {
  const int = envInt(env);
  const rawWindow = env.WINDOW;
  const windowSec = rawWindow === undefined || rawWindow === '' ? 1 : Number(rawWindow);
  if (!Number.isFinite(windowSec) || windowSec < 0.1 || windowSec > 30) throw new Error(`WINDOW must be a number of seconds from 0.1 to 30 (got ${JSON.stringify(rawWindow)})`);
  const file = env.PROBE_FILE;
  const probeFile = file === undefined || file === '' ? null : resolve(file);
  if (probeFile !== null && !existsSync(probeFile)) throw new Error(`PROBE_FILE ${probeFile} does not exist`);
  return { extra: int('EXTRA', 2000, 0, 30000), repeat: int('REPEAT', 5, 1, 50), windowSec, probeFile, mounts: int('MOUNTS', 0, 0, 10000) };
}

// The scripts as the poller streams them; PROBE_FILE gets the same two tunable lines scripts.ts prepends.
function probeScripts(settings: Settings): Map<'probe' | 'before', string> {
  const scripts = new Map<'probe' | 'before', string>([['probe', buildProbeScript('linux', { cpuWindowSec: settings.windowSec, topProcesses: TOP_PROCESSES })]]);
  if (settings.probeFile !== null) scripts.set('before', `FP_WINDOW=${settings.windowSec}\nFP_TOPN=${TOP_PROCESSES}\n${readFileSync(settings.probeFile, 'utf8')}`);
  return scripts;
}

function which(command: string): string | null {
  const found = spawnSync('sh', ['-c', 'command -v "$1"', 'sh', command], { encoding: 'utf8' });
  const path = found.stdout.trim();
  return found.status === 0 && path.startsWith('/') ? path : null;
}

// A PATH holding only BusyBox applets, as on an Alpine host.
function busyboxOnlyPath(busybox: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'fleetpoll-bench-busybox-'));
  tempDirs.push(dir);
  const list = spawnSync(busybox, ['--list'], { encoding: 'utf8' });
  if (list.status !== 0) throw new Error(`${busybox} --list failed: ${list.stderr}`);
  for (const applet of list.stdout.split('\n')) {
    if (/^[\w.[-]+$/.test(applet)) symlinkSync(busybox, join(dir, applet));
  }
  return dir;
}

function countProcesses(): number {
  return readdirSync('/proc').filter((entry) => /^\d+$/.test(entry)).length;
}

// bash's `times` prints two lines, the shell's own and its children's: "0m0.012s 0m0.004s".
function parseTimes(text: string): Usage {
  const line = text.trim().split('\n')[1] ?? '';
  const match = /^(\d+)m(\d+\.\d+)s (\d+)m(\d+\.\d+)s$/.exec(line.trim());
  if (match === null) throw new Error(`cannot read bash times output ${JSON.stringify(text)}`);
  const ms = (min: string | undefined, sec: string | undefined): number => (Number(min) * 60 + Number(sec)) * 1000;
  return { userMs: ms(match[1], match[2]), sysMs: ms(match[3], match[4]) };
}

/**
 * Runs `command` as the only child of a bash that then reports, on fd 3, the CPU of its
 * waited-for children: the command and everything it started and waited for.
 */
function measure(bash: string, command: Command): Promise<{ usage: Usage; stdout: string; stderr: string; exitCode: number | null }> {
  if (interrupted !== null) return Promise.reject(new Error(`interrupted by ${interrupted}`));
  const wrapper = '"$@"; rc=$?; times >&3; exit $rc';
  // In the MOUNTS namespace, bash runs under nsenter: its `times` still counts only the command.
  const argv = [bash, '--norc', '--noprofile', '-c', wrapper, 'bench', ...command.argv];
  const holder = mountHolder?.pid;
  const [file, ...args] = holder === undefined ? argv : ['nsenter', '-t', String(holder), '-m', '--', ...argv];
  return new Promise((resolveRun, reject) => {
    const child = spawn(file ?? bash, args, { env: { ...command.env, LC_ALL: 'C' }, stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
    running.add(child);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const times: Buffer[] = [];
    child.stdout?.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => err.push(chunk));
    const fd3 = child.stdio[3];
    if (fd3 === null || fd3 === undefined || !('on' in fd3)) throw new Error('no fd 3 pipe');
    fd3.on('data', (chunk: Buffer) => times.push(chunk));
    const watchdog = setTimeout(() => child.kill('SIGKILL'), RUN_LIMIT_MS);
    child.on('error', (error) => {
      clearTimeout(watchdog);
      running.delete(child);
      reject(error);
    });
    child.on('close', (exitCode) => {
      clearTimeout(watchdog);
      running.delete(child);
      if (interrupted !== null) {
        reject(new Error(`interrupted by ${interrupted}`));
        return;
      }
      try {
        resolveRun({ usage: parseTimes(Buffer.concat(times).toString('utf8')), stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), exitCode });
      } catch (error) {
        reject(error as Error);
      }
    });
    child.stdin?.on('error', () => {});
    child.stdin?.end(command.stdin);
  });
}

// Starts `count` sleeping processes in a process group of their own, and waits until they all run.
async function startExtras(count: number): Promise<void> {
  const before = countProcesses();
  const script = 'i=0; while [ "$i" -lt "$1" ]; do sleep "$2" </dev/null >/dev/null 2>&1 & i=$((i + 1)); done; echo ready; wait';
  const leader = spawn('/bin/sh', ['-c', script, 'sh', String(count), String(EXTRA_LIFETIME_S)], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
  extras = leader;
  await new Promise<void>((resolveReady, reject) => {
    leader.on('error', reject);
    leader.on('exit', () => reject(new Error('the process that starts the extra processes ended early (process limit?)')));
    leader.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) resolveReady();
    });
  });
  // Forked is not yet exec'd: wait for the count to settle at its new level.
  const deadline = Date.now() + 30_000;
  while (countProcesses() < before + count * 0.98) {
    if (Date.now() > deadline) throw new Error(`only ${countProcesses() - before} of ${count} extra processes appeared`);
    await new Promise((r) => setTimeout(r, 200));
  }
  await new Promise((r) => setTimeout(r, 1000));
}

function stopExtras(): void {
  if (extras?.pid === undefined) return;
  try {
    process.kill(-extras.pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
  extras = null;
}

/**
 * Starts a process in a private mount namespace holding one ext2 disk (a loop device) and
 * `count` bind mounts of it under kubelet-like names, and waits until they are all made.
 * The mounts and the loop device go when that process is killed.
 */
async function startMountHolder(count: number): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('MOUNTS needs root (a mount namespace, a loop device)');
  for (const tool of ['unshare', 'nsenter', 'mkfs.ext2']) {
    if (which(tool) === null) throw new Error(`MOUNTS needs ${tool} (util-linux, e2fsprogs)`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'fleetpoll-bench-mounts-'));
  tempDirs.push(dir);
  const setup = [
    'd=$1 n=$2',
    'mkdir "$d/disk" && truncate -s 8M "$d/img" && mkfs.ext2 -q -F "$d/img" && mount -o loop "$d/img" "$d/disk" || exit 97',
    'i=0',
    'while [ $i -lt "$n" ]; do',
    '  m=$(printf "%s/m/pod-%08d-0000-4000-8000-%012d/volumes/kubernetes.io~empty-dir/cache" "$d" $i $i)',
    '  mkdir -p "$m" && mount --bind "$d/disk" "$m" || exit 98',
    '  i=$((i + 1))',
    'done',
    'echo ready',
    `exec sleep ${EXTRA_LIFETIME_S}`,
  ].join('\n');
  const holder = spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c', setup, 'sh', dir, String(count)], { stdio: ['ignore', 'pipe', 'pipe'] });
  mountHolder = holder;
  const err: Buffer[] = [];
  holder.stderr?.on('data', (chunk: Buffer) => err.push(chunk));
  await new Promise<void>((resolveReady, reject) => {
    const timer = setTimeout(() => reject(new Error(`${count} mounts were not made within ${MOUNTS_SETUP_LIMIT_MS / 1000} s`)), MOUNTS_SETUP_LIMIT_MS);
    holder.on('error', reject);
    holder.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`making the mounts failed (exit ${code}): ${Buffer.concat(err).toString().trim()}`));
    });
    holder.stdout?.on('data', (chunk: Buffer) => {
      if (!chunk.toString().includes('ready')) return;
      clearTimeout(timer);
      resolveReady();
    });
  });
}

function stopMountHolder(): void {
  if (mountHolder?.pid === undefined) return;
  try {
    process.kill(mountHolder.pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
  mountHolder = null;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

// One round per repeat: each shell's probe, then top and ps, so that every figure of a round shares the machine's state.
async function measureLevel(label: string, settings: Settings, bash: string, shells: ReadonlyMap<ProbeKey, Command>, references: ReadonlyMap<Tool, Command>): Promise<Level> {
  const processes = countProcesses();
  const runs = new Map<string, Usage[]>();
  const record = (key: string, usage: Usage): void => {
    const list = runs.get(key) ?? [];
    list.push(usage);
    runs.set(key, list);
  };
  for (let round = 1; round <= settings.repeat; round++) {
    for (const [shell, command] of shells) {
      const run = await measure(bash, command);
      const parsed = parseProbeOutput(run.stdout);
      if (run.exitCode !== 0 || !parsed.ok) {
        throw new Error(`${shell} failed (exit ${run.exitCode}): ${parsed.ok ? '' : parsed.error}\n${run.stderr}`);
      }
      // Noise on stderr is a probe bug, not a failed run (older revisions have some): say so, keep measuring.
      if (run.stderr !== '') process.stderr.write(`  warning: ${shell} wrote to stderr: ${run.stderr.trim()}\n`);
      const tasks = /^tasks\t(\d+)\t(\d+)$/m.exec(run.stdout);
      const seen = tasks === null ? 0 : Number(tasks[1]) + Number(tasks[2]);
      if (seen < processes * 0.9) throw new Error(`${shell} saw ${seen} processes, /proc has ${processes}`);
      record(shell, run.usage);
    }
    for (const [tool, command] of references) {
      const run = await measure(bash, command);
      if (run.exitCode !== 0) throw new Error(`${tool} failed (exit ${run.exitCode}): ${run.stderr}`);
      record(tool, run.usage);
    }
    process.stderr.write(`  ${label}: round ${round}/${settings.repeat} done\n`);
  }
  return { label, processes, runs };
}

function report(levels: readonly Level[], settings: Settings, shells: ReadonlyMap<ProbeKey, Command>): string {
  const lines: string[] = [];
  const fmt = (ms: number): string => ms.toFixed(1).padStart(7);
  const med = (level: Level, key: string): { user: number; sys: number; total: number } => {
    const runs = level.runs.get(key) ?? [];
    return { user: median(runs.map((u) => u.userMs)), sys: median(runs.map((u) => u.sysMs)), total: median(runs.map((u) => u.userMs + u.sysMs)) };
  };
  lines.push('');
  lines.push(`probe CPU per run vs top -b -n 2 -d 1 (median of ${settings.repeat}; ms of user+sys CPU, children included; window ${settings.windowSec} s)`);
  lines.push(`probe: src/probes/linux.sh${settings.probeFile === null ? '' : `; before: ${settings.probeFile}, run next to it in each round`}`);
  if (settings.mounts > 0) lines.push(`every run in a mount namespace holding ${settings.mounts} bind mounts of one ext2 disk`);
  lines.push('');
  lines.push(`${'processes'.padEnd(10)} ${'command'.padEnd(22)} ${'user'.padStart(7)} ${'sys'.padStart(7)} ${'total'.padStart(7)}  ${'vs top'.padStart(7)}`);
  const verdicts: string[] = [];
  for (const level of levels) {
    const top = med(level, 'top');
    for (const key of [...shells.keys(), 'top', 'ps']) {
      const m = med(level, key);
      const name = key === 'top' ? 'top -b -n 2 -d 1' : key === 'ps' ? 'ps aux' : `${key.split(' ')[0]} (${key.endsWith(' sh') ? '/bin/sh' : 'busybox ash'})`;
      const ratio = top.total > 0 ? `${(m.total / top.total).toFixed(2)}x` : '-';
      lines.push(`${String(level.processes).padEnd(10)} ${name.padEnd(22)} ${fmt(m.user)} ${fmt(m.sys)} ${fmt(m.total)}  ${ratio.padStart(7)}`);
      if (key.startsWith('before ')) {
        // The same rounds' medians of the current probe against the older one.
        const now = med(level, key.replace('before', 'probe'));
        verdicts.push(`  ${level.processes} processes, ${name.replace('before', 'probe')}: ${(now.total / m.total).toFixed(2)}x before (${m.total.toFixed(1)} -> ${now.total.toFixed(1)} ms)`);
      }
      // The issue's targets are for hosts as they come; with MOUNTS the mounts are what is measured.
      if (!key.startsWith('probe ') || settings.mounts > 0) continue;
      if (level.processes >= BUSY_MIN_PROCESSES) {
        const ratioValue = m.total / top.total;
        verdicts.push(`  ${level.processes} processes, ${name}: ${ratioValue.toFixed(2)}x top   target <= ${TARGET_BUSY_RATIO.toFixed(2)}x   ${ratioValue <= TARGET_BUSY_RATIO ? 'ok' : 'MISSED'}`);
      } else if (level.processes <= QUIET_MAX_PROCESSES) {
        verdicts.push(`  ${level.processes} processes, ${name}: ${m.total.toFixed(1)} ms   target < ${TARGET_QUIET_MS} ms   ${m.total < TARGET_QUIET_MS ? 'ok' : 'MISSED'}`);
      }
    }
  }
  lines.push('');
  lines.push('targets');
  const none = settings.mounts > 0 ? '  (with MOUNTS only the before/after ratios: the targets are for hosts without the extra mounts)' : `  (no level at <= ${QUIET_MAX_PROCESSES} or >= ${BUSY_MIN_PROCESSES} processes)`;
  lines.push(...(verdicts.length > 0 ? verdicts : [none]));
  return lines.join('\n');
}

async function benchmark(settings: Settings): Promise<void> {
  const bash = which('bash');
  if (bash === null) throw new Error('bash is needed to read the children\'s CPU time (its `times` builtin); install it');
  const top = which('top');
  const ps = which('ps');
  if (top === null || ps === null) throw new Error('top and ps (procps) are needed as the reference');
  const busybox = ['/bin/busybox', '/usr/bin/busybox', '/sbin/busybox'].find((path) => existsSync(path));
  if (busybox === undefined) throw new Error('busybox is not installed (apt-get install busybox): the BusyBox ash run cannot happen');
  const path = process.env.PATH ?? '/usr/bin:/bin';
  const busyboxPath = busyboxOnlyPath(busybox);
  // Per shell, the current probe and then (with PROBE_FILE) the older one: neighbours in time.
  const shells = new Map<ProbeKey, Command>();
  const scripts = probeScripts(settings);
  for (const shell of ['sh', 'busybox'] as const) {
    for (const [which, script] of scripts) {
      const command = shell === 'sh' ? { argv: ['/bin/sh', '-s'], env: { PATH: path }, stdin: script } : { argv: [busybox, 'sh', '-s'], env: { PATH: busyboxPath }, stdin: script };
      shells.set(`${which} ${shell}`, command);
    }
  }
  const references = new Map<Tool, Command>([
    ['top', { argv: [top, '-b', '-n', '2', '-d', '1'], env: { PATH: path }, stdin: '' }],
    ['ps', { argv: [ps, 'aux'], env: { PATH: path }, stdin: '' }],
  ]);
  const levels: Level[] = [];
  if (settings.mounts > 0) {
    process.stderr.write(`making ${settings.mounts} bind mounts in a mount namespace\n`);
    await startMountHolder(settings.mounts);
  }
  process.stderr.write(`baseline: ${countProcesses()} processes\n`);
  levels.push(await measureLevel('baseline', settings, bash, shells, references));
  if (settings.extra > 0) {
    process.stderr.write(`starting ${settings.extra} extra processes\n`);
    await startExtras(settings.extra);
    try {
      levels.push(await measureLevel(`+${settings.extra}`, settings, bash, shells, references));
    } finally {
      stopExtras();
    }
  }
  process.stdout.write(`${report(levels, settings, shells)}\n`);
}

async function main(): Promise<number> {
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  const settings = settingsOrReason(readSettings);
  if (settings === null) return 2;
  try {
    await benchmark(settings);
    return 0;
  } catch (error) {
    process.stderr.write(`bench: FAILED: ${(error as Error).message}\n`);
    return interrupted !== null ? 130 : 1;
  } finally {
    cleanUp();
  }
}

process.exitCode = await main();
