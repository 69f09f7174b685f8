// One poll's results -> every CSV file of the data dir: four appended histories and the atomic snapshot.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { PollResult } from '../model.js';
import { appendRows } from './append-log.js';
import { DATA_FILES, DISK_COLUMNS, LOG_COLUMNS, PROCESS_COLUMNS, USER_COLUMNS } from './columns.js';
import { encodeRecords, fileHead, type Delimiter } from './csv.js';
import { StoreError, errorCode } from './errors.js';
import { cellFormatter, type CellFormatter, type DecimalSeparator } from './format.js';
import { compareByServer, diskRows, logRow, processRows, userRows, type Row } from './rows.js';
import { replaceFileAtomically } from './snapshot.js';

export { StoreError } from './errors.js';

// Where and how writeCycle writes.
export interface WriteCycleOptions {
  readonly dataDir: string;
  readonly delimiter: Delimiter;
  readonly decimalSeparator: DecimalSeparator;
}

// The files written (including a dated snapshot copy, if any) and warnings for the user.
export interface WriteCycleOutcome {
  written: string[];
  warnings: string[];
}

type RowBuilder = (result: PollResult, cycleStart: Date, fmt: CellFormatter) => Row[];

const HISTORY_FILES: readonly { file: string; columns: readonly string[]; rows: RowBuilder }[] = [
  { file: DATA_FILES.log, columns: LOG_COLUMNS, rows: (result, start, fmt) => [logRow(result, start, fmt)] },
  { file: DATA_FILES.processes, columns: PROCESS_COLUMNS, rows: processRows },
  { file: DATA_FILES.disks, columns: DISK_COLUMNS, rows: diskRows },
  { file: DATA_FILES.users, columns: USER_COLUMNS, rows: userRows },
];

// Records one poll cycle: appends log.csv, processes.csv, disks.csv, users.csv and replaces
// recentlog.csv (one row per result, sorted by server). The caller must hold the run lock.
// Throws StoreError (path + OS reason) when the data dir cannot be written.
export async function writeCycle(
  results: readonly PollResult[],
  cycleStart: Date,
  options: WriteCycleOptions,
): Promise<WriteCycleOutcome> {
  const { dataDir } = options;
  const dialect = { delimiter: options.delimiter };
  const fmt = cellFormatter(options.decimalSeparator);
  const sorted = [...results].sort(compareByServer);
  const written: string[] = [];
  const warnings: string[] = [];

  await storeCall(dataDir, 'create data directory', () => mkdir(dataDir, { recursive: true }));

  for (const history of HISTORY_FILES) {
    const file = path.join(dataDir, history.file);
    const rows = sorted.flatMap((result) => history.rows(result, cycleStart, fmt));
    const outcome = await storeCall(file, 'append to', () => appendRows(file, history.columns, rows, { dialect }));
    if (outcome.wrote) written.push(file);
    warnings.push(...outcome.warnings);
  }

  const recent = path.join(dataDir, DATA_FILES.recent);
  const snapshot =
    fileHead(LOG_COLUMNS, dialect) +
    encodeRecords(
      sorted.map((result) => logRow(result, cycleStart, fmt)),
      dialect,
    );
  const replaced = await storeCall(recent, 'replace', () => replaceFileAtomically(recent, snapshot));
  written.push(replaced.path);
  if (replaced.warning !== null) warnings.push(replaced.warning);

  return { written, warnings };
}

async function storeCall<T>(file: string, action: string, operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    const code = errorCode(error);
    // Only OS errors mean the data dir is unusable; anything else is a bug and keeps its stack.
    if (code === undefined || error instanceof StoreError) throw error;
    const reason = (error as Error).message;
    throw new StoreError(`cannot ${action} ${file}: ${reason}`, file, code, { cause: error });
  }
}
