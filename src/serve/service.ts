// The serve loop: holds the run lock for its whole life, keeps the transports, reloads before a cycle
// when a file changed or SIGHUP came, runs the shared cycle (run-poll.ts) at each tick, skips ticks a
// cycle overran, and stops cleanly (cycle within its deadline, files whole, connections closed, lock released).
import { setTimeout as sleep } from 'node:timers/promises';
import { resolve } from 'node:path';
import { StateCache } from '../alerts/state.js';
import { DEFAULT_CONFIG_FILE, type Config } from '../config.js';
import type { Log } from '../log.js';
import type { Host } from '../model.js';
import { clearKilledRunLeftovers, runCycle, type CycleOutcome, type CycleRecorder } from '../run-poll.js';
import type { ServeHistory } from './history.js';
import { ingestView } from '../push/view.js';
import { StoreError } from '../store/errors.js';
import { acquireRunLock, describeLockHolder, type RunLock } from '../store/lock.js';
import { spreadFanOut } from './fan-out.js';
import { splitFanOut } from '../cluster/split-fan-out.js';
import { changedFiles, fingerprintAll, type FileFingerprint } from './fingerprint.js';
import { keepRestartOnly, loadServeInputs, type LoadSource, type ServeInputs } from './reload.js';
import { afterCycle, hostOffsetMs, nextTickMs } from './schedule.js';
import { ServiceState, summariseCycle } from './status.js';
import { stoppable, type ServiceSignals } from './stop.js';
import { ServeTransports } from './transports.js';
import { CycleSuspended } from '../cluster/errors.js';
import type { ClusterCycle, Coordinator } from '../cluster/coordinator.js';

// Everything the loop needs; the command builds it.
export interface ServeOptions {
  readonly source: LoadSource;
  /** Settings and inventory as loaded (and validated) at start. */
  readonly initial: ServeInputs;
  readonly log: Log;
  readonly signals: ServiceSignals;
  /** One cycle, then stop. */
  readonly once: boolean;
  /** `--interval`: wins over serve.intervalSeconds, across reloads too. */
  readonly intervalSecondsOverride?: number;
  /** One line per cycle for the terminal or the journal (nothing with --quiet). */
  readonly say: (line: string) => void;
  /** Called once the lock is held and the transports can be built (the HTTP server starts here). */
  readonly onStarted?: (state: ServiceState) => Promise<void> | void;
  /** The history store each cycle is recorded into after its CSV files; null when history is off. */
  readonly history?: ServeHistory | null;
  /** Called as the service stops, before the connections close and the lock goes (the HTTP server stops here). */
  readonly onStopping?: () => Promise<void> | void;
  /** Recorded in the lock file (default process.argv). */
  readonly argv?: readonly string[];
  /** With nats settings: the coordinator whose workers poll (src/cluster/); each cycle's fan-out is its jobs and results. */
  readonly cluster?: Coordinator | null;
}

// How the service ended.
export type ServeOutcome =
  | { readonly kind: 'stopped'; readonly cycles: number; readonly signal: NodeJS.Signals | null }
  | { readonly kind: 'locked'; readonly description: string };

/** Runs the service until a stop signal (or one cycle with `once`). Throws only for internal failures. */
export async function serve(options: ServeOptions): Promise<ServeOutcome> {
  const { log, signals } = options;
  const lock = await acquireRunLock(options.initial.config.dataDir, { argv: options.argv });
  if (lock.kind === 'held') return { kind: 'locked', description: describeLockHolder(lock) };
  if (lock.recoveredStale !== null) log.warn('recovered a stale lock left by a killed run', { pid: lock.recoveredStale.pid });
  const transports = new ServeTransports(options.source.env, log);
  const state = new ServiceState(intervalSeconds(options, options.initial.config), options.initial.inventory.enabled.length);
  state.warm = () => transports.stats();
  state.push = ingestView(options.initial.inventory.enabled, options.initial.config.push);
  try {
    await clearKilledRunLeftovers(options.initial.config, log);
    await options.onStarted?.(state);
    await loop(options, lock.lock, transports, state);
    return { kind: 'stopped', cycles: state.cycles, signal: signals.stoppedBy };
  } finally {
    try {
      await options.onStopping?.();
    } catch (error) {
      log.warn(`stopping: ${(error as Error).message}`);
    }
    options.history?.close();
    // Connections close before the lock goes: the next holder must find no half-open sessions of ours.
    await transports.close();
    await lock.lock.release();
    log.info('service stopped', { cycles: state.cycles });
  }
}

async function loop(options: ServeOptions, lock: RunLock, transports: ServeTransports, state: ServiceState): Promise<void> {
  const { log, signals } = options;
  let inputs = options.initial;
  let watched = await fingerprintAll(watchedFiles(inputs.config, options.source.cwd));
  let knownHosts = await fingerprintAll(knownHostsFiles(inputs.config));
  // The first cycle starts now, its hosts spread over what is left before the first tick on the clock.
  let tickMs = Date.now();
  let spreadOverMs = nextTickMs(tickMs, intervalMs(options, inputs.config)) - tickMs;
  // The alert state stays in memory between cycles (read again if anyone else replaces the file).
  const alertStates = new StateCache();

  for (;;) {
    if (signals.stop.aborted) return;
    // Reload before the cycle: a changed file or SIGHUP.
    const hup = signals.takeReload();
    const now = await fingerprintAll(watchedFiles(inputs.config, options.source.cwd));
    const changed = changedFiles(watched, now);
    let rebuild = hup;
    if (hup || changed.length > 0) {
      const before = inputs;
      inputs = await reload(options, inputs, changed, hup, state);
      watched = inputs === before ? now : await fingerprintAll(watchedFiles(inputs.config, options.source.cwd));
      const removed = hostsGone(before.inventory.enabled, inputs.inventory.enabled);
      if (removed.length > 0) {
        log.info('hosts removed from the inventory: their kept connections close', { hosts: removed.length });
        await transports.retain(inputs.inventory.enabled.map((h) => h.name));
      }
      const knownHostsNow = await fingerprintAll(knownHostsFiles(inputs.config));
      if (changedFiles(knownHosts, knownHostsNow).length > 0) rebuild = true;
    }

    // A stop that came during the reload: no cycle with every host left out.
    if (signals.stop.aborted) return;
    const { config } = inputs;
    const hosts = inputs.inventory.enabled;
    const interval = intervalMs(options, config);
    state.intervalSeconds = interval / 1000;
    state.hosts = hosts.length;
    state.push = ingestView(hosts, config.push);
    state.cycleRunning = true;
    state.nextCycleAtSec = null;
    const outcome = await oneCycle(options, inputs, hosts, transports, rebuild, { tickMs, intervalMs: interval, spreadOverMs, spreadFraction: config.serve.spreadFraction }, state, alertStates);
    state.cycleRunning = false;
    // What the cycle itself wrote to known_hosts (accept-new) is not an edit to react to.
    knownHosts = await fingerprintAll(knownHostsFiles(config));
    if (outcome !== null) {
      state.cycles += 1;
      options.say(cycleLine(outcome));
    }
    // The lock's mtime is its heartbeat: a poller on another machine sharing the data dir must not take it as stale.
    if (!(await lock.refresh().catch(() => false))) {
      log.error(`the run lock ${lock.path} is no longer this service's (removed or replaced by hand?): another poll may now write the same files`);
    }
    if (options.once || signals.stop.aborted) return;

    const next = afterCycle(tickMs, Date.now(), interval);
    if (next.skippedTicks > 0) {
      state.skippedCycles += next.skippedTicks;
      log.warn(`cycle overran its interval: skipping ${next.skippedTicks} tick(s); next cycle at ${new Date(next.nextTickMs).toISOString()}`, {
        interval_s: interval / 1000,
        cycle_ms: Date.now() - tickMs,
      });
    }
    tickMs = next.nextTickMs;
    spreadOverMs = interval;
    state.nextCycleAtSec = Math.floor(tickMs / 1000);
    try {
      await sleep(Math.max(0, tickMs - Date.now()), undefined, { signal: signals.stop });
    } catch {
      return;
    }
  }
}

// The schedule of one cycle: its tick and the span its hosts' starts are spread over.
interface CycleTiming {
  readonly tickMs: number;
  /** The interval: a coordinator's cycle deadline is set from it. */
  readonly intervalMs: number;
  readonly spreadOverMs: number;
  readonly spreadFraction: number;
}

// One cycle through the shared runCycle; null when it could not write its files (logged; the service goes on).
async function oneCycle(
  options: ServeOptions,
  inputs: ServeInputs,
  hosts: readonly Host[],
  transports: ServeTransports,
  rebuild: boolean,
  timing: CycleTiming,
  state: ServiceState,
  alertStates: StateCache,
): Promise<CycleOutcome | null> {
  const { log, signals } = options;
  const { config } = inputs;
  const cycleTransports = await transports.forCycle(config, hosts, rebuild);
  const reconnectsBefore = transports.stats()?.reconnects ?? null;
  // A stop gives hosts still running their own deadline, then aborts them (timeout rows).
  const hardStop = new AbortController();
  let hardStopTimer: ReturnType<typeof setTimeout> | null = null;
  const onStop = (): void => {
    hardStopTimer = setTimeout(() => hardStop.abort(), config.poll.timeoutMs);
  };
  if (signals.stop.aborted) onStop();
  else signals.stop.addEventListener('abort', onStop, { once: true });
  const reconnectsSoFar = (): number | null => {
    const now = transports.stats()?.reconnects ?? null;
    return reconnectsBefore === null || now === null ? null : now - reconnectsBefore;
  };
  const history = options.history ?? null;
  const record: CycleRecorder | undefined =
    history === null ? undefined : (results, cycleStart, durationMs) => history.record(results, cycleStart, durationMs, reconnectsSoFar());
  // Zones: the coordinator's fan-out (jobs out, results in) replaces the spread fan-out for the hosts
  // workers poll; push hosts stay here, where their samples arrive. The rest is the same cycle.
  const localFanOut = spreadFanOut({ tickMs: timing.tickMs, offsetMs: (host) => hostOffsetMs(host.name, timing.spreadOverMs, timing.spreadFraction) }, signals.stop);
  let cluster: ClusterCycle | null = null;
  try {
    if (options.cluster != null) cluster = await options.cluster.beginCycle(timing.intervalMs, config.poll.timeoutMs, timing.spreadOverMs * timing.spreadFraction, signals.stop);
    const outcome = await runCycle({
      config,
      inventory: inputs.inventory,
      hosts,
      transports: { ...cycleTransports, transports: stoppable(cycleTransports.transports, hardStop.signal) },
      fanOut: cluster === null ? localFanOut : splitFanOut(localFanOut, cluster.fanOut),
      env: options.source.env,
      log,
      record,
      alertStateCache: alertStates,
      ...(cluster === null ? {} : { cycleStart: cluster.cycleStart }),
    });
    if (cluster !== null) await options.cluster?.cycleWritten(cluster);
    state.lastCycle = summariseCycle(outcome.results, outcome.cycleStart, outcome.durationMs, outcome.notStarted.size, reconnectsSoFar());
    state.fleet.finished(outcome, reconnectsSoFar());
    state.lastError = null;
    return outcome;
  } catch (error) {
    if (error instanceof CycleSuspended) {
      log.warn(error.message);
      return null;
    }
    if (!(error instanceof StoreError)) throw error;
    // The data dir may come back (a full disk freed, a mount back): the next cycle tries again.
    state.lastError = error.message;
    log.error(`cycle not written: ${error.message}`);
    return null;
  } finally {
    signals.stop.removeEventListener('abort', onStop);
    if (hardStopTimer !== null) clearTimeout(hardStopTimer);
  }
}

// A reload: the new inputs, or (a bad edit) the old ones, with the problems logged and kept in the state.
async function reload(options: ServeOptions, current: ServeInputs, changed: readonly string[], hup: boolean, state: ServiceState): Promise<ServeInputs> {
  const { log } = options;
  const why = [...(hup ? ['SIGHUP'] : []), ...changed.map((f) => `${f} changed`)].join(', ');
  const outcome = await loadServeInputs(options.source, current.config);
  const atSec = Math.floor(Date.now() / 1000);
  if (outcome.kind === 'invalid') {
    log.error(`reload refused (${why}): keeping the last good settings and inventory (${current.inventory.enabled.length} host(s))`);
    for (const problem of outcome.problems) log.error(`reload: ${problem}`);
    state.reload = { atSec, ok: false, problems: outcome.problems };
    return current;
  }
  for (const warning of outcome.warnings) log.warn(`${warning.file}:${warning.line}: ${warning.message}`);
  for (const note of outcome.needRestart) log.warn(`reload: ${note}`);
  const before = new Set(current.inventory.enabled.map((h) => h.name));
  const added = outcome.inputs.inventory.enabled.filter((h) => !before.has(h.name)).length;
  log.info(`reloaded (${why})`, { hosts: outcome.inputs.inventory.enabled.length, added, removed: hostsGone(current.inventory.enabled, outcome.inputs.inventory.enabled).length });
  // What waits for a restart is listed with the reload, so the API shows it too.
  state.reload = { atSec, ok: true, problems: outcome.needRestart };
  // The running parts keep the sections they were built from, and so does every later reload's comparison.
  return outcome.needRestart.length === 0 ? outcome.inputs : { ...outcome.inputs, config: keepRestartOnly(current.config, outcome.inputs.config) };
}

function hostsGone(before: readonly Host[], after: readonly Host[]): string[] {
  const now = new Set(after.map((h) => h.name));
  return before.filter((h) => !now.has(h.name)).map((h) => h.name);
}

// The settings file (watched even when absent: it may appear) and the inventory.
function watchedFiles(config: Config, cwd: string): string[] {
  return [config.configFile ?? resolve(cwd, DEFAULT_CONFIG_FILE), config.inventoryPath];
}

function knownHostsFiles(config: Config): string[] {
  return [config.ssh.knownHostsPath, config.ssh.systemKnownHostsPath];
}

function intervalSeconds(options: ServeOptions, config: Config): number {
  return options.intervalSecondsOverride ?? config.serve.intervalSeconds;
}

function intervalMs(options: ServeOptions, config: Config): number {
  return Math.round(intervalSeconds(options, config) * 1000);
}

function cycleLine(outcome: CycleOutcome): string {
  const ok = outcome.results.filter((r) => r.status === 'ok').length;
  const failed = outcome.results.length - ok;
  const stopped = outcome.notStarted.size > 0 ? `, ${outcome.notStarted.size} not started (stopping)` : '';
  return `fleetpoll serve: cycle ${outcome.cycleStart.toISOString()}: ${outcome.results.length} host(s) in ${(outcome.durationMs / 1000).toFixed(1)} s: ${ok} ok, ${failed} failed${stopped}`;
}
