// One `fleetpoll poll` run: inventory -> lock -> poll -> store, as values for the CLI to report.
import { runAlerts, type AlertRunOutcome } from './alerts/run-alerts.js';
import { checkAlertColumns, type HostRules } from './alerts/settings.js';
import type { Config } from './config.js';
import { loadInventory, selectHosts, type InventoryIssue } from './inventory.js';
import type { Log } from './log.js';
import type { Host, OsKind, PollResult } from './model.js';
import { pollFleet } from './fleet/poll.js';
import { buildTransports } from './fleet/transports.js';
import { reportingStarts } from './fleet/report-starts.js';
import { recordPollIntoHistory } from './history/poll-hook.js';
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

/** Runs one poll cycle. Throws only for internal failures (e.g. the data dir is unwritable). */
export async function runPoll(request: PollRequest): Promise<PollRunOutcome> {
  const { config, log } = request;
  let inventory;
  try {
    inventory = await loadInventory(config.inventoryPath, { user: config.ssh.user, port: config.ssh.port, winrmSsl: config.winrm.useSsl, winrmAuthentication: config.winrm.authentication }, request.env);
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
  const errors = inventory.issues.filter((i) => i.severity === 'error');
  if (request.strict && errors.length > 0) {
    return { kind: 'invalid', problems: [`${errors.length} inventory error(s) and --strict is set: nothing was polled`], inventoryIssues: inventory.issues };
  }
  const enabled = inventory.hosts.filter((h) => h.enabled);
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
    // Before the monthly rotation renames log.csv: an unfinished cycle is rolled back in the file it was written to.
    try {
      for (const message of await clearLeftovers(config.dataDir, [ROLLUP_DIR, 'reports'])) log.warn(message);
    } catch (error) {
      // writeCycle tries the roll-back again and fails the poll with the path if it still cannot.
      log.warn(`could not clear what a killed run left in ${config.dataDir}: ${(error as Error).message}`);
    }
    const cycleStart = new Date();
    const started = performance.now();
    log.info('poll started', { hosts: hosts.length, concurrency: config.poll.concurrency, timeout_s: config.poll.timeoutMs / 1000 });
    const { transports, saveKnownHostsNames } = await buildTransports(config, hosts, request.env, log);
    request.onCycleStart?.(hosts);
    let results: PollResult[];
    try {
      results = await pollFleet(hosts, {
        transports: request.onHostStart === undefined ? transports : reportingStarts(transports, request.onHostStart),
        scripts: buildScripts(config),
        concurrency: config.poll.concurrency,
        timeoutMs: config.poll.timeoutMs,
        maxOutputBytes: config.poll.maxOutputBytes,
        retries: config.poll.retries,
        retryBackoffMs: config.poll.retryBackoffMs,
        maxConnections: config.poll.maxConnections,
        maxSessions: config.poll.maxSessions,
        log,
        onResult: request.onResult,
      });
    } finally {
      await Promise.all(Object.values(transports).map((t) => t.close()));
    }
    await saveKnownHostsNames();
    // A month boundary moves log.csv & co. to log-YYYY-MM.csv first; never fails the poll.
    await rotateBeforeWrite(config.dataDir, cycleStart, config.report.rotate, log);
    const stored = await writeCycle(results, cycleStart, {
      dataDir: config.dataDir,
      delimiter: config.csv.delimiter,
      decimalSeparator: config.csv.decimalSeparator,
      carryOver: unpolled(enabled, hosts),
    });
    for (const warning of stored.warnings) log.warn(warning);
    // After the CSV files, inside the lock; a store problem is a warning naming the file, never the poll.
    const historyWarnings = recordPollIntoHistory(config, results, cycleStart, Math.round(performance.now() - started), log);
    // The report's daily rollup reads what was just appended (bounded; never fails the poll).
    await catchUpAfterWrite(config.dataDir, log);
    const durationMs = Math.round(performance.now() - started);
    const ok = results.filter((r) => r.status === 'ok').length;
    log.info('poll finished', { hosts: results.length, ok, failed: results.length - ok, ms: durationMs });
    // Inside the lock, so two runs never race on alert-state.json; never throws, bounded by smtp.timeoutSeconds.
    const alerts = await runAlerts({ config, inventoryHosts: enabled, results, now: cycleStart, log, env: request.env, rules: alertRules });
    return {
      kind: 'polled',
      cycleStart,
      durationMs,
      results,
      inventoryIssues: inventory.issues,
      written: stored.written,
      warnings: [...stored.warnings, ...historyWarnings, ...alerts.warnings],
      alerts,
    };
  } finally {
    await lock.lock.release();
  }
}

// Names of enabled hosts this run did not poll (--only); a Set, as fleets reach 10,000 hosts.
function unpolled(enabled: readonly Host[], polled: readonly Host[]): Set<string> {
  const polledNames = new Set(polled.map((h) => h.name));
  return new Set(enabled.filter((h) => !polledNames.has(h.name)).map((h) => h.name));
}

function buildScripts(config: Config): Record<OsKind, string> {
  const params = { cpuWindowSec: config.poll.cpuWindowSec, topProcesses: config.poll.topProcesses };
  return { linux: buildProbeScript('linux', params), windows: buildProbeScript('windows', params) };
}
