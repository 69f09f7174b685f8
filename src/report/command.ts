// `fleetpoll report`: its flags, and the handler that prints the outcome and picks the exit code.
import { relative } from 'node:path';
import type { Argv } from 'yargs';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { defaultUser } from '../inventory.js';
import { openRunLog } from '../log.js';
import { StoreError } from '../store/errors.js';
import { runReport, type ReportOutcome } from './run-report.js';

// Exit codes of `fleetpoll report`, as documented in the README (the same meanings as `poll`'s).
export const REPORT_EXIT = { ok: 0, failed: 1, usage: 2, busy: 3 } as const;

// Where command output goes (process.stdout/stderr in the CLI, buffers in tests).
export interface CommandIo {
  out(text: string): void;
  err(text: string): void;
}

// The parsed flags of `fleetpoll report`.
export interface ReportArgs {
  config?: string;
  dataDir?: string;
  days?: number;
  end?: string;
  email: boolean;
  rebuild: boolean;
  out?: string;
  logLevel?: string;
  verbose: boolean;
  quiet: boolean;
}

// Declares the flags of `fleetpoll report` on a yargs command.
export function reportOptions<T>(y: Argv<T>): Argv<T> {
  return y
    .option('days', { type: 'number', describe: 'days in the report, ending with --end (default report.days, 7)' })
    .option('end', { type: 'string', describe: 'last day of the report, YYYY-MM-DD UTC (default: yesterday)' })
    .option('email', { type: 'boolean', default: false, describe: 'also e-mail the report (smtp settings; recipients report.to or smtp.to)' })
    .option('rebuild', { type: 'boolean', default: false, describe: 're-read the raw logs for the window instead of trusting the rollup' })
    .option('out', { type: 'string', describe: 'report file (default data/reports/weekly-<end>.html)' })
    .option('config', { type: 'string', describe: 'settings file (default ./fleetpoll.config.json if present)' })
    .option('data-dir', { alias: 'd', type: 'string', describe: 'where the CSV files are (default data/)' })
    .option('log-level', { type: 'string', choices: ['error', 'warn', 'info', 'debug'], describe: 'run log detail (data/fleetpoll.log)' })
    .option('verbose', { alias: 'v', type: 'boolean', default: false, describe: 'also show info lines of the run log on stderr' })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'show only errors on stderr' }) as unknown as Argv<T>;
}

/** Runs `fleetpoll report`; resolves to the exit code. */
export async function reportCommand(args: ReportArgs, env: NodeJS.ProcessEnv, cwd: string, io: CommandIo, now: Date = new Date()): Promise<number> {
  const usage: string[] = [];
  if (args.days !== undefined && !(Number.isInteger(args.days) && args.days >= 1 && args.days <= 366)) {
    usage.push(`--days must be a whole number from 1 to 366 (got ${JSON.stringify(args.days)})`);
  }
  if (args.end !== undefined && !isDay(args.end)) usage.push(`--end must be a date YYYY-MM-DD (got ${JSON.stringify(args.end)})`);
  let config: Config | null = null;
  try {
    config = loadConfig({ config: args.config, dataDir: args.dataDir, logLevel: args.logLevel }, env, cwd, defaultUser());
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems) usage.push(`config: ${problem}`);
  }
  if (usage.length > 0 || config === null) {
    for (const problem of usage) io.err(`fleetpoll: ${problem}\n`);
    return REPORT_EXIT.usage;
  }

  const { log, close } = openRunLog(config, args);
  try {
    let outcome: ReportOutcome;
    try {
      outcome = await runReport({
        config,
        days: args.days ?? config.report.days,
        end: args.end ?? null,
        email: args.email,
        rebuild: args.rebuild,
        out: args.out ?? null,
        now,
        env,
        log: log.child({ command: 'report' }),
      });
    } catch (error) {
      if (!(error instanceof StoreError)) throw error;
      log.error(error.message);
      io.err(`fleetpoll: cannot write the data directory: ${error.message}\n`);
      return REPORT_EXIT.failed;
    }
    return printOutcome(outcome, cwd, io);
  } finally {
    await close();
  }
}

function printOutcome(outcome: ReportOutcome, cwd: string, io: CommandIo): number {
  switch (outcome.kind) {
    case 'invalid':
      for (const problem of outcome.problems) io.err(`fleetpoll: ${problem}\n`);
      return REPORT_EXIT.usage;
    case 'busy':
      io.err(`fleetpoll: another fleetpoll process kept the rollup (data/rollup/.fleetpoll.lock) for ${Math.round(outcome.waitedMs / 1000)} s; try again later\n`);
      return REPORT_EXIT.busy;
    case 'written': {
      const { model } = outcome;
      const read = outcome.syncs.reduce((n, s) => n + s.bytes, 0);
      const rebuilt = outcome.syncs.some((s) => s.kind === 'rebuild');
      const rows = model.fleet.servers === 0 ? 'no data in the window' : `${model.fleet.servers} server(s), ${model.fleet.flagged.length} capacity warning(s)`;
      io.out(
        `fleetpoll: report ${model.window.start} to ${model.window.end}: ${rows}; ` +
          `${rebuilt ? 'rollup rebuilt' : 'rollup caught up'} (${(read / 1024 / 1024).toFixed(1)} MB of new rows read)\n` +
          `Wrote ${relative(cwd, outcome.file) || outcome.file}\n`,
      );
      for (const s of outcome.syncs) for (const event of s.events) io.err(`fleetpoll: warning: ${event}\n`);
      const bad = model.badRows.reduce((n, b) => n + b.count, 0);
      if (bad > 0) io.err(`fleetpoll: warning: ${bad} row(s) could not be read; they are listed at the end of the report\n`);
      if (outcome.mail === null) return REPORT_EXIT.ok;
      const mail = outcome.mail.outcome;
      if (mail.kind === 'failed') {
        io.err(`fleetpoll: the report was NOT mailed: ${mail.reason}\n`);
        return REPORT_EXIT.failed;
      }
      io.out(`Mailed to ${mail.accepted.join(', ')}${outcome.mail.trimmed ? ' (summary and the servers it names; the full report attached when small enough)' : ''}\n`);
      if (mail.rejected.length > 0) {
        io.err(`fleetpoll: the mail server refused: ${mail.rejected.join(', ')}\n`);
        return REPORT_EXIT.failed;
      }
      return REPORT_EXIT.ok;
    }
  }
}

function isDay(text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  const date = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === text;
}
