// Benchmark of warm SSH connections (issue 17): in one process, pollFleet drives a warm-mode SSH
// transport against real OpenSSH sshd on loopback (16 addresses per sshd, bench/lib/sshd-fleet.ts).
// For each host-side probe, the canned one (sshd's ForceCommand prints a fixed real sample; the
// poller streams its probe as always) and the real one, a cold cycle (fresh transport: every host connects) and
// then WARM_RUNS warm cycles (the same transport object) are measured apart:
// - the poller's CPU per host (process.cpuUsage around the cycle);
// - the sshd side's CPU per host: the sshd processes' own accounting from /proc/<pid>/stat, see
//   sshdCpuMs(), per cycle from the live process trees, and (for the verdict) from the closed trees:
//   a cold cycle on its own transport, closed, against a cold cycle + the warm cycles, closed;
// then the poller's RSS with N_RSS kept connections. Run with `npm run bench:serve`; env N (hosts,
// default 500), N_RSS (kept connections for the RSS figure, default 1000; 0 skips it), WARM_RUNS
// (default 10; the real probe runs at most 3), CONCURRENCY (default 50), WINDOW (the real probe's CPU window s, default 1),
// CPU_PROF (a directory: write a .cpuprofile of each probe's cold and warm cycles; inflates every figure),
// PROBES (host-side probes to run, default canned,real).
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join, resolve } from 'node:path';
import { cpus } from 'node:os';
import { KnownHosts } from '../src/fleet/known-hosts.js';
import { pollFleet, type PollOptions } from '../src/fleet/poll.js';
import { DEFAULT_WARM_SETTINGS, knownHostsPolicy, SshTransport } from '../src/fleet/ssh.js';
import { LocalTransport } from '../src/fleet/local.js';
import type { Transport } from '../src/fleet/transport.js';
import type { Host, PollResult } from '../src/model.js';
import { silentLog } from '../src/log.js';
import { buildProbeScript } from '../src/probes/scripts.js';
import { hostsFromCsv } from '../test/helpers/fleet.js';
import { describeHostProbe, startFleet, type HostProbe, type SshdFleet } from './lib/sshd-fleet.js';
import { envInt, settingsOrReason } from './lib/env-int.js';
import { parseProcStat } from './lib/proc-stat.js';

// Second octet of the loopback addresses: bench/poll.ts uses 79, bench/dead-hosts.ts 84-86, the tests 77-83 and 88.
const ADDRESS_OCTET = 89;
const TARGET_RATIO = 1 / 5;
const TARGET_RSS_MB = 250;
// A loaded 2-core box makes probes slow: slowness must show as wall time, not as timeouts.
const TIMEOUT_MS = 300_000;
// Processes that just exited are reaped (and move into their parent's cutime) within this.
const SETTLE_MS = 300;

interface Settings {
  readonly hosts: number;
  readonly rssHosts: number;
  readonly warmRuns: number;
  readonly concurrency: number;
  readonly windowSec: number;
  readonly cpuProfDir: string | null;
  readonly probes: readonly HostProbe[];
}

interface Cycle {
  readonly label: string;
  readonly hosts: number;
  readonly ok: number;
  readonly wallMs: number;
  readonly pollerCpuMs: number;
  readonly sshdCpuMs: number;
  readonly connects: number;
  /** Hosts that needed a second attempt. */
  readonly retried: number;
  readonly failures: string[];
}

function readSettings(env: NodeJS.ProcessEnv): Settings {
  const int = envInt(env);
  const rawWindow = env.WINDOW;
  const windowSec = rawWindow === undefined || rawWindow === '' ? 1 : Number(rawWindow);
  if (!Number.isFinite(windowSec) || windowSec < 0.1 || windowSec > 30) throw new Error(`WINDOW must be a number of seconds from 0.1 to 30 (got ${JSON.stringify(rawWindow)})`);
  const probes = (env.PROBES ?? 'canned,real').split(',').filter((p) => p !== '');
  for (const p of probes) if (p !== 'canned' && p !== 'real') throw new Error(`PROBES must list canned and/or real, comma-separated (got ${JSON.stringify(env.PROBES)})`);
  if (probes.length === 0) throw new Error('PROBES must name at least one probe');
  return { probes: probes as HostProbe[], hosts: int('N', 500, 1, 4000), rssHosts: int('N_RSS', 1000, 0, 4000), warmRuns: int('WARM_RUNS', 10, 1, 50), concurrency: int('CONCURRENCY', 50, 1, 10000), windowSec, cpuProfDir: env.CPU_PROF ? resolve(env.CPU_PROF) : null };
}


interface ProcTimes {
  readonly ppid: number;
  /** The process's own CPU: schedstat's ns where readable, else utime + stime. */
  readonly selfMs: number;
  /** cutime + cstime: CPU of its children that exited and that it reaped (wait()). */
  readonly reapedMs: number;
}

function readProcTimes(): Map<number, ProcTimes> {
  const out = new Map<number, ProcTimes>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    const parsed = parseProcStat(stat);
    let selfMs = parsed.cpuMs;
    try {
      // Time on CPU in ns (single-threaded sshd: the process's own), finer than the 10 ms ticks of stat.
      selfMs = Number(readFileSync(`/proc/${name}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
    } catch {
      // No schedstat (kernel without it, or exited): the ticks will do.
    }
    out.set(Number(name), { ppid: parsed.ppid, selfMs, reapedMs: parsed.reapedCpuMs });
  }
  return out;
}

/**
 * CPU used so far by the sshd masters and everything under them, in ms: for every live process of
 * the trees (masters, per-connection sshd, their session children, zombies included), its own time
 * (schedstat, ns) plus cutime+cstime. A process that exited and was reaped is in its parent's
 * cutime/cstime (Linux adds a reaped child's own and reaped-children times there); one that is
 * still alive is counted by itself. So each unit is counted once, as long as nothing is reaped while
 * a snapshot is read (snapshots are taken between cycles, after SETTLE_MS), and as long as the
 * reaper is in the tree: it is for the preauth child (its monitor) and the sessions (the post-auth
 * sshd), but NOT when a connection closes: the post-auth sshd outlives its monitor and is reaped by
 * init, so its CPU leaves the tree. Hence every figure is taken while the measured connections are
 * open (cold: they stay open after the cycle in warm mode), never across a close.
 */
function sshdCpuMs(masters: readonly number[]): number {
  const procs = readProcTimes();
  const children = new Map<number, number[]>();
  for (const [pid, p] of procs) {
    const list = children.get(p.ppid);
    if (list === undefined) children.set(p.ppid, [pid]);
    else list.push(pid);
  }
  let ms = 0;
  const stack = [...masters];
  while (stack.length > 0) {
    const pid = stack.pop() as number;
    const p = procs.get(pid);
    if (p === undefined) continue;
    ms += p.selfMs + p.reapedMs;
    stack.push(...(children.get(pid) ?? []));
  }
  return ms;
}

function rssMb(): number {
  return process.memoryUsage().rss / 1024 / 1024;
}

function peakRssMb(): number {
  const line = readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith('VmHWM:'));
  return Number(line?.split(/\s+/)[1] ?? 0) / 1024;
}

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, SETTLE_MS));

async function measureCycle(label: string, hosts: readonly Host[], options: PollOptions, transport: SshTransport, masters: readonly number[]): Promise<Cycle> {
  await settle();
  const connectsBefore = transport.connectionStats().connects;
  const sshdBefore = sshdCpuMs(masters);
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const results: PollResult[] = await pollFleet(hosts, options);
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  await settle();
  const sshdAfter = sshdCpuMs(masters);
  const failed = results.filter((r): r is Exclude<PollResult, { status: 'ok' }> => r.status !== 'ok');
  return {
    label,
    hosts: hosts.length,
    ok: results.length - failed.length,
    wallMs,
    pollerCpuMs: (cpu.user + cpu.system) / 1000,
    sshdCpuMs: sshdAfter - sshdBefore,
    connects: transport.connectionStats().connects - connectsBefore,
    retried: results.filter((r) => r.attempts > 1).length,
    failures: failed.slice(0, 5).map((r) => `${r.host.name}: ${r.status} during ${r.phase}: ${r.error}`),
  };
}

function cycleRow(c: Cycle): string {
  return [
    c.label.padEnd(22),
    String(c.hosts).padStart(6),
    String(c.ok).padStart(6),
    String(c.connects).padStart(9),
    (c.wallMs / 1000).toFixed(2).padStart(8),
    (c.pollerCpuMs / c.hosts).toFixed(2).padStart(14),
    (c.sshdCpuMs / c.hosts).toFixed(2).padStart(13),
    String(c.retried).padStart(8),
  ].join(' ');
}
const HEADER = `${''.padEnd(22)} ${'hosts'.padStart(6)} ${'ok'.padStart(6)} ${'connects'.padStart(9)} ${'wall s'.padStart(8)} ${'poller ms/host'.padStart(14)} ${'sshd ms/host'.padStart(13)} ${'retried'.padStart(8)}`;

// CPU_PROF: V8's sampling profiler in this process, around the measured cycles of one phase.
async function profiled<T>(dir: string | null, name: string, work: () => Promise<T>): Promise<T> {
  if (dir === null) return work();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  try {
    return await work();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${name}.cpuprofile`), JSON.stringify(profile));
    session.disconnect();
  }
}

async function benchmark(settings: Settings): Promise<boolean> {
  let fleet: SshdFleet | null = null;
  // Ctrl-C: no sshd or temp dir left behind.
  const onSignal = (): void => {
    fleet?.killNow();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const transports: SshTransport[] = [];
  try {
    const total = Math.max(settings.hosts, settings.rssHosts);
    fleet = await startFleet({ hosts: total, octet: ADDRESS_OCTET, portSeed: 17, prefix: 'fleetpoll-bench-serve-', probe: 'canned' });
    const { addresses, port, masters } = fleet;
    const allHosts = hostsFromCsv(fleet.inventory(addresses.map((a, i) => ({ name: `serve-${String(i + 1).padStart(4, '0')}`, address: a }))));
    const knownHosts = new KnownHosts({ mode: 'strict', userFile: fleet.knownHostsPath, systemFile: null });
    await knownHosts.load();

    const newTransport = (): SshTransport => {
      const t = new SshTransport({
        hostKeys: knownHostsPolicy(knownHosts, silentLog),
        identityPath: null,
        passphrase: undefined,
        env: process.env,
        resolveKeyPath: (p) => p,
        log: silentLog,
        warm: DEFAULT_WARM_SETTINGS,
      });
      transports.push(t);
      return t;
    };
    const unused: Transport = { run: () => Promise.reject(new Error('not used')), close: () => Promise.resolve() };
    const optionsFor = (transport: SshTransport, script: string): PollOptions => ({
      transports: { ssh: transport, local: new LocalTransport(), winrm: unused, push: unused },
      scripts: { linux: script, windows: script },
      concurrency: settings.concurrency,
      // At most as many probes in flight warm as cold (where poll.maxSessions bounds them): a warm exec takes no session slot.
      maxConnections: settings.concurrency * 4,
      timeoutMs: TIMEOUT_MS,
      maxOutputBytes: 4 * 1024 * 1024,
      // poll.retries' default: a warm exec whose channel did not open is retried on a fresh connection.
      retries: 1,
      retryBackoffMs: 1000,
      log: silentLog,
    });

    process.stdout.write(
      `fleetpoll serve benchmark: warm SSH connections; ${settings.hosts} hosts (${addresses[0]}..:${port}) on ${fleet.sshd.length} sshd (started in ${(fleet.startedMs / 1000).toFixed(1)} s), ` +
        `concurrency ${settings.concurrency}, at most ${settings.concurrency * 4} probes in flight, ${settings.warmRuns} warm cycles (real probe: ${Math.min(settings.warmRuns, 3)}), node ${process.version}, ${cpus().length} CPUs, load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}\n` +
        'poller CPU = this process (process.cpuUsage around the cycle); sshd CPU = own time (schedstat) + reaped children (cutime+cstime) of the sshd masters and every process under them (/proc), before and after the cycle; warm verdicts over all warm cycles\n' +
        'cold = a fresh transport (every host: TCP, key exchange, auth, then the probe); warm = the same transport again (one new channel on the kept connection)\n',
    );

    let allMet = true;
    const verdict = (met: boolean): string => {
      if (!met) allMet = false;
      return met ? 'met' : 'MISSED';
    };
    const lines: string[] = [];
    const hosts = allHosts.slice(0, settings.hosts);
    // The poller streams the real Linux probe in every cycle; the hosts answer with the canned
    // sample, or run it (fleet.setProbe).
    const script = buildProbeScript('linux', { cpuWindowSec: settings.windowSec, topProcesses: 10 });
    // Untimed: warms the page cache (sshd, sh) and the poller's code paths.
    {
      const t = newTransport();
      await pollFleet(hosts.slice(0, Math.min(hosts.length, settings.concurrency)), optionsFor(t, script));
      await t.close();
    }
    // The real probe's figures are large (no tick rounding to average out) and its sshd figure is
    // for information: fewer warm cycles.
    const probes: [HostProbe, number][] = settings.probes.map((p) => [p, p === 'real' ? Math.min(settings.warmRuns, 3) : settings.warmRuns]);
    for (const [probeName, warmRuns] of probes) {
      fleet.setProbe(probeName);
      process.stdout.write(`\n${describeHostProbe(probeName)}`);
      const alone = newTransport();
      const coldAlone = await measureCycle(`${probeName} cold (alone)`, hosts, optionsFor(alone, script), alone, masters);
      await alone.close();

      const transport = newTransport();
      const options = optionsFor(transport, script);
      const cycles: Cycle[] = [coldAlone];
      process.stdout.write(`\n${probeName} probe\n${HEADER}\n${cycleRow(coldAlone)}\n`);
      const cold = await profiled(settings.cpuProfDir, `${probeName}-cold`, () => measureCycle(`${probeName} cold`, hosts, options, transport, masters));
      cycles.push(cold);
      process.stdout.write(`${cycleRow(cold)}\n`);
      await settle();
      const spanBefore = sshdCpuMs(masters);
      await profiled(settings.cpuProfDir, `${probeName}-warm`, async () => {
        for (let i = 1; i <= warmRuns; i += 1) {
          const warm = await measureCycle(`${probeName} warm ${i}`, hosts, options, transport, masters);
          cycles.push(warm);
          process.stdout.write(`${cycleRow(warm)}\n`);
        }
      });
      await settle();
      const warmSpanMs = sshdCpuMs(masters) - spanBefore;
      for (const c of cycles) if (c.failures.length > 0) process.stdout.write(`  ${c.label}: ${c.hosts - c.ok} failed, e.g.\n    ${c.failures.join('\n    ')}\n`);
      await transport.close();
      // One figure over all warm cycles: a live process's CPU shows in 10 ms ticks, and every host's
      // sshd crosses a tick in the same cycle, so single warm cycles read 0 or a tick's worth.
      const warmSpan = warmSpanMs / warmRuns / hosts.length;
      const warms = cycles.slice(2);
      // The median warm cycle: one noisy cycle on a shared box should not decide.
      const median = (values: number[]): number => values.sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;
      const coldPoller = Math.min(coldAlone.pollerCpuMs, cold.pollerCpuMs) / hosts.length;
      const warmPoller = median(warms.map((c) => c.pollerCpuMs)) / hosts.length;
      const pollerRatio = warmPoller / coldPoller;
      const coldSshd = Math.min(coldAlone.sshdCpuMs, cold.sshdCpuMs) / hosts.length;
      const sshdRatio = warmSpan / coldSshd;
      const note = probeName === 'real' ? '   (the probe itself dominates the warm cost: for information)' : '';
      lines.push(
        `  ${probeName.padEnd(8)} poller CPU/host  warm/cold = ${warmPoller.toFixed(2)}/${coldPoller.toFixed(2)} ms = ${pollerRatio.toFixed(3)}   target <= ${TARGET_RATIO.toFixed(2)}   ${verdict(pollerRatio <= TARGET_RATIO)}${note}`,
        // On loopback the real probe's own cost grows with the probes running at once: its sshd figure is no verdict.
        `  ${probeName.padEnd(8)} sshd CPU/host    warm/cold = ${warmSpan.toFixed(2)}/${coldSshd.toFixed(2)} ms = ${sshdRatio.toFixed(3)}   target <= ${TARGET_RATIO.toFixed(2)}   ${probeName === 'real' ? (sshdRatio <= TARGET_RATIO ? 'met' : 'missed, not counted') : verdict(sshdRatio <= TARGET_RATIO)}${note}`,
      );
      if (cycles.some((c) => c.ok !== c.hosts)) {
        allMet = false;
        lines.push(`  ${probeName}: some hosts failed (see above): figures are not comparable`);
      }
    }

    if (settings.rssHosts > 0) {
      fleet.setProbe('canned');
      const rssHosts = allHosts.slice(0, settings.rssHosts);
      const transport = newTransport();
      const options = optionsFor(transport, script);
      process.stdout.write(`\nRSS with ${rssHosts.length} kept connections (canned probe)\n${HEADER}\n`);
      const cold = await measureCycle('rss cold', rssHosts, options, transport, masters);
      process.stdout.write(`${cycleRow(cold)}\n`);
      const warm = await measureCycle('rss warm', rssHosts, options, transport, masters);
      process.stdout.write(`${cycleRow(warm)}\n`);
      const open = transport.connectionStats().open;
      const rss = rssMb();
      lines.push(
        `  RSS with ${open} kept connections = ${rss.toFixed(1)} MB (peak of the whole benchmark process ${peakRssMb().toFixed(1)} MB)   target <= ${TARGET_RSS_MB} MB   ${verdict(rss <= TARGET_RSS_MB && open === rssHosts.length)}`,
      );
      await transport.close();
    }
    process.stdout.write(`\ntargets (warm = the median warm cycle)\n${lines.join('\n')}\n`);
    process.stdout.write('the machine may be shared: CPU figures carry other load (wall time most of all); rerun to see the spread\n');
    return allMet;
  } finally {
    await Promise.all(transports.map((t) => t.close()));
    await fleet?.stop();
  }
}

async function main(): Promise<number> {
  const settings = settingsOrReason(readSettings);
  if (settings === null) return 2;
  try {
    return (await benchmark(settings)) ? 0 : 1;
  } catch (error) {
    process.stderr.write(`bench: FAILED: ${(error as Error).stack ?? (error as Error).message}\n`);
    return 1;
  }
}

process.exitCode = await main();
