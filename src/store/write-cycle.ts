// One poll's results -> every CSV file of the data dir: four appended histories and the atomic snapshot.
import { mkdir, readFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import path from 'node:path';
import type { PollResult } from '../model.js';
import { appendEncoded, appendRows } from './append-log.js';
import { DATA_FILES, DISK_COLUMNS, LOG_COLUMNS, PROCESS_COLUMNS, USER_COLUMNS } from './columns.js';
import { encodeRecords, fileHead, type Delimiter } from './csv.js';
import { StoreError, errorCode } from './errors.js';
import { cellFormatter, type CellFormatter, type DecimalSeparator } from './format.js';
import { compareServerNames } from '../server-names.js';
import { compareByServer, diskRows, logRow, processRows, userRows, type Row } from './rows.js';
import { replaceFileAtomically } from './snapshot.js';

export { StoreError } from './errors.js';

// Where and how writeCycle writes.
export interface WriteCycleOptions {
  readonly dataDir: string;
  readonly delimiter: Delimiter;
  readonly decimalSeparator: DecimalSeparator;
  /**
   * Inventory servers not polled this run (`--only`): their rows in the previous
   * recentlog.csv are kept, so the snapshot still has one row per inventory host.
   */
  readonly carryOver?: ReadonlySet<string>;
}

// The files written (including a dated snapshot copy, if any) and warnings for the user.
export interface WriteCycleOutcome {
  written: string[];
  warnings: string[];
}

type RowBuilder = (result: PollResult, cycleStart: Date, fmt: CellFormatter) => Row[];

const DETAIL_FILES: readonly { file: string; columns: readonly string[]; rows: RowBuilder }[] = [
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

  // log.csv and recentlog.csv hold the same rows: build and encode them once.
  const logRows = sorted.map((result) => logRow(result, cycleStart, fmt));
  const logBody = encodeRecords(logRows, dialect);
  const logFile = path.join(dataDir, DATA_FILES.log);
  const logged = await storeCall(logFile, 'append to', () => appendEncoded(logFile, LOG_COLUMNS, logBody, { dialect }));
  if (logged.wrote) written.push(logFile);
  warnings.push(...logged.warnings);

  for (const detail of DETAIL_FILES) {
    const file = path.join(dataDir, detail.file);
    const rows = sorted.flatMap((result) => detail.rows(result, cycleStart, fmt));
    const outcome = await storeCall(file, 'append to', () => appendRows(file, detail.columns, rows, { dialect }));
    if (outcome.wrote) written.push(file);
    warnings.push(...outcome.warnings);
  }

  const recent = path.join(dataDir, DATA_FILES.recent);
  const kept = await previousRows(recent, options.carryOver ?? new Set(), options.delimiter);
  const snapshotRows = kept.length === 0 ? null : mergeByServer(logRows, kept);
  const snapshot = fileHead(LOG_COLUMNS, dialect) + (snapshotRows === null ? logBody : encodeRecords(snapshotRows, dialect));
  const replaced = await storeCall(recent, 'replace', () => replaceFileAtomically(recent, snapshot));
  written.push(replaced.path);
  if (replaced.warning !== null) warnings.push(replaced.warning);

  return { written, warnings };
}

// Rows of the current snapshot for servers this run did not poll; none if it is missing or of other columns.
async function previousRows(file: string, servers: ReadonlySet<string>, delimiter: Delimiter): Promise<string[][]> {
  if (servers.size === 0) return [];
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return [];
  }
  let records: string[][];
  try {
    records = parseRecords(text, delimiter, true);
  } catch {
    return [];
  }
  const [header, ...rows] = records;
  if (header === undefined || header.join('\u0000') !== LOG_COLUMNS.join('\u0000')) return [];
  const serverIndex = LOG_COLUMNS.indexOf('server');
  return rows.filter((row) => servers.has(row[serverIndex] ?? ''));
}

function parseRecords(text: string, delimiter: Delimiter, bom: boolean): string[][] {
  return parse(text, { delimiter, bom, relax_column_count: true, skip_empty_lines: true }) as string[][];
}

function mergeByServer(fresh: readonly Row[], kept: readonly Row[]): Row[] {
  const serverIndex = LOG_COLUMNS.indexOf('server');
  return [...fresh, ...kept].sort((a, b) => compareServerNames(a[serverIndex] ?? '', b[serverIndex] ?? ''));
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
