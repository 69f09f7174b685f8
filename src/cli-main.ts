// fleetpoll's command line: parses flags, calls the modules, prints, and sets the exit code.
// Started by cli.ts (the bin), after it has turned on Node's compile cache where there is one.
import { relative } from 'node:path';
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import type { AlertsArgs } from './alerts/commands.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { defaultUser, type InventoryIssue } from './inventory.js';
import { openRunLog } from './log.js';
import { clearingLineBefore, ProgressLine, wantsProgress } from './progress-line.js';
import type { PollResult, PollStatus } from './model.js';
import type { ReportArgs } from './report/command.js';
import { historyOptions, type HistoryArgs } from './history/options.js';
import type { PushCommandArgs } from './push/commands.js';
import type { ServeArgs } from './serve/command.js';
import type { WorkerArgs } from './cluster/worker-command.js';
// Loaded by the poll command only: `fleetpoll report` need not load the SSH and WinRM stack.
import type { PollRunOutcome } from './run-poll.js';
import { StoreError } from './store/errors.js';
import { VERSION } from './version.js';
import { diskUsedPct } from './store/rows.js';

// Documented (docs/scheduling.md); scripts and schedulers depend on them, so each outcome has its own
// code: a script must tell "some hosts are down" (--fail-on-down) from "the poll itself failed".
export const EXIT = { ok: 0, hostsDown: 1, usage: 2, locked: 3, internal: 4 } as const;

const STATUS_ORDER: PollStatus[] = ['ok', 'timeout', 'unreachable', 'auth_failed', 'host_key_mismatch', 'probe_error'];

interface PollArgs {
  config?: string;
  inventory?: string;
  dataDir?: string;
  concurrency?: number;
  timeout?: number;
  only?: string[];
  json: boolean;
  strict: boolean;
  failOnDown: boolean;
  hostKeyChecking?: string;
  knownHosts?: string;
  delimiter?: string;
  logLevel?: string;
  verbose: boolean;
  quiet: boolean;
}

async function pollCommand(args: PollArgs): Promise<number> {
  let config: Config;
  try {
    config = loadConfig(
      {
        config: args.config,
        inventory: args.inventory,
        dataDir: args.dataDir,
        concurrency: args.concurrency,
        timeout: args.timeout,
        hostKeyChecking: args.hostKeyChecking,
        knownHosts: args.knownHosts,
        delimiter: args.delimiter,
        logLevel: args.logLevel,
      },
      process.env,
      process.cwd(),
      defaultUser(),
    );
  } catch (error) {
    if (error instanceof ConfigError) {
      for (const problem of error.problems) process.stderr.write(`fleetpoll: config: ${problem}\n`);
      return EXIT.usage;
    }
    throw error;
  }

  const { log, close } = openRunLog(config, args);
  const progress = wantsProgress(process.stderr, args) ? new ProgressLine(process.stderr) : null;
  try {
    let outcome: PollRunOutcome;
    try {
      const { runPoll } = await import('./run-poll.js');
      const request = { config, only: args.only ?? [], strict: args.strict, env: process.env, log };
      outcome = await runPoll(
        progress === null
          ? request
          : {
              ...request,
              log: clearingLineBefore(log, progress),
              onCycleStart: (hosts) => progress.cycleStarted(hosts),
              onHostStart: (host) => progress.hostStarted(host),
              onResult: (result) => progress.hostDone(result),
            },
      );
    } catch (error) {
      progress?.stop();
      if (error instanceof StoreError) {
        log.error(error.message);
        process.stderr.write(`fleetpoll: cannot write the data directory: ${error.message}\n`);
        return EXIT.internal;
      }
      throw error;
    }
    progress?.stop();
    if (outcome.kind !== 'locked') printInventoryIssues(outcome.inventoryIssues);
    switch (outcome.kind) {
      case 'invalid':
        for (const problem of outcome.problems) process.stderr.write(`fleetpoll: ${problem}\n`);
        return EXIT.usage;
      case 'locked': {
        process.stderr.write(`fleetpoll: another poll is running: ${outcome.description}. Not polling.\n`);
        log.warn('another poll holds the lock; exiting', { holder: outcome.description });
        return EXIT.locked;
      }
      case 'polled': {
        if (args.json) process.stdout.write(`${JSON.stringify(jsonReport(outcome), null, 2)}\n`);
        // --quiet is for cron, which mails any output: the CSV files and the run log have it all.
        else if (!args.quiet) process.stdout.write(humanSummary(outcome));
        const down = outcome.results.some((r) => r.status !== 'ok');
        return args.failOnDown && down ? EXIT.hostsDown : EXIT.ok;
      }
    }
  } finally {
    await close();
  }
}

function printInventoryIssues(issues: readonly InventoryIssue[]): void {
  for (const issue of issues) {
    process.stderr.write(`${relative(process.cwd(), issue.file) || issue.file}:${issue.line}: ${issue.severity}: ${issue.message}\n`);
  }
  const errors = issues.filter((i) => i.severity === 'error').length;
  if (errors > 0) process.stderr.write(`fleetpoll: ${errors} inventory row(s) or column(s) skipped; fix them or run with --strict to refuse\n`);
}

function countByStatus(results: readonly PollResult[]): string {
  const counts = new Map<PollStatus, number>();
  for (const r of results) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
  return STATUS_ORDER.filter((s) => counts.has(s))
    .map((s) => `${counts.get(s)} ${s}`)
    .join(', ');
}

function humanSummary(outcome: Extract<PollRunOutcome, { kind: 'polled' }>): string {
  const { results } = outcome;
  const lines: string[] = [];
  lines.push(`fleetpoll: polled ${results.length} host(s) in ${(outcome.durationMs / 1000).toFixed(1)} s: ${countByStatus(results)}`);
  const width = Math.min(30, Math.max(6, ...results.map((r) => r.host.name.length)));
  const shown = results.length <= 20 ? results : results.filter((r) => r.status !== 'ok').slice(0, 50);
  for (const r of shown) {
    const name = r.host.name.padEnd(width);
    if (r.status === 'ok') {
      const s = r.sample;
      const memPct = ((s.mem.totalKb - s.mem.availableKb) / s.mem.totalKb) * 100;
      const worst = s.disks
        .map((d) => ({ mount: d.mount, pct: diskUsedPct(d) ?? 0 }))
        .sort((a, b) => b.pct - a.pct)[0];
      const top = [...s.procs].sort((a, b) => b.cpuPct - a.cpuPct)[0];
      lines.push(
        `  ${name}  ok          cpu ${s.cpuBusyPct.toFixed(1).padStart(5)}%  mem ${memPct.toFixed(1).padStart(5)}%` +
          (worst === undefined ? '' : `  disk ${worst.pct.toFixed(1)}% ${worst.mount}`) +
          (top === undefined ? '' : `  top ${JSON.stringify(top.name)} ${top.cpuPct.toFixed(1)}%`),
      );
    } else {
      lines.push(`  ${name}  ${r.status.padEnd(10)}  ${r.phase}: ${r.error}`);
    }
  }
  const failed = results.filter((r) => r.status !== 'ok').length;
  if (results.length > 20 && failed > shown.length) lines.push(`  ... and ${failed - shown.length} more; see recentlog.csv`);
  const files = outcome.written.map((f) => relative(process.cwd(), f) || f);
  lines.push(`Wrote ${files.join(', ')}`);
  const alerts = outcome.alerts;
  if (alerts.enabled && alerts.firing + alerts.notified + alerts.queued > 0) {
    const waiting = alerts.queued > 0 ? `, ${alerts.queued} waiting for delivery` : '';
    lines.push(`Alerts: ${alerts.firing} firing, ${alerts.notified} new notification(s), ${alerts.mailsSent} mail(s) sent${waiting}`);
  }
  for (const w of outcome.warnings) lines.push(`Warning: ${w}`);
  return `${lines.join('\n')}\n`;
}

function jsonReport(outcome: Extract<PollRunOutcome, { kind: 'polled' }>): unknown {
  return {
    startedAt: outcome.cycleStart.toISOString(),
    durationMs: outcome.durationMs,
    counts: Object.fromEntries(STATUS_ORDER.map((s) => [s, outcome.results.filter((r) => r.status === s).length])),
    inventoryIssues: outcome.inventoryIssues,
    files: outcome.written,
    warnings: outcome.warnings,
    alerts: outcome.alerts,
    results: outcome.results.map((r) => {
      const base = { name: r.host.name, address: r.host.address, transport: r.host.transport, status: r.status, durationMs: r.durationMs, attempts: r.attempts };
      return r.status === 'ok' ? { ...base, sample: r.sample } : { ...base, phase: r.phase, error: r.error };
    }),
  };
}

// The commands: what each takes (a yargs builder) and what it says in the help.
const COMMANDS = {
  poll: {
    describe: 'poll every host in the inventory once and write the CSV files',
    builder: (y: Argv) =>
      y
        .option('config', { type: 'string', describe: 'settings file (default ./fleetpoll.config.json if present)' })
        .option('inventory', { alias: 'i', type: 'string', describe: 'servers.csv to poll (default inventory/servers.csv)' })
        .option('data-dir', { alias: 'd', type: 'string', describe: 'where the CSV files go (default data/)' })
        .option('concurrency', { alias: 'c', type: 'number', describe: 'hosts polled at once (default 50)' })
        .option('timeout', { alias: 't', type: 'number', describe: 'seconds per host, all phases included (default 30)' })
        .option('only', { type: 'array', string: true, describe: 'poll only these names, globs (web*) or tag:<tag>' })
        .option('json', { type: 'boolean', default: false, describe: 'print the results as JSON on stdout' })
        .option('strict', { type: 'boolean', default: false, describe: 'poll nothing if any inventory row is bad' })
        .option('fail-on-down', { type: 'boolean', default: false, describe: 'exit 1 when any host is not ok' })
        .option('host-key-checking', { type: 'string', choices: ['strict', 'accept-new', 'off'], describe: 'unknown host keys: refuse (strict), record (accept-new), or do not check (off)' })
        .option('known-hosts', { type: 'string', describe: 'known_hosts file (default ~/.ssh/known_hosts)' })
        .option('delimiter', { type: 'string', choices: [',', ';', 'tab'], describe: 'CSV delimiter (";" also switches to decimal comma)' })
        .option('log-level', { type: 'string', choices: ['error', 'warn', 'info', 'debug'], describe: 'run log detail (data/fleetpoll.log)' })
        .option('verbose', { alias: 'v', type: 'boolean', default: false, describe: 'also show info lines of the run log on stderr' })
        .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'print nothing but errors (no summary): for cron' }),
  },
  alerts: {
    positional: '<action>',
    describe: 'alert e-mails: "test" sends a sample digest, "status" lists what is firing now',
    builder: (y: Argv) =>
      y
        .positional('action', { choices: ['test', 'status'], describe: 'test: send a sample digest; status: list firing alerts' })
        .option('config', { type: 'string', describe: 'settings file (default ./fleetpoll.config.json if present)' })
        .option('data-dir', { alias: 'd', type: 'string', describe: 'where alert-state.json is (default data/)' })
        .option('to', { type: 'array', string: true, describe: 'test: send to these addresses instead of the alert recipients' })
        .option('json', { type: 'boolean', default: false, describe: 'status: print JSON on stdout' }),
  },
  history: {
    positional: '<action>',
    describe: 'the history store (history.sqlite): "import" back-fills it from the CSV files, "stats" says what it holds',
    builder: (y: Argv) => historyOptions(y),
  },
  http: {
    positional: '<action>',
    describe: 'the HTTP service: "hash-password" reads a password and prints its hash for http.users',
    builder: (y: Argv) => y.positional('action', { choices: ['hash-password'], describe: 'hash-password: type the password (or pipe it on stdin)' }),
  },
  token: {
    positional: '<action> [name]',
    describe: 'push tokens: "create <name>" prints a new token for a transport=push host (once), "list", "revoke <name>"',
    builder: (y: Argv) => pushCommandOptions(y)
      .positional('action', { choices: ['create', 'list', 'revoke'], describe: 'create: make (print once) a host\'s token; list; revoke: the host\'s pushes are refused' })
      .positional('name', { type: 'string', describe: 'the push host, as named in servers.csv' })
      .option('replace', { type: 'boolean', default: false, describe: 'create: replace the host\'s existing token' }),
  },
  'push-script': {
    positional: '<name>',
    describe: 'print the lines that make a transport=push host send its probe (cron + curl, or Task Scheduler)',
    builder: (y: Argv) => pushCommandOptions(y)
      .positional('name', { type: 'string', describe: 'the push host, as named in servers.csv' })
      .option('url', { type: 'string', describe: 'the poller as the host reaches it (default https://<this machine>:<http.port>)' })
      .option('probe', { type: 'boolean', default: false, describe: 'print the probe file itself (probe.sh, or push.ps1 for Windows)' }),
  },
  report: {
    describe: 'write the utilisation report of the last days (data/reports/weekly-<date>.html) and optionally e-mail it',
    // Its options are declared in report/command.ts, loaded by `fleetpoll report` only (main): a poll
    // need not load the report modules. yargs runs a builder only for the command being run.
    builder: (y: Argv) => y,
  },
  serve: {
    describe: 'run a poll cycle every serve.intervalSeconds until stopped (SIGTERM/SIGINT; SIGHUP reloads): the service',
    // Declared in serve/command.ts, loaded by `fleetpoll serve` only (main), as report's are.
    builder: (y: Argv) => y,
  },
  worker: {
    describe: 'poll the hosts of one zone for a coordinator (serve with nats settings) until stopped: a worker poller',
    // Declared in cluster/worker-command.ts, loaded by `fleetpoll worker` only (main).
    builder: (y: Argv) => y,
  },
} satisfies Record<string, { positional?: string; describe: string; builder: (y: Argv) => Argv }>;

type CommandName = keyof typeof COMMANDS;

// The options `fleetpoll token` and `fleetpoll push-script` share.
function pushCommandOptions(y: Argv): Argv {
  return y
    .option('config', { type: 'string', describe: 'settings file (default ./fleetpoll.config.json if present)' })
    .option('inventory', { alias: 'i', type: 'string', describe: 'servers.csv (default inventory/servers.csv)' })
    .option('data-dir', { alias: 'd', type: 'string', describe: 'where push-tokens.json is (default data/)' });
}

function isCommandName(word: string | undefined): word is CommandName {
  return word !== undefined && Object.hasOwn(COMMANDS, word);
}

/** Parses argv and runs the command; resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  // yargs renders a named command's whole help text before running it, in case the handler asks
  // for it (~25 ms of CPU per run, plus loading string-width), but not the default command's. So
  // `fleetpoll <command> ...` is parsed by a parser whose default command is that one; only
  // `fleetpoll ...` without a command name sees them all (poll being the default).
  const named = isCommandName(argv[0]) ? argv[0] : null;
  let usageError = false;
  let parser = yargs(named === null ? argv : argv.slice(1)).scriptName(named === null ? 'fleetpoll' : `fleetpoll ${named}`);
  if (named === null) {
    parser = parser
      .usage('$0 <command> [options]')
      .command(['poll', '$0'], COMMANDS.poll.describe, COMMANDS.poll.builder)
      .command(`alerts ${COMMANDS.alerts.positional}`, COMMANDS.alerts.describe, COMMANDS.alerts.builder)
      .command('report', COMMANDS.report.describe, COMMANDS.report.builder)
      .command(`history ${COMMANDS.history.positional}`, COMMANDS.history.describe, COMMANDS.history.builder)
      .command(`http ${COMMANDS.http.positional}`, COMMANDS.http.describe, COMMANDS.http.builder)
      .command(`token ${COMMANDS.token.positional}`, COMMANDS.token.describe, COMMANDS.token.builder)
      .command(`push-script ${COMMANDS['push-script'].positional}`, COMMANDS['push-script'].describe, COMMANDS['push-script'].builder)
      .command('serve', COMMANDS.serve.describe, COMMANDS.serve.builder)
      .command('worker', COMMANDS.worker.describe, COMMANDS.worker.builder);
  } else {
    const command = COMMANDS[named];
    const positional = 'positional' in command ? ` ${command.positional}` : '';
    const builder =
      named === 'report' ? (await import('./report/command.js')).reportOptions : named === 'serve'
          ? (await import('./serve/command.js')).serveOptions
          : named === 'worker'
            ? (await import('./cluster/worker-command.js')).workerOptions
            : command.builder;
    parser = parser.command(`$0${positional}`, command.describe, builder);
  }
  const args = await parser
    .strict()
    .help()
    // Explicit (version.ts): yargs would otherwise search the file system for a package.json to read it from.
    .version(VERSION)
    .fail((message, error, y) => {
      if (error !== undefined && error !== null) throw error;
      process.stderr.write(`fleetpoll: ${message}\n\n${y.help()}\n`);
      usageError = true;
    })
    .parseAsync();
  if (usageError) return EXIT.usage;
  const streams = { out: (text: string) => process.stdout.write(text), err: (text: string) => process.stderr.write(text) };
  // Without a command name it is poll: alerts, report and serve are registered there for the help text only.
  switch (named ?? 'poll') {
    case 'alerts': {
      const { alertsCommand } = await import('./alerts/commands.js');
      return alertsCommand(args as unknown as AlertsArgs, process.env, process.cwd(), streams);
    }
    case 'http': {
      const { hashPasswordCommand } = await import('./http/hash-password-command.js');
      return hashPasswordCommand({ stdin: process.stdin, ...streams });
    }
    case 'token': {
      const { tokenCommand } = await import('./push/commands.js');
      return tokenCommand(args as unknown as PushCommandArgs, process.env, process.cwd(), streams);
    }
    case 'push-script': {
      const { pushScriptCommand } = await import('./push/commands.js');
      return pushScriptCommand(args as unknown as PushCommandArgs, process.env, process.cwd(), streams);
    }
    case 'report': {
      const { reportCommand } = await import('./report/command.js');
      return reportCommand(args as unknown as ReportArgs, process.env, process.cwd(), streams);
    }
    case 'serve': {
      const { serveCommand } = await import('./serve/command.js');
      return serveCommand(args as unknown as ServeArgs, process.env, process.cwd(), streams);
    }
    case 'worker': {
      const { workerCommand } = await import('./cluster/worker-command.js');
      return workerCommand(args as unknown as WorkerArgs, process.env, process.cwd(), streams);
    }
    case 'history': {
      const { historyCommand } = await import('./history/command.js');
      return historyCommand(args as unknown as HistoryArgs, process.env, process.cwd(), streams);
    }
    default:
      return pollCommand(args as unknown as PollArgs);
  }
}

main(hideBin(process.argv)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`fleetpoll: internal error: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = EXIT.internal;
  },
);
