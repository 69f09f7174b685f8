// One `fleetpoll poll` run: inventory -> lock -> poll -> store, as values for the CLI to report.
import { join } from 'node:path';
import { runAlerts, type AlertRunOutcome } from './alerts/run-alerts.js';
import { checkAlertColumns, type HostRules } from './alerts/settings.js';
import type { Config } from './config.js';
import { resolveKeyPath } from './config.js';
import { loadInventory, selectHosts, type InventoryIssue } from './inventory.js';
import type { Log } from './log.js';
import type { Host, OsKind, PollResult, TransportKind } from './model.js';
import { KnownHosts } from './fleet/known-hosts.js';
import { KNOWN_HOSTS_NAMES_FILE, readKnownHostsNames, writeKnownHostsNames } from './fleet/known-hosts-names.js';
import { LocalTransport } from './fleet/local.js';
import { pollFleet } from './fleet/poll.js';
import { knownHostsPolicy, SshTransport } from './fleet/ssh.js';
import type { Transport } from './fleet/transport.js';
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
    let results: PollResult[];
    try {
      results = await pollFleet(hosts, {
        transports,
        scripts: buildScripts(config),
        concurrency: config.poll.concurrency,
        timeoutMs: config.poll.timeoutMs,
        maxOutputBytes: config.poll.maxOutputBytes,
        retries: config.poll.retries,
        retryBackoffMs: config.poll.retryBackoffMs,
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
      warnings: [...stored.warnings, ...alerts.warnings],
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

// Stands in for a transport no host of this run uses.
function unusedTransport(kind: TransportKind): Transport {
  return {
    run: () => Promise.reject(new Error(`transport ${kind} was not set up for this run`)),
    close: () => Promise.resolve(),
  };
}

function buildScripts(config: Config): Record<OsKind, string> {
  const params = { cpuWindowSec: config.poll.cpuWindowSec, topProcesses: config.poll.topProcesses };
  return { linux: buildProbeScript('linux', params), windows: buildProbeScript('windows', params) };
}

interface CycleTransports {
  readonly transports: Record<TransportKind, Transport>;
  /** Keeps the names hashed known_hosts lines were matched to, for the next poll; never throws. */
  readonly saveKnownHostsNames: () => Promise<void>;
}

// An HMAC costs ~4 us: below this many (hashed lines x hosts) the scan is not worth a log line.
const HASHED_SCAN_NOTE = 100_000;

async function buildTransports(config: Config, hosts: readonly Host[], env: NodeJS.ProcessEnv, log: Log): Promise<CycleTransports> {
  const knownHosts = new KnownHosts({
    mode: config.ssh.hostKeyChecking,
    userFile: config.ssh.knownHostsPath,
    systemFile: config.ssh.systemKnownHostsPath,
  });
  const sshHosts = hosts.filter((h) => h.transport === 'ssh').length;
  const saveKnownHostsNames = sshHosts > 0 ? await loadKnownHosts(config, knownHosts, sshHosts, log) : nothingToSave;
  const transports: Record<TransportKind, Transport> = {
    local: new LocalTransport(),
    ssh: new SshTransport({
      hostKeys: knownHostsPolicy(knownHosts, log),
      identityPath: config.ssh.identityPath,
      passphrase: env[config.ssh.passphraseEnv],
      env,
      resolveKeyPath: (path) => resolveKeyPath(path, config.inventoryPath),
      log,
      windowsPowerShell: config.ssh.windowsPowerShell,
    }),
    // Loaded only for fleets with winrm hosts; it starts its PowerShell process on first use.
    winrm: hosts.some((h) => h.transport === 'winrm')
      ? new (await import('./fleet/powershell.js')).PowerShellTransport({ executable: config.winrm.powershell, env, log, timeoutMs: config.poll.timeoutMs })
      : unusedTransport('winrm'),
  };
  return { transports, saveKnownHostsNames };
}

const nothingToSave = (): Promise<void> => Promise.resolve();

// Loads the known_hosts files and, when they have hashed lines, the names a previous poll found for them;
// returns what saves this poll's names afterwards.
async function loadKnownHosts(config: Config, knownHosts: KnownHosts, sshHosts: number, log: Log): Promise<() => Promise<void>> {
  if (config.ssh.hostKeyChecking === 'off') {
    log.warn('host key checking is OFF: any server can impersonate your hosts (ssh.hostKeyChecking=off)');
  }
  const loaded = await knownHosts.load();
  for (const problem of loaded.errors) log.warn(`known_hosts: ${problem}`);
  if (loaded.hashed === 0) return nothingToSave;
  const namesFile = join(config.dataDir, KNOWN_HOSTS_NAMES_FILE);
  const saved = await readKnownHostsNames(namesFile);
  const verified = knownHosts.useResolvedNames(saved);
  const unmatched = loaded.hashed - verified;
  if (unmatched * sshHosts >= HASHED_SCAN_NOTE) {
    log.info(`known_hosts: ${unmatched} hashed line(s) not yet matched to a host; each is tried against each host this poll, and the matches are kept in ${namesFile}`);
  }
  return async () => {
    // Rewritten when this poll matched new lines, or when saved pairs no longer verify (lines removed).
    if (knownHosts.newlyResolved === 0 && verified === saved.size) return;
    try {
      await writeKnownHostsNames(namesFile, knownHosts.resolvedNames());
    } catch (error) {
      log.warn(`cannot save ${namesFile}: ${(error as Error).message}; the next poll matches hashed known_hosts lines again`);
    }
  };
}
