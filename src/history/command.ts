// `fleetpoll history import` (back-fill the store from the CSV history) and `fleetpoll history stats`
// (what the store holds): the history command group.
import { statSync } from 'node:fs';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { defaultUser } from '../inventory.js';
import { acquireRunLock, describeLockHolder } from '../store/lock.js';
import { importCsvHistory } from './import.js';
import { STEP_LIMITS } from './maintain.js';
import { HistoryError } from './open.js';
import { historyFile, HistoryStore } from './store.js';
import { userVersion } from './migrations.js';
import type { HistoryArgs } from './options.js';

// Where command output goes (process.stdout/stderr in the CLI, buffers in tests).
export interface CommandIo {
  out(text: string): void;
  err(text: string): void;
}

// Exit codes of the history commands: 3 (another poll holds the data dir) as for poll.
export const HISTORY_EXIT = { ok: 0, failed: 1, usage: 2, locked: 3 } as const;

/** Runs `history import` or `history stats`; resolves to the exit code. */
export async function historyCommand(args: HistoryArgs, env: NodeJS.ProcessEnv, cwd: string, io: CommandIo): Promise<number> {
  let config: Config;
  try {
    config = loadConfig({ config: args.config, dataDir: args.dataDir }, env, cwd, defaultUser());
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems) io.err(`fleetpoll: config: ${problem}\n`);
    return HISTORY_EXIT.usage;
  }
  const file = historyFile(config.dataDir, config.history);
  try {
    return args.action === 'import' ? await importCommand(config, file, args.json, io) : statsCommand(config, file, args.json, io);
  } catch (error) {
    if (!(error instanceof HistoryError)) throw error;
    io.err(`fleetpoll: ${error.message}\n`);
    return HISTORY_EXIT.failed;
  }
}

async function importCommand(config: Config, file: string, json: boolean, io: CommandIo): Promise<number> {
  // A poll appending to the CSV files (or recording) meanwhile would race the import.
  const lock = await acquireRunLock(config.dataDir);
  if (lock.kind === 'held') {
    io.err(`fleetpoll: a poll is running: ${describeLockHolder(lock)}. Not importing.\n`);
    return HISTORY_EXIT.locked;
  }
  try {
    const store = HistoryStore.open(file, config.history);
    try {
      const began = performance.now();
      const outcome = await importCsvHistory(store, config.dataDir);
      // Imported rows older than the retention go the way of all old rows, here rather than over many polls.
      const now = Math.floor(Date.now() / 1000);
      // Done when a whole round of the hosts (at most stepsPerRound steps) changed nothing.
      for (let i = 0, quiet = 0; i < 1_000_000 && quiet <= STEP_LIMITS.stepsPerRound; i += 1) {
        const step = store.step(now);
        quiet = step.samplesPruned + step.hourlyPruned + step.hoursRolledUp === 0 ? quiet + 1 : 0;
      }
      const seconds = (performance.now() - began) / 1000;
      if (json) {
        io.out(`${JSON.stringify({ file, ...outcome, seconds }, null, 2)}\n`);
      } else {
        for (const f of outcome.files) {
          io.out(`${f.path}: ${f.rows} row(s) read, ${f.added} added${f.bad > 0 ? `, ${f.bad} unreadable` : ''}${f.orphans > 0 ? `, ${f.orphans} without a log.csv row (skipped)` : ''}\n`);
          for (const example of f.examples) io.out(`  ${example}\n`);
        }
        for (const name of outcome.skipped) io.out(`${name}: compressed, not read (decompress it to import it)\n`);
        io.out(`Imported into ${file} in ${seconds.toFixed(1)} s (${outcome.cyclesAdded} cycle(s) added).\n`);
      }
      return HISTORY_EXIT.ok;
    } finally {
      store.close();
    }
  } finally {
    await lock.lock.release();
  }
}

function statsCommand(config: Config, file: string, json: boolean, io: CommandIo): number {
  let size = 0;
  try {
    size = statSync(file).size;
  } catch {
    io.err(`fleetpoll: history store ${file}: no such file (the first poll creates it)\n`);
    return HISTORY_EXIT.failed;
  }
  const store = HistoryStore.open(file, config.history);
  try {
    const count = (sql: string): number => store.db.prepare(sql).pluck().get() as number;
    const stats = {
      file,
      bytes: size,
      schemaVersion: userVersion(store.db),
      hosts: count('SELECT count(*) FROM hosts'),
      cycles: count('SELECT count(*) FROM cycles'),
      samples: count('SELECT count(*) FROM samples'),
      hourly: count('SELECT count(*) FROM hourly'),
      oldestSample: count('SELECT min(at) FROM samples'),
      newestSample: count('SELECT max(at) FROM samples'),
      rolledUpTo: store.maintainer().rolledUpTo(),
      rawDays: config.history.rawDays,
      hourlyDays: config.history.hourlyDays,
    };
    if (json) {
      io.out(`${JSON.stringify(stats, null, 2)}\n`);
    } else {
      const time = (t: number | null): string => (t === null ? '-' : new Date(t * 1000).toISOString().replace('T', ' ').slice(0, 19));
      io.out(
        `${file}: ${(size / 1024 / 1024).toFixed(1)} MB, schema v${stats.schemaVersion}\n` +
          `  ${stats.hosts} host(s), ${stats.cycles} cycle(s), ${stats.samples} sample(s) from ${time(stats.oldestSample)} to ${time(stats.newestSample)} UTC\n` +
          `  ${stats.hourly} hourly rollup row(s), rolled up to ${time(stats.rolledUpTo)} UTC; kept: raw ${stats.rawDays} days, hourly ${stats.hourlyDays} days\n`,
      );
    }
    return HISTORY_EXIT.ok;
  } finally {
    store.close();
  }
}
