// One poll cycle (poll -> CSV files -> rotation and report catch-up -> alerts) and its two drivers'
// shared steps: `fleetpoll poll` (runPoll: lock, transports and cycle per run) and `fleetpoll serve`
// (src/serve/: lock and transports kept for the service's life, the same runCycle every tick).
import { runAlerts, type AlertRunOutcome } from './alerts/run-alerts.js';
import type { StateCache } from './alerts/state.js';
import { checkAlertColumns, type HostRules } from './alerts/settings.js';
import type { Config } from './config.js';
import { loadInventory, selectHosts, type Inventory, type InventoryIssue } from './inventory.js';
import type { Log } from './log.js';
import type { Host, OsKind, PollResult, TransportKind } from './model.js';
import { pollFleet, type PollOptions } from './fleet/poll.js';
import { buildTransports, type CycleTransports } from './fleet/transports.js';
import { reportingStarts } from './fleet/report-starts.js';
import type { Transport } from './fleet/transport.js';
import { recordPollIntoHistory } from './history/poll-hook.js';
import { PUSH_DIR } from './push/spool.js';
import { buildProbeScript } from './probes/scripts.js';
import { catchUpAfterWrite, rotateBeforeWrite } from './report/poll-hooks.js';
import { ROLLUP_DIR } from './report/rollup-store.js';
import { clearLeftovers } from './store/leftovers.js';
import { acquireRunLock, describeLockHolder, type LockInfo } from './store/lock.js';
import { writeCycle } from './store/write-cycle.js';

export interface PollRequest {
  readonly config: Config;
  /** `--only` selectors: names, globs, tag:<tag>. */
  readonly only: readonly string[];
  /** Refuse to poll at all when any inventory row is bad. */
  readonly strict: boolean;
  readonly env: NodeJS.ProcessEnv;
  readonly log: Log;
  /** Called once the lock is held, with the hosts about to be polled (the terminal progress line). */
  readonly onCycleStart?: (hosts: readonly Host[]) => void;
  /** Called as each host's first attempt starts (the progress line's slowest running host). */
  readonly onHostStart?: (host: Host) => void;
  /** Called as each host finishes. */
  readonly onResult?: (result: PollResult) => void;
}

// Everything the CLI needs to print a summary and pick an exit code.
export type PollRunOutcome =
  | {
      kind: 'polled';
      cycleStart: Date;
      durationMs: number;
      results: PollResult[];
      inventoryIssues: readonly InventoryIssue[];
      written: string[];
      warnings: string[];
      alerts: AlertRunOutcome;
    }
  | { kind: 'invalid'; problems: string[]; inventoryIssues: readonly InventoryIssue[] }
  | { kind: 'locked'; holder: LockInfo | null; description: string };

// A validated inventory ready to poll: its hosts, their alert overrides, every issue found (by line).
export interface PollInventory {
  readonly inventory: Inventory;
  /** Enabled hosts (the rows every CSV snapshot covers). */
  readonly enabled: readonly Host[];
  /** Per-host alert rules from the override columns; undefined when alerts are off. */
  readonly alertRules: ReadonlyMap<string, HostRules> | undefined;
}

/** Loads and validates servers.csv (alert override columns included): the inventory, or why not. */
export async function loadPollInventory(
  config: Config,
  env: NodeJS.ProcessEnv,
): Promise<{ kind: 'loaded'; value: PollInventory } | { kind: 'invalid'; problems: string[]; inventoryIssues: readonly InventoryIssue[] }> {
  let inventory: Inventory;
  try {
    inventory = await loadInventory(config.inventoryPath, { user: config.ssh.user, port: config.ssh.port, winrmSsl: config.winrm.useSsl, winrmAuthentication: config.winrm.authentication, pushIntervalSeconds: config.push.intervalSeconds }, env);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'file not found' : (error as Error).message;
    return { kind: 'invalid', problems: [`${config.inventoryPath}: ${why}`], inventoryIssues: [] };
  }
  // Bad alert override columns are inventory errors too, reported before anything connects.
  let alertRules: ReadonlyMap<string, HostRules> | undefined;
  if (config.alerts.enabled) {
    const checked = checkAlertColumns(inventory.hosts, config.alerts, inventory.file);
    alertRules = checked.rules;
    inventory = { ...inventory, issues: [...inventory.issues, ...checked.issues].sort((a, b) => a.line - b.line) };
  }
  return { kind: 'loaded', value: { inventory, enabled: inventory.hosts.filter((h) => h.enabled), alertRules } };
}

// The hosts of one cycle polled by a driver's fan-out; hosts it never started (a service stopping) are carried over.
export interface FanOutResult {
  readonly results: PollResult[];
  /** Names of hosts not polled this cycle: their recentlog.csv rows are carried over, log.csv gets nothing. */
  readonly notStarted: ReadonlySet<string>;
}

// How a driver fans the cycle out over its hosts: pollFleet for `poll`, the spread schedule for `serve`.
export type FanOut = (hosts: readonly Host[], options: PollOptions) => Promise<FanOutResult>;

// Records a finished cycle somewhere besides the CSV files (the history store); returns warnings for the user.
export type CycleRecorder = (results: readonly PollResult[], cycleStart: Date, durationMs: number) => string[] | Promise<string[]>;

// One cycle's input; the driver holds the run lock and owns the transports' lifetime.
export interface CycleInput {
  readonly config: Config;
  readonly inventory: PollInventory;
  /** The hosts to poll (all enabled hosts, or those --only selected). */
  readonly hosts: readonly Host[];
  readonly transports: CycleTransports;
  readonly fanOut: FanOut;
  readonly env: NodeJS.ProcessEnv;
  readonly log: Log;
  readonly onResult?: (result: PollResult) => void;
  /** Records into the history store after the CSV files; absent: nothing but the CSV files. */
  readonly record?: CycleRecorder;
  /** The cycle's time in every file; absent: now. A coordinator resuming an unwritten cycle passes its start. */
  readonly cycleStart?: Date;
  /** The alert state kept between cycles (serve); absent: read from its file each cycle. */
  readonly alertStateCache?: StateCache;
}

// What one cycle did.
export type CycleOutcome = Extract<PollRunOutcome, { kind: 'polled' }> & { readonly notStarted: ReadonlySet<string> };

/** Runs one cycle under a lock the caller holds. Throws only for internal failures (e.g. the data dir is unwritable). */
export async function runCycle(input: CycleInput): Promise<CycleOutcome> {
  const { config, log, hosts } = input;
  const { enabled, alertRules, inventory } = input.inventory;
  const cycleStart = input.cycleStart ?? new Date();
  const started = performance.now();
  log.info('poll started', { hosts: hosts.length, concurrency: config.poll.concurrency, timeout_s: config.poll.timeoutMs / 1000 });
  const { results, notStarted } = await input.fanOut(hosts, { ...pollOptionsOf(config, input.transports.transports, log), onResult: input.onResult });
  await input.transports.saveKnownHostsNames();
  // A month boundary moves log.csv & co. to log-YYYY-MM.csv first; never fails the poll.
  await rotateBeforeWrite(config.dataDir, cycleStart, config.report.rotate, log);
  const carryOver = unpolled(enabled, hosts);
  for (const name of notStarted) carryOver.add(name);
  const stored = await writeCycle(results, cycleStart, {
    dataDir: config.dataDir,
    delimiter: config.csv.delimiter,
    decimalSeparator: config.csv.decimalSeparator,
    carryOver,
  });
  for (const warning of stored.warnings) log.warn(warning);
  // After the CSV files, inside the lock; a store problem is a warning naming the file, never the poll.
  const recordWarnings = input.record === undefined ? [] : await input.record(results, cycleStart, Math.round(performance.now() - started));
  // The report's daily rollup reads what was just appended (bounded; never fails the poll).
  await catchUpAfterWrite(config.dataDir, log);
  const durationMs = Math.round(performance.now() - started);
  const ok = results.filter((r) => r.status === 'ok').length;
  log.info('poll finished', { hosts: results.length, ok, failed: results.length - ok, ms: durationMs, ...(notStarted.size > 0 ? { not_started: notStarted.size } : {}) });
  // Inside the lock, so two runs never race on alert-state.json; never throws, bounded by smtp.timeoutSeconds.
  const alerts = await runAlerts({ config, inventoryHosts: enabled, results, now: cycleStart, log, env: input.env, rules: alertRules, ...(input.alertStateCache === undefined ? {} : { stateCache: input.alertStateCache }) });
  return {
    kind: 'polled',
    cycleStart,
    durationMs,
    results,
    inventoryIssues: inventory.issues,
    written: stored.written,
    warnings: [...stored.warnings, ...recordWarnings, ...alerts.warnings],
    alerts,
    notStarted,
  };
}

/** Runs one `fleetpoll poll`: inventory, lock, transports, one cycle. Throws only for internal failures. */
export async function runPoll(request: PollRequest): Promise<PollRunOutcome> {
  const { config, log } = request;
  const loaded = await loadPollInventory(config, request.env);
  if (loaded.kind === 'invalid') return loaded;
  const { inventory, enabled } = loaded.value;
  const errors = inventory.issues.filter((i) => i.severity === 'error');
  if (request.strict && errors.length > 0) {
    return { kind: 'invalid', problems: [`${errors.length} inventory error(s) and --strict is set: nothing was polled`], inventoryIssues: inventory.issues };
  }
  const hosts = selectHosts(enabled, request.only);
  if (hosts.length === 0) {
    const why =
      request.only.length > 0
        ? `--only ${request.only.join(' ')} matched none of the ${enabled.length} enabled host(s)`
        : `${config.inventoryPath}: no enabled host to poll`;
    return { kind: 'invalid', problems: [why], inventoryIssues: inventory.issues };
  }

  const lock = await acquireRunLock(config.dataDir);
  if (lock.kind === 'held') return { kind: 'locked', holder: lock.holder, description: describeLockHolder(lock) };
  if (lock.recoveredStale !== null) log.warn('recovered a stale lock left by a killed run', { pid: lock.recoveredStale.pid });
  try {
    await clearKilledRunLeftovers(config, log);
    const built = await buildTransports(config, hosts, request.env, log);
    request.onCycleStart?.(hosts);
    const transports: CycleTransports =
      request.onHostStart === undefined ? built : { ...built, transports: reportingStarts(built.transports, request.onHostStart) };
    // One run, one set of transports: closed as soon as every host has answered, before the files are written.
    const fanOut: FanOut = async (cycleHosts, options) => {
      try {
        return { results: await pollFleet(cycleHosts, options), notStarted: new Set<string>() };
      } finally {
        await closeTransports(built.transports);
      }
    };
    // A poll opens the store for its one cycle; a problem with it is a warning naming the file, never the poll.
    const record: CycleRecorder = (results, cycleStart, durationMs) => recordPollIntoHistory(config, results, cycleStart, durationMs, log);
    const { notStarted: _notStarted, ...outcome } = await runCycle({ config, inventory: loaded.value, hosts, transports, fanOut, env: request.env, log, onResult: request.onResult, record });
    return outcome;
  } finally {
    await lock.lock.release();
  }
}

/** Clears what a killed run left in the data dir (temp files, an unfinished cycle); right after taking the run lock. */
export async function clearKilledRunLeftovers(config: Config, log: Log): Promise<void> {
  // Before the monthly rotation renames log.csv: an unfinished cycle is rolled back in the file it was written to.
  try {
    for (const message of await clearLeftovers(config.dataDir, [ROLLUP_DIR, 'reports', PUSH_DIR])) log.warn(message);
  } catch (error) {
    // writeCycle tries the roll-back again and fails the poll with the path if it still cannot.
    log.warn(`could not clear what a killed run left in ${config.dataDir}: ${(error as Error).message}`);
  }
}

/** Closes every transport of a set (end of a run, or of the service). */
export async function closeTransports(transports: Readonly<Record<TransportKind, Transport>>): Promise<void> {
  await Promise.all(Object.values(transports).map((t) => t.close()));
}

// Names of enabled hosts this run did not poll (--only); a Set, as fleets reach 10,000 hosts.
function unpolled(enabled: readonly Host[], polled: readonly Host[]): Set<string> {
  const polledNames = new Set(polled.map((h) => h.name));
  return new Set(enabled.filter((h) => !polledNames.has(h.name)).map((h) => h.name));
}

/** How hosts are polled under these settings: the one place the poll settings become PollOptions (a cycle, a worker). */
export function pollOptionsOf(config: Config, transports: PollOptions['transports'], log: Log): PollOptions {
  return {
    transports,
    scripts: buildScripts(config),
    concurrency: config.poll.concurrency,
    timeoutMs: config.poll.timeoutMs,
    maxOutputBytes: config.poll.maxOutputBytes,
    retries: config.poll.retries,
    retryBackoffMs: config.poll.retryBackoffMs,
    maxConnections: config.poll.maxConnections,
    maxSessions: config.poll.maxSessions,
    startsPerSecond: config.poll.maxConnectsPerSecond,
    log,
  };
}

/** The probe scripts of a cycle, per OS (a worker builds them once, as a cycle does). */
export function buildScripts(config: Config): Record<OsKind, string> {
  const params = { cpuWindowSec: config.poll.cpuWindowSec, topProcesses: config.poll.topProcesses };
  return { linux: buildProbeScript('linux', params), windows: buildProbeScript('windows', params) };
}
