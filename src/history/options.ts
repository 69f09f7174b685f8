// The flags of `fleetpoll history <action>`, apart from the command so the CLI's parser need not load SQLite.
import type { Argv } from 'yargs';

// The flags of `fleetpoll history <action>`.
export interface HistoryArgs {
  action: 'import' | 'stats';
  config?: string;
  dataDir?: string;
  json: boolean;
}

/** The yargs options of the history command. */
export function historyOptions<T>(y: Argv<T>): Argv<T> {
  return y
    .positional('action', { choices: ['import', 'stats'], describe: 'import: back-fill from the CSV files (log.csv, disks, users, processes, rotated months); stats: what the store holds' })
    .option('config', { type: 'string', describe: 'settings file (default ./fleetpoll.config.json if present)' })
    .option('data-dir', { alias: 'd', type: 'string', describe: 'where the CSV files and history.sqlite are (default data/)' })
    .option('json', { type: 'boolean', default: false, describe: 'print the outcome as JSON on stdout' }) as Argv<T>;
}
