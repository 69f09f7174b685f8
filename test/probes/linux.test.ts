// Runs the Linux probe for real on this machine, the way the local transport does
// (`sh -s` with the script on stdin), under dash and under BusyBox with nothing but
// BusyBox applets on PATH, and checks what it reports against the kernel.
import { after, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  realpathSync,
  rmSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Sample } from '../../src/model.js';
import { parseProbeOutput } from '../../src/probes/protocol.js';

const SCRIPT = readFileSync(new URL('../../src/probes/linux.sh', import.meta.url), 'utf8');
const IN_CI = process.env.CI === 'true';
const IS_ROOT = process.getuid?.() === 0;
// Every probe run carries this variable; any process still holding it afterwards leaked.
const MARK_VAR = 'FLEETPOLL_PROBE_TEST_MARK';
const RECORD_TYPES = new Set(['host', 'os', 'uptime', 'cpu', 'load', 'mem', 'disk', 'proc', 'user', 'session', 'warn', 'tasks']);

type ShellName = '/bin/sh' | 'busybox';

// How to start `sh -s` for one shell: argv and the complete environment.
interface Shell {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
}

interface ProbeRun {
  stdout: string;
  stderr: string;
  exitCode: number | null;
  durationMs: number;
  mark: string;
}

const scratch: string[] = [];
const children = new Set<ChildProcess>();

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  scratch.push(dir);
  return dir;
}

const BUSYBOX = ['/bin/busybox', '/usr/bin/busybox', '/sbin/busybox'].find((path) => existsSync(path));
let busyboxPath: string | undefined;

// A PATH holding only BusyBox applets, as on an Alpine host.
function busyboxOnlyPath(busybox: string): string {
  if (busyboxPath !== undefined) return busyboxPath;
  const dir = tempDir('fleetpoll-busybox-');
  const list = spawnSync(busybox, ['--list'], { encoding: 'utf8' });
  assert.equal(list.status, 0, `busybox --list failed: ${list.stderr}`);
  for (const applet of list.stdout.split('\n')) {
    if (/^[\w.[-]+$/.test(applet)) symlinkSync(busybox, join(dir, applet));
  }
  busyboxPath = dir;
  return dir;
}

function shellFor(t: TestContext, name: ShellName): Shell | undefined {
  if (name === '/bin/sh') {
    return { command: '/bin/sh', args: ['-s'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } };
  }
  if (BUSYBOX === undefined) {
    const why = 'busybox is not installed (apt-get install busybox), so the Alpine-like run cannot happen';
    if (IN_CI) assert.fail(`${why}; it is required in CI`);
    t.skip(why);
    return undefined;
  }
  return { command: BUSYBOX, args: ['sh', '-s'], env: { PATH: busyboxOnlyPath(BUSYBOX) } };
}

/**
 * Runs the probe with `prelude` (tunable assignments) before it, as the poller streams it.
 * `wrap` starts the shell inside some setup (a mount namespace) and is handed the
 * shell's environment to pass on with `env -i`.
 */
function runProbe(shell: Shell, prelude = '', wrap?: (command: string[], env: Record<string, string>) => string[]): Promise<ProbeRun> {
  const mark = randomUUID();
  const env = { ...shell.env, [MARK_VAR]: mark };
  let argv = [shell.command, ...shell.args];
  let spawnEnv: Record<string, string> = env;
  if (wrap !== undefined) {
    argv = wrap(argv, env);
    spawnEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
  }
  const [command, ...args] = argv;
  assert.ok(command !== undefined);
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { env: spawnEnv, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
      reject(new Error('probe did not finish within 60 s'));
    }, 60_000);
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (exitCode) => {
      clearTimeout(timer);
      resolve({
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        exitCode,
        durationMs: performance.now() - started,
        mark,
      });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(prelude + SCRIPT);
  });
}

function parsed(run: ProbeRun): Sample {
  const result = parseProbeOutput(run.stdout);
  if (!result.ok) assert.fail(`probe output did not parse: ${result.error}\nstderr: ${run.stderr}\nstdout:\n${run.stdout}`);
  return result.sample;
}

/** The `tasks` record (processes counted, kernel threads left out); the parser ignores it. */
function tasks(run: ProbeRun): { processes: number; kernelThreads: number } {
  const match = /^tasks\t(\d+)\t(\d+)$/m.exec(run.stdout);
  assert.ok(match, `no tasks record in:\n${run.stdout}`);
  return { processes: Number(match[1]), kernelThreads: Number(match[2]) };
}

/** Starts a helper process; every one is killed by pid in `finally` or, at the latest, `after`. */
function start(command: string, args: string[]): ChildProcess & { pid: number } {
  const child = spawn(command, args, { stdio: 'ignore' });
  if (child.pid === undefined) throw new Error(`could not start ${command}`);
  children.add(child);
  return child as ChildProcess & { pid: number };
}

function stop(child: ChildProcess): void {
  children.delete(child);
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(child.pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

async function waitFor(what: string, condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// Spins without forking, and stops by itself after 60 s should this runner die.
const SPIN =
  'read -r s _ </proc/uptime; end=$((${s%.*} + 60)); while read -r u _ </proc/uptime && [ "${u%.*}" -lt "$end" ]; do :; done';
let realtime: boolean | undefined;

// On a machine saturated by other work a plain loop cannot get a whole core; SCHED_FIFO
// gives it one (the kernel still keeps 5 % of each core for everyone else). With one
// core, that would starve the probe under test.
function realtimeAllowed(): boolean {
  realtime ??= IS_ROOT && onlineCpus() >= 2 && spawnSync('chrt', ['-f', '1', 'true']).status === 0;
  return realtime;
}

/** Starts `sh -c script`, at the lowest real-time priority where allowed. */
function startBusy(script: string): ChildProcess & { pid: number } {
  return realtimeAllowed() ? start('chrt', ['-f', '1', 'sh', '-c', script]) : start('sh', ['-c', script]);
}

/** Runs the probe and measures, from the kernel, the share of a core `pid` got meanwhile. */
async function probeWatching(pid: number, probe: () => Promise<ProbeRun>): Promise<{ run: ProbeRun; truePct: number }> {
  const ticksBefore = cpuTicks(pid);
  const run = await probe();
  return { run, truePct: ((cpuTicks(pid) - ticksBefore) * 100_000) / CLOCK_TICKS / run.durationMs };
}

// The probe's window is most, not all, of the span measured around it.
function assertCpuAgrees(reportedPct: number, truePct: number): void {
  assert.ok(Math.abs(reportedPct - truePct) <= 5 + truePct * 0.3, `reported ${reportedPct} %, kernel says ${truePct.toFixed(1)} %`);
}

function status(pid: number): Map<string, string> {
  const fields = new Map<string, string>();
  try {
    for (const line of readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
      const colon = line.indexOf(':');
      if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1).trim());
    }
  } catch {
    // The process is gone: no fields.
  }
  return fields;
}

function vmRssKb(pid: number): number {
  return Number.parseInt(status(pid).get('VmRSS') ?? '0', 10);
}

// USER_HZ, the unit of /proc/<pid>/stat times: 100 on every Linux architecture in use.
const CLOCK_TICKS = 100;

// Fields of /proc/<pid>/stat after the command name, which may itself hold ") ".
function statFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).trim().split(' ');
}

function cpuTicks(pid: number): number {
  const fields = statFields(pid);
  return Number(fields[11]) + Number(fields[12]);
}

function meminfoKb(key: string): number {
  const match = new RegExp(`^${key}:\\s+(\\d+) kB$`, 'm').exec(readFileSync('/proc/meminfo', 'utf8'));
  assert.ok(match, `${key} missing from /proc/meminfo`);
  return Number(match[1]);
}

function onlineCpus(): number {
  let count = 0;
  for (const range of readFileSync('/sys/devices/system/cpu/online', 'utf8').trim().split(',')) {
    const [from, to] = range.split('-').map(Number);
    count += to === undefined ? 1 : to - (from ?? 0) + 1;
  }
  return count;
}

function leftovers(mark: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0').includes(`${MARK_VAR}=${mark}`)) found.push(Number(entry));
    } catch {
      // Gone, or not ours to read.
    }
  }
  return found;
}

function commandExists(command: string): boolean {
  return spawnSync('sh', ['-c', 'command -v "$1"', 'sh', command], { stdio: 'ignore' }).status === 0;
}

/** Why `unshare <flags>` cannot run here, if it cannot: namespaces keep a test's mounts and processes to itself. */
function canUnshare(flags: string[]): string | undefined {
  if (!IS_ROOT) return 'needs root';
  if (!commandExists('unshare')) return 'needs unshare (util-linux)';
  const probe = spawnSync('unshare', [...flags, 'true'], { stdio: 'ignore' });
  return probe.status === 0 ? undefined : `unshare ${flags.join(' ')} is not permitted here`;
}

// A runProbe wrapper: the probe runs in a private mount namespace after `setup` (sh; its
// positional parameters are `args`, then `env -i`, the probe's environment and its command line).
function inMountNamespace(setup: string, args: readonly string[], pathPrefix = ''): (command: string[], env: Record<string, string>) => string[] {
  return (command, env) => [
    'unshare', '-m', '--propagation', 'private', 'sh', '-c', setup, 'sh', ...args,
    ...Object.entries(pathPrefix === '' ? env : { ...env, PATH: `${pathPrefix}:${env.PATH ?? ''}` }).map(([key, value]) => `${key}=${value}`),
    ...command,
  ];
}

// A test's missing prerequisite: skipped on a developer's machine, a failure in CI.
function lacking(t: TestContext, why: string | undefined): boolean {
  if (why === undefined) return false;
  if (IN_CI) assert.fail(`${why}; it is required in CI`);
  t.skip(why);
  return true;
}

// Why a loop-mounted ext2 disk cannot be made here (root, a mount namespace, mkfs.ext2, loop devices), or undefined.
function cannotLoopMount(): string | undefined {
  return canUnshare(['-m', '--propagation', 'private']) ?? (commandExists('mkfs.ext2') && existsSync('/dev/loop-control') ? undefined : 'needs mkfs.ext2 and loop devices');
}

// An empty ext2 file system of `mb` MB in the file `path`, for a loop mount.
function ext2Image(path: string, mb: number): void {
  writeFileSync(path, '');
  truncateSync(path, mb * 1024 * 1024);
  assert.equal(spawnSync('mkfs.ext2', ['-q', '-F', path]).status, 0);
}

after(() => {
  for (const child of [...children]) stop(child);
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

for (const shellName of ['/bin/sh', 'busybox'] as const) {
  describe(`linux probe under ${shellName}`, () => {
    test('prints protocol v1 that parses, quietly, in about FP_WINDOW, leaving nothing behind', async (t) => {
      const shell = shellFor(t, shellName);
      if (shell === undefined) return;
      const short = await runProbe(shell, 'FP_WINDOW=0.2\n');
      const run = await runProbe(shell, 'FP_WINDOW=1.2\n');
      assert.equal(run.exitCode, 0);
      assert.equal(run.stderr, '');
      const lines = run.stdout.split('\n');
      assert.equal(lines[0], 'fleetpoll-probe\t1');
      assert.deepEqual(lines.slice(-2), ['end', '']);
      for (const line of lines.slice(1, -2)) {
        assert.ok(RECORD_TYPES.has(line.split('\t')[0] ?? ''), `unexpected line ${JSON.stringify(line)}`);
      }
      const sample = parsed(run);
      assert.deepEqual(sample.warnings, []);
      assert.equal(sample.osFamily, 'linux');
      assert.equal(sample.osVersion, readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim());
      assert.equal(sample.hostname, readFileSync('/proc/sys/kernel/hostname', 'utf8').trim());
      assert.ok(sample.procs.length > 0 && sample.users.length > 0);

      const ms = (value: number): string => `${Math.round(value)} ms`;
      assert.ok(run.durationMs >= 1200, `finished in ${ms(run.durationMs)}, before its 1.2 s window passed`);
      // Generous, for a loaded machine: unloaded, the probe needs about 0.15 s beyond its window.
      assert.ok(run.durationMs < 2700, `took ${ms(run.durationMs)} for a 1.2 s window`);
      const extra = run.durationMs - short.durationMs;
      assert.ok(extra > 600 && extra < 1800, `a 1 s longer window took ${ms(extra)} longer`);
      assert.deepEqual(leftovers(short.mark), []);
      assert.deepEqual(leftovers(run.mark), []);
    });

    test('memory, cores and the root filesystem agree with the kernel and df', async (t) => {
      const shell = shellFor(t, shellName);
      if (shell === undefined) return;
      const sample = parsed(await runProbe(shell, 'FP_WINDOW=0.3\n'));
      assert.equal(sample.mem.totalKb, meminfoKb('MemTotal'));
      assert.equal(sample.mem.swapTotalKb, meminfoKb('SwapTotal'));
      assert.equal(sample.cpuCores, onlineCpus());
      assert.ok(sample.load !== null);

      const df = spawnSync('df', ['-kP', '/'], { encoding: 'utf8' }).stdout.trim().split('\n')[1]?.split(/\s+/) ?? [];
      const root = sample.disks.find((disk) => disk.mount === '/');
      assert.ok(root, `no disk record for / in ${JSON.stringify(sample.disks)}`);
      assert.equal(root.totalKb, Number(df[1]));
      // Other work on the machine writes files between the two df calls.
      assert.ok(Math.abs(root.usedKb - Number(df[2])) <= 100 * 1024, `used ${root.usedKb} kB vs df ${df[2]} kB`);
      assert.equal(new Set(sample.disks.map((disk) => disk.mount)).size, sample.disks.length, 'a mount is listed twice');
      for (const disk of sample.disks) {
        assert.ok(!['proc', 'sysfs', 'tmpfs', 'devtmpfs', 'cgroup', 'cgroup2', 'overlay'].includes(disk.fsType) || disk.mount === '/');
      }
    });

    test('CPU is measured over the window: a busy loop leads, an idle process with a busy past does not', async (t) => {
      const shell = shellFor(t, shellName);
      if (shell === undefined) return;
      const busy = startBusy(SPIN);
      // Spins until it has used 1 s of CPU (fields 14 and 15 of its stat), then becomes
      // `sleep` in the same process: its lifetime average, which is what ps %cpu shows,
      // stays high while it uses nothing now.
      const idleOld = startBusy(
        'while read -r _ _ _ _ _ _ _ _ _ _ _ _ _ ut st _ </proc/$$/stat && [ $((ut + st)) -lt 100 ]; do :; done; exec sleep 600',
      );
      try {
        await waitFor('the idle-old process to exec sleep', () => status(idleOld.pid).get('Name') === 'sleep', 60_000);
        const startTicks = Number(statFields(idleOld.pid)[19]);
        const uptimeTicks = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) * CLOCK_TICKS;
        const lifetimePct = (100 * cpuTicks(idleOld.pid)) / (uptimeTicks - startTicks);
        assert.ok(lifetimePct >= 10, `premise: lifetime average ${lifetimePct.toFixed(1)} % should be high`);

        const { run, truePct } = await probeWatching(busy.pid, () => runProbe(shell, 'FP_WINDOW=1\n'));
        const sample = parsed(run);
        const byCpu = [...sample.procs].sort((a, b) => b.cpuPct - a.cpuPct);
        const reported = sample.procs.find((proc) => proc.pid === busy.pid);
        const old = sample.procs.find((proc) => proc.pid === idleOld.pid);
        assert.ok(old === undefined || old.cpuPct < 5, `idle-old process reported at ${old?.cpuPct} %`);
        if (truePct >= 90) {
          assert.equal(byCpu[0]?.pid, busy.pid, `busy loop is not first by CPU: ${JSON.stringify(byCpu.slice(0, 3))}`);
          assert.ok((reported?.cpuPct ?? 0) >= 80, `busy loop at ${reported?.cpuPct} %`);
          assert.ok(sample.cpuBusyPct >= 75 / sample.cpuCores, `host busy ${sample.cpuBusyPct} % with a core spinning`);
        } else {
          // Other work saturates the machine, so the loop cannot get a core: the probe
          // must still agree with the kernel about what it did get.
          t.diagnostic(`machine saturated: the busy loop got ${truePct.toFixed(1)} % of a core`);
          assert.ok(reported, 'busy loop missing from the list');
          assertCpuAgrees(reported.cpuPct, truePct);
        }
      } finally {
        stop(busy);
        stop(idleOld);
      }
    });

    test('the largest resident process leads the memory list with its VmRSS', async (t) => {
      const shell = shellFor(t, shellName);
      if (shell === undefined) return;
      let largestKb = 0;
      for (const entry of readdirSync('/proc')) {
        if (/^\d+$/.test(entry)) largestKb = Math.max(largestKb, vmRssKb(Number(entry)));
      }
      const targetKb = Math.max(200 * 1024, largestKb + 64 * 1024);
      if (targetKb > meminfoKb('MemAvailable') / 2) {
        t.skip(`would need ${targetKb} kB resident to lead; not enough free memory`);
        return;
      }
      const hog = start(process.execPath, [
        '-e',
        `const b = Buffer.alloc(${targetKb * 1024}, 1); setInterval(() => { b[0] ^= 1; }, 1000); setTimeout(() => process.exit(), 120_000);`,
      ]);
      try {
        await waitFor('the memory hog to become resident', () => vmRssKb(hog.pid) >= targetKb, 30_000);
        // Node goes on growing for a while after its buffer is resident (code, heap): the probe's
        // reading and the one compared with it must see the same size.
        let last = { kb: 0, atMs: 0 };
        await waitFor('the memory hog to stop growing', () => {
          if (Date.now() - last.atMs < 500) return false;
          const kb = vmRssKb(hog.pid);
          const steady = Math.abs(kb - last.kb) <= kb * 0.005;
          last = { kb, atMs: Date.now() };
          return steady;
        }, 30_000);
        const sample = parsed(await runProbe(shell, 'FP_WINDOW=0.3\n'));
        const actualKb = vmRssKb(hog.pid);
        const byMem = [...sample.procs].sort((a, b) => b.rssKb - a.rssKb);
        assert.equal(byMem[0]?.pid, hog.pid, `hog is not first by memory: ${JSON.stringify(byMem.slice(0, 3))}`);
        assert.ok(Math.abs((byMem[0]?.rssKb ?? 0) - actualKb) <= actualKb * 0.05, `${byMem[0]?.rssKb} kB vs VmRSS ${actualKb} kB`);
        assert.equal(byMem[0]?.name, 'node');
      } finally {
        stop(hog);
      }
    });

    test("per-user totals add up that user's processes", async (t) => {
      const shell = shellFor(t, shellName);
      if (shell === undefined) return;
      if (!IS_ROOT || !commandExists('setpriv')) {
        t.skip('needs root and setpriv to run processes as a dedicated user');
        return;
      }
      const user = 'fleetpoll-t';
      if (spawnSync('id', ['-u', user]).status !== 0) {
        const nologin = ['/usr/sbin/nologin', '/sbin/nologin'].find((path) => existsSync(path)) ?? '/bin/false';
        const add = spawnSync('useradd', ['-M', '-r', '-s', nologin, user], { encoding: 'utf8' });
        assert.equal(add.status, 0, `useradd failed: ${add.stderr}`);
      }
      const uid = spawnSync('id', ['-u', user], { encoding: 'utf8' }).stdout.trim();
      const gid = spawnSync('id', ['-g', user], { encoding: 'utf8' }).stdout.trim();
      const owned = [0, 1, 2].map(() => start('setpriv', [`--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', 'sleep', '600']));
      try {
        for (const child of owned) {
          await waitFor(`pid ${child.pid} to run sleep as ${user}`, () => {
            const fields = status(child.pid);
            return fields.get('Name') === 'sleep' && fields.get('Uid')?.split(/\s+/)[0] === uid;
          });
        }
        const run = await runProbe(shell, 'FP_WINDOW=0.3\n');
        const sample = parsed(run);
        const expectedKb = owned.reduce((sum, child) => sum + vmRssKb(child.pid), 0);
        const total = sample.users.find((entry) => entry.user === user);
        assert.ok(total, `no user record for ${user}: ${JSON.stringify(sample.users)}`);
        assert.equal(total.processCount, 3);
        assert.ok(Math.abs(total.rssKb - expectedKb) <= 64, `${total.rssKb} kB vs sum of VmRSS ${expectedKb} kB`);
        assert.ok(total.cpuPct < 5);
        const counted = sample.users.reduce((sum, entry) => sum + entry.processCount, 0);
        assert.equal(counted, tasks(run).processes);
        assert.equal(new Set(sample.users.map((entry) => entry.user)).size, sample.users.length, 'a user is listed twice');
      } finally {
        for (const child of owned) stop(child);
      }
    });

    test('hostile process names stay inside one well-formed record', async (t) => {
      const shell = shellFor(t, shellName);
      if (shell === undefined) return;
      // In a PID namespace of its own the probe sees only these processes, so all of them
      // are listed however many others the machine runs; they die with the namespace.
      if (lacking(t, canUnshare(['--pid', '--fork', '--mount-proc']))) return;
      const dir = tempDir('fleetpoll-names-');
      mkdirSync(join(dir, 'idle'));
      mkdirSync(join(dir, 'spin'));
      const sleep = realpathSync(spawnSync('sh', ['-c', 'command -v sleep'], { encoding: 'utf8' }).stdout.trim());
      // File name -> the name the probe should report (comm is cut at 15 bytes).
      const idle = new Map<string, string>([
        ['fp\tTAB', 'fp?TAB'],
        ['=HYPERLINK("x")', '=HYPERLINK("x")'],
        ['fp) (x\ny', 'fp) (x\\ny'], // status escapes the newline; stat needs rejoining
        ['fleetpoll-long-process-name', 'fleetpoll-long-process-name'], // from argv[0]
        ['Uid:1 VmRSS:0', 'Uid:1 VmRSS:0'], // status lines are told apart by their key, not by a match anywhere
        ['fp\\back:Uid:', 'fp\\\\back:Uid:'], // the name is taken from stat and escaped as status escapes it
      ]);
      for (const file of idle.keys()) copyFileSync(sleep, join(dir, 'idle', file), 0);
      // Read from the first ")" instead of the last, this one's stat fields shift by seven
      // and its CPU time reads as a constant; it spins, so that would show.
      const parens = ') ) ) ) ) ) ) )';
      const spin = realtimeAllowed();
      if (spin) copyFileSync(realpathSync('/bin/sh'), join(dir, 'spin', parens), 0);
      const setup = [
        'd=$1; shift',
        'for f in "$d"/idle/*; do "$f" 600 & done',
        `for f in "$d"/spin/*; do [ -e "$f" ] && chrt -f 1 "$f" -c '${SPIN}' & done`,
        'exec env -i "$@"',
      ].join('\n');
      const run = await runProbe(shell, 'FP_WINDOW=0.5\nFP_TOPN=999\n', (argv, env) => [
        'unshare', '--pid', '--fork', '--mount-proc', 'sh', '-c', setup, 'sh', dir,
        ...Object.entries(env).map(([key, value]) => `${key}=${value}`),
        ...argv,
      ]);
      for (const line of run.stdout.split('\n').slice(1, -2)) {
        const fields = line.split('\t');
        assert.ok(RECORD_TYPES.has(fields[0] ?? ''), `broken line ${JSON.stringify(line)}`);
        if (fields[0] === 'proc') assert.equal(fields.length, 6, `proc record with ${fields.length} fields: ${JSON.stringify(line)}`);
      }
      const sample = parsed(run);
      const names = sample.procs.map((proc) => proc.name);
      for (const [file, name] of idle) {
        assert.equal(names.filter((listed) => listed === name).length, 1, `${JSON.stringify(file)} should be listed once as ${JSON.stringify(name)}: ${JSON.stringify(names)}`);
      }
      const keys = sample.procs.find((proc) => proc.name === 'Uid:1 VmRSS:0');
      assert.ok(keys !== undefined && keys.user !== '1' && keys.rssKb > 0, `status of "Uid:1 VmRSS:0" misread: ${JSON.stringify(keys)}`);
      if (spin) {
        const spinner = sample.procs.find((proc) => proc.name === parens);
        assert.ok(spinner, `the spinning ${JSON.stringify(parens)} is missing: ${JSON.stringify(names)}`);
        assert.ok(spinner.cpuPct >= 80, `${JSON.stringify(parens)} spun at real-time priority but shows ${spinner.cpuPct} %`);
      }
    });

    test('a pid file that fails to read costs that process, not the probe', async (t) => {
      const shell = shellFor(t, shellName);
      if (shell === undefined) return;
      if (lacking(t, canUnshare(['-m', '--propagation', 'private']))) return;
      // A process that ends between open and read makes the read fail (ESRCH), and mawk
      // and the one-true-awk abort on a failed getline. Reading a live process's mem at
      // offset 0 fails the same way (EIO), so it stands in for both of its pid files.
      const victim = start('sleep', ['600']);
      try {
        await waitFor(`pid ${victim.pid} to run sleep`, () => status(victim.pid).get('Name') === 'sleep');
        const setup = [
          'mem=/proc/$1/mem; shift',
          'mount --bind "$mem" "${mem%/mem}/stat" && mount --bind "$mem" "${mem%/mem}/status" || exit 97',
          'exec env -i "$@"',
        ].join('\n');
        const run = await runProbe(shell, 'FP_WINDOW=0.3\nFP_TOPN=999\n', inMountNamespace(setup, [String(victim.pid)]));
        assert.equal(run.exitCode, 0, run.stderr);
        assert.equal(run.stderr, '');
        const sample = parsed(run);
        assert.ok(!sample.procs.some((proc) => proc.pid === victim.pid), 'the unreadable process is listed');
        assert.ok(sample.procs.some((proc) => proc.pid === process.pid), `this test's own process is missing: ${sample.procs.length} listed`);
        assert.equal(sample.users.reduce((sum, entry) => sum + entry.processCount, 0), tasks(run).processes);
      } finally {
        stop(victim);
      }
    });

    test('kernel threads are counted apart and never listed', async (t) => {
      const shell = shellFor(t, shellName);
      if (shell === undefined) return;
      const run = await runProbe(shell, 'FP_WINDOW=0.2\nFP_TOPN=999\n');
      const sample = parsed(run);
      const kernelThreads = readdirSync('/proc').filter((entry) => {
        try {
          // flags & PF_KTHREAD (0x00200000); flags can exceed 2^31, so no bitwise operators.
          return /^\d+$/.test(entry) && Math.floor(Number(statFields(Number(entry))[6]) / 0x200000) % 2 === 1;
        } catch {
          return false;
        }
      });
      if (kernelThreads.length === 0) {
        t.skip('no kernel threads are visible in this PID namespace');
        return;
      }
      const listed = new Set(sample.procs.map((proc) => proc.pid));
      for (const pid of kernelThreads) assert.ok(!listed.has(Number(pid)), `kernel thread ${pid} is listed`);
      // Kernel workers come and go between the probe's reading and ours.
      assert.ok(Math.abs(tasks(run).kernelThreads - kernelThreads.length) <= 5, `${tasks(run).kernelThreads} vs ${kernelThreads.length}`);
      assert.equal(sample.users.reduce((sum, entry) => sum + entry.processCount, 0), tasks(run).processes);
    });

    test('bad tunables fall back to defaults with a warning; FP_TOPN bounds the list', async (t) => {
      const shell = shellFor(t, shellName);
      if (shell === undefined) return;
      const bad = parsed(await runProbe(shell, "FP_WINDOW='0.2; sleep 9'\nFP_TOPN=1e3\nFP_DF_TIMEOUT=0\n"));
      assert.deepEqual(bad.warnings, [
        'FP_WINDOW is not a number below 1000; using 1',
        'FP_TOPN is not an integer below 1000; using 10',
        'FP_DF_TIMEOUT is not a positive number below 1000; using 3',
      ]);
      assert.ok(bad.procs.length >= 10);
      const small = parsed(await runProbe(shell, 'FP_WINDOW=0.2\nFP_TOPN=2\n'));
      assert.ok(small.procs.length >= 2 && small.procs.length <= 4, `${small.procs.length} procs for FP_TOPN=2`);
      assert.deepEqual(small.warnings, []);
    });

    test('a hung network mount costs a warning, not the probe; mount points with spaces work; bind mounts count once', async (t) => {
      const shell = shellFor(t, shellName);
      if (shell === undefined) return;
      if (lacking(t, canUnshare(['-m', '--propagation', 'private']) ?? (existsSync('/dev/fuse') ? undefined : 'needs /dev/fuse'))) return;
      const dir = tempDir('fleetpoll-mounts-');
      for (const sub of ['nfs share', 'bind', 'data disk', 'data disk bind\ttab']) mkdirSync(join(dir, sub));
      const withLoop = IS_ROOT && commandExists('mkfs.ext2') && existsSync('/dev/loop-control');
      if (withLoop) ext2Image(join(dir, 'img'), 16);
      // A FUSE mount whose daemon never answers (we hold /dev/fuse and stay silent):
      // statfs on it blocks exactly like on an NFS mount whose server is gone.
      const setup = [
        'd=$1; shift',
        'exec 3<>/dev/fuse',
        'mount -i -t fuse.sshfs -o fd=3,rootmode=40000,user_id=0,group_id=0 backup@files.example:/srv "$d/nfs share" || exit 97',
        'mount --bind / "$d/bind" || exit 98',
        'if [ -f "$d/img" ]; then mount -o loop "$d/img" "$d/data disk" && mount --bind "$d/data disk" "$d/data disk bind	tab" || exit 99; fi',
        'exec env -i "$@"',
      ].join('\n');
      const run = await runProbe(shell, 'FP_WINDOW=0.5\nFP_DF_TIMEOUT=1\n', inMountNamespace(setup, [dir]));
      const sample = parsed(run);
      // Unbounded, df on the hung mount would wait forever (here: until the 60 s test limit).
      assert.ok(run.durationMs < 6000, `took ${Math.round(run.durationMs)} ms with a 1 s df timeout`);
      assert.ok(sample.warnings.includes(`df timed out after 1s on ${dir}/nfs share (fuse.sshfs)`), JSON.stringify(sample.warnings));
      const mounts = sample.disks.map((disk) => disk.mount);
      assert.ok(mounts.includes('/'));
      assert.ok(!mounts.includes(`${dir}/bind`), 'a bind mount of / was counted as its own filesystem');
      if (withLoop) {
        assert.ok(!mounts.includes(`${dir}/data disk bind?tab`), 'a bind mount was counted as its own filesystem');
        const data = sample.disks.find((disk) => disk.mount === `${dir}/data disk`);
        if (shellName === 'busybox' && data === undefined) {
          // BusyBox df stats every mount listed before its argument, the hung one included.
          assert.ok(sample.warnings.includes(`df timed out after 1s on ${dir}/data disk (ext2)`), JSON.stringify(sample.warnings));
        } else {
          assert.ok(data, `no disk record for "${dir}/data disk": ${JSON.stringify(sample.disks)}`);
          assert.equal(data.fsType, 'ext2');
          assert.ok(data.totalKb > 10_000 && data.totalKb < 16_384);
        }
      }
      // BusyBox timeout leaves a watcher that notices within a second that its command is gone.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      assert.deepEqual(leftovers(run.mark), []);
    });

    // Without a mount that can hang, df runs at the end from the shell that also greps the
    // cut names' argv[0]; with one, df starts early, bounded, and the names get a shell of their own.
    test('df and the argv[0] lookup of cut names both answer, with and without a mount that can hang', async (t) => {
      const shell = shellFor(t, shellName);
      if (shell === undefined) return;
      if (lacking(t, canUnshare(['--pid', '--fork', '--mount-proc']) ?? (existsSync('/dev/fuse') ? undefined : 'needs /dev/fuse'))) return;
      const dir = tempDir('fleetpoll-df-names-');
      mkdirSync(join(dir, 'hung'));
      const long = 'fleetpoll-df-and-names';
      copyFileSync(realpathSync(spawnSync('sh', ['-c', 'command -v sleep'], { encoding: 'utf8' }).stdout.trim()), join(dir, long), 0);
      for (const hung of [false, true]) {
        // In a PID namespace of its own (all its processes listed, dying with it) and a mount
        // namespace of its own, where a FUSE mount whose daemon never answers hangs statfs.
        const setup = [
          'd=$1; shift',
          '"$d/fleetpoll-df-and-names" 600 &',
          ...(hung ? ['exec 3<>/dev/fuse', 'mount -i -t fuse.sshfs -o fd=3,rootmode=40000,user_id=0,group_id=0 backup@files.example:/srv "$d/hung" || exit 97'] : []),
          'exec env -i "$@"',
        ].join('\n');
        const run = await runProbe(shell, 'FP_WINDOW=0.3\nFP_TOPN=999\nFP_DF_TIMEOUT=1\n', (argv, env) => [
          'unshare', '--pid', '--fork', '--mount-proc', 'sh', '-c', setup, 'sh', dir,
          ...Object.entries(env).map(([key, value]) => `${key}=${value}`),
          ...argv,
        ]);
        assert.equal(run.exitCode, 0, run.stderr);
        const sample = parsed(run);
        const what = hung ? 'with a hung mount' : 'without a mount that can hang';
        assert.ok(sample.procs.some((proc) => proc.name === long), `${what}: ${long} not listed by its whole name: ${JSON.stringify(sample.procs.map((proc) => proc.name))}`);
        assert.ok(sample.disks.some((disk) => disk.mount === '/'), `${what}: no disk record for /: ${JSON.stringify(sample.disks)}`);
        if (hung) assert.ok(sample.warnings.includes(`df timed out after 1s on ${dir}/hung (fuse.sshfs)`), JSON.stringify(sample.warnings));
        else assert.deepEqual(sample.warnings, []);
      }
    });

    test('a mount point holding quotes and shell syntax reaches df as it is, and runs nothing', async (t) => {
      const shell = shellFor(t, shellName);
      if (shell === undefined) return;
      if (lacking(t, cannotLoopMount())) return;
      // The probe hands each mount point to /bin/sh as a single-quoted word.
      const dir = tempDir('fleetpoll-quotes-');
      const name = "it's $(touch pwned) `touch pwned2` \\ \"x\"";
      mkdirSync(join(dir, name));
      ext2Image(join(dir, 'img'), 8);
      const setup = ['d=$1; shift', 'cd "$d" || exit 96', 'mount -o loop "$d/img" "$d/$(ls "$d" | grep "^it")" || exit 97', 'exec env -i "$@"'].join('\n');
      const run = await runProbe(shell, 'FP_WINDOW=0.2\n', inMountNamespace(setup, [dir]));
      assert.equal(run.stderr, '');
      const sample = parsed(run);
      const disk = sample.disks.find((entry) => entry.mount === join(dir, name));
      assert.ok(disk, `no disk record for ${JSON.stringify(name)}: ${JSON.stringify(sample.disks)} ${JSON.stringify(sample.warnings)}`);
      assert.equal(disk.fsType, 'ext2');
      assert.ok(disk.totalKb > 4_000 && disk.totalKb < 8_192);
      assert.deepEqual(sample.warnings, []);
      assert.ok(!existsSync(join(dir, 'pwned')) && !existsSync(join(dir, 'pwned2')), 'a mount point name was run as a command');
    });

    test('mount points beyond what one argument can hold (128 kB) still reach df', async (t) => {
      const shell = shellFor(t, shellName);
      if (shell === undefined) return;
      if (lacking(t, cannotLoopMount())) return;
      // 600 bind mounts of one ext2 disk under names of 240 bytes: about 150 kB of mount points.
      const dir = tempDir('fleetpoll-many-');
      mkdirSync(join(dir, 'disk'));
      mkdirSync(join(dir, 'm'));
      ext2Image(join(dir, 'img'), 8);
      const setup = [
        'd=$1; shift',
        'mount -o loop "$d/img" "$d/disk" || exit 97',
        `long=${'x'.repeat(236)}`,
        'i=100',
        'while [ $i -lt 700 ]; do mkdir "$d/m/$long$i" && mount --bind "$d/disk" "$d/m/$long$i" || exit 98; i=$((i + 1)); done',
        'exec env -i "$@"',
      ].join('\n');
      const run = await runProbe(shell, 'FP_WINDOW=0.2\n', inMountNamespace(setup, [dir]));
      assert.equal(run.exitCode, 0, run.stderr);
      const sample = parsed(run);
      assert.deepEqual(sample.warnings, []);
      const disk = sample.disks.find((entry) => entry.mount === join(dir, 'disk'));
      assert.ok(disk && disk.fsType === 'ext2', `no disk record for ${join(dir, 'disk')}: ${JSON.stringify(sample.disks)}`);
      assert.ok(sample.disks.some((entry) => entry.mount === '/'));
      assert.equal(sample.disks.filter((entry) => entry.mount.startsWith(join(dir, 'm'))).length, 0, 'a bind mount was counted as its own filesystem');
    });

    test('among hundreds of mounts each df line goes to its own mount point: the longest it ends with', async (t) => {
      const shell = shellFor(t, shellName);
      if (shell === undefined) return;
      if (lacking(t, cannotLoopMount())) return;
      // Three disks told apart by size. The third's mount point ends with the second's after
      // a space, so its df line ends with both. 200 bind mounts of the first two interleave
      // their df lines; a file bind-mounted from the first (a container's /etc/hosts), with
      // the shortest mount point of that disk, must not take its record.
      const dir = tempDir('fleetpoll-dfmatch-');
      const disks = [
        { mount: join(dir, 'aa'), sizeMb: 4 },
        { mount: join(dir, 'b'), sizeMb: 8 },
        { mount: `${join(dir, 'c')} ${join(dir, 'b')}`, sizeMb: 12 },
      ];
      for (const [k, disk] of disks.entries()) {
        mkdirSync(disk.mount, { recursive: true });
        ext2Image(join(dir, `img${k}`), disk.sizeMb);
      }
      mkdirSync(join(dir, 'm'));
      writeFileSync(join(dir, 'f'), '');
      const setup = [
        'd=$1; shift',
        'mount -o loop "$d/img0" "$d/aa" && mount -o loop "$d/img1" "$d/b" && mount -o loop "$d/img2" "$d/c $d/b" || exit 97',
        ': >"$d/aa/hosts" && mount --bind "$d/aa/hosts" "$d/f" || exit 98',
        'i=0',
        'while [ $i -lt 100 ]; do mkdir "$d/m/a$i" "$d/m/b$i" && mount --bind "$d/aa" "$d/m/a$i" && mount --bind "$d/b" "$d/m/b$i" || exit 99; i=$((i + 1)); done',
        'exec env -i "$@"',
      ].join('\n');
      const run = await runProbe(shell, 'FP_WINDOW=0.2\n', inMountNamespace(setup, [dir]));
      assert.equal(run.exitCode, 0, run.stderr);
      const sample = parsed(run);
      assert.deepEqual(sample.warnings, []);
      const mine = sample.disks.filter((entry) => entry.mount.startsWith(`${dir}/`));
      assert.deepEqual(mine.map((entry) => entry.mount), disks.map((disk) => disk.mount));
      for (const [k, disk] of disks.entries()) {
        const found = mine[k];
        assert.ok(found && found.fsType === 'ext2' && found.totalKb > (disk.sizeMb - 2) * 1024 && found.totalKb <= disk.sizeMb * 1024, `${disk.mount} (${disk.sizeMb} MB): ${JSON.stringify(found)}`);
      }
    });

    test('a mount df says nothing of gets its own warning, not a failure without an exit status (a FAKE df wrapper hides it)', async (t) => {
      const shell = shellFor(t, shellName);
      if (shell === undefined) return;
      if (lacking(t, cannotLoopMount())) return;
      const dir = tempDir('fleetpoll-dfquiet-');
      mkdirSync(join(dir, 'quiet'));
      mkdirSync(join(dir, 'bin'));
      ext2Image(join(dir, 'img'), 4);
      // The real df (the next one on PATH) with the line of one mount point left out, as when df cannot stat it.
      writeFileSync(join(dir, 'bin', 'df'), `#!/bin/sh\nPATH=\${PATH#*:}\ndf "$@" | grep -v -e ' ${join(dir, 'quiet')}$'\n`, { mode: 0o755 });
      const setup = ['d=$1; shift', 'mount -o loop "$d/img" "$d/quiet" || exit 97', 'exec env -i "$@"'].join('\n');
      const run = await runProbe(shell, 'FP_WINDOW=0.2\n', inMountNamespace(setup, [dir], join(dir, 'bin')));
      assert.equal(run.exitCode, 0, run.stderr);
      const sample = parsed(run);
      assert.deepEqual(sample.warnings, [`df reported nothing for ${join(dir, 'quiet')} (ext2)`]);
      assert.ok(sample.disks.some((entry) => entry.mount === '/'), 'the other mounts keep their records');
    });

    test('logged-in sessions come from who, in its coreutils or BusyBox format', async (t) => {
      const shell = shellFor(t, shellName);
      if (shell === undefined) return;
      if (lacking(t, canUnshare(['-m', '--propagation', 'private']))) return;
      // A utmp of our own on a private /run; pid 1 so coreutils who sees live sessions.
      const dir = tempDir('fleetpoll-utmp-');
      writeFileSync(
        join(dir, 'utmp'),
        Buffer.concat([
          utmpEntry('alice', 'pts/0', '10.0.0.5', Date.UTC(2024, 4, 1, 9, 12, 33)),
          utmpEntry('bob', 'tty1', '', Date.UTC(2024, 4, 1, 8, 0, 0)),
          utmpEntry('carol', 'pts/3', 'tmux(1234).%0', Date.UTC(2024, 1, 29, 23, 59, 0)),
        ]),
      );
      const setup = 'mount -t tmpfs fleetpoll /run && cp "$1/utmp" /run/utmp || exit 97\nshift\nexec env -i "$@"';
      const run = await runProbe(shell, 'FP_WINDOW=0.2\n', inMountNamespace(setup, [dir]));
      assert.deepEqual(parsed(run).sessions, [
        { user: 'alice', terminal: 'pts/0', from: '10.0.0.5' },
        { user: 'bob', terminal: 'tty1', from: '' },
        { user: 'carol', terminal: 'pts/3', from: 'tmux(1234).%0' },
      ]);
    });

    test('who is started only when it has something to read: utmp or logind sessions', async (t) => {
      const shell = shellFor(t, shellName);
      if (shell === undefined) return;
      if (lacking(t, canUnshare(['-m', '--propagation', 'private']))) return;
      // A who of our own that always reports a session, first on PATH: whether its session
      // shows says whether the probe started it. An empty /run hides utmp and logind's sessions.
      const dir = tempDir('fleetpoll-who-');
      mkdirSync(join(dir, 'bin'));
      writeFileSync(join(dir, 'bin', 'who'), '#!/bin/sh\necho "mallory  pts/9        2024-05-01 09:12 (10.6.6.6)"\n', { mode: 0o755 });
      const setup = (utmp: boolean): string =>
        [
          'mount -t tmpfs fleetpoll /run || exit 97',
          '[ -L /var/run ] || mount -t tmpfs fleetpoll /var/run || exit 98',
          utmp ? ': >/run/utmp || exit 99' : ':',
          'exec env -i "$@"',
        ].join('\n');
      const run = (utmp: boolean): Promise<ProbeRun> =>
        runProbe(shell, 'FP_WINDOW=0.2\n', inMountNamespace(setup(utmp), [], join(dir, 'bin')));
      const without = parsed(await run(false));
      assert.deepEqual(without.sessions, []);
      assert.deepEqual(without.warnings, []);
      assert.deepEqual(parsed(await run(true)).sessions, [{ user: 'mallory', terminal: 'pts/9', from: '10.6.6.6' }]);
    });
  });
}

// One glibc `struct utmp` record (384 bytes on x86_64 and aarch64) for a user process.
function utmpEntry(user: string, line: string, host: string, timeMs: number): Buffer {
  const entry = Buffer.alloc(384);
  entry.writeInt16LE(7, 0); // USER_PROCESS
  entry.writeInt32LE(1, 4); // ut_pid
  entry.write(line, 8, 32, 'latin1');
  entry.write(line.slice(-4), 40, 4, 'latin1');
  entry.write(user, 44, 32, 'latin1');
  entry.write(host, 76, 256, 'latin1');
  entry.writeInt32LE(Math.floor(timeMs / 1000), 340); // ut_tv.tv_sec
  return entry;
}
