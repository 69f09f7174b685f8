// One poll's results -> every CSV file of the data dir: four appended histories and the atomic snapshot.
import { mkdir, readFile, unlink } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import path from 'node:path';
import type { PollResult } from '../model.js';
import { prepareAppend, writePrepared, type PreparedAppend } from './append-log.js';
import { beginCycle, endCycle, recoverInterruptedCycle, rollBackCycle } from './cycle-journal.js';
import { DATA_FILES, DISK_COLUMNS, LOG_COLUMNS, PROCESS_COLUMNS, USER_COLUMNS } from './columns.js';
import { encodeRecords, fileHead, type Delimiter } from './csv.js';
import { StoreError, errorCode } from './errors.js';
import { cellFormatter, type CellFormatter, type DecimalSeparator } from './format.js';
import { compareServerNames } from '../server-names.js';
import { compareByServer, diskRows, logRow, processRows, userRows, type Row } from './rows.js';
import { commitReplacement, prepareReplacement } from './snapshot.js';

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
// A cycle is all or nothing: a run killed at any instant leaves either every file with this cycle's
// rows or none with any of them (the next run rolls the appends back; see cycle-journal.ts).
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
  // A run killed while writing its cycle: take its partial rows back out before adding ours.
  warnings.push(...(await storeCall(dataDir, 'roll back the interrupted cycle in', () => recoverInterruptedCycle(dataDir))));

  // Encoded host by host: each host's rows die young instead of every host's living until the end.
  const encodeByHost = (rows: RowBuilder): string => sorted.map((result) => encodeRecords(rows(result, cycleStart, fmt), dialect)).join('');
  // log.csv and recentlog.csv hold the same rows: encoded once.
  const logBody = encodeByHost((result, start, f) => [logRow(result, start, f)]);
  const appends: { file: string; columns: readonly string[]; body: string }[] = [
    { file: path.join(dataDir, DATA_FILES.log), columns: LOG_COLUMNS, body: logBody },
    ...DETAIL_FILES.map((detail) => ({ file: path.join(dataDir, detail.file), columns: detail.columns, body: encodeByHost(detail.rows) })),
  ];
  // Rotations and torn tails are dealt with first, so each file ends on a record boundary when its size is journaled.
  const prepared: PreparedAppend[] = [];
  for (const append of appends) {
    const ready = await storeCall(append.file, 'append to', () => prepareAppend(append.file, append.columns, { dialect }));
    warnings.push(...ready.warnings);
    prepared.push(ready);
  }

  const recent = path.join(dataDir, DATA_FILES.recent);
  const kept = await previousRows(recent, options.carryOver ?? new Set(), options.delimiter);
  // With rows carried over (`--only`), the rows are built again to be merged with them by server.
  const body = kept.length === 0 ? logBody : encodeRecords(mergeByServer(sorted.map((result) => logRow(result, cycleStart, fmt)), kept), dialect);
  const snapshot = fileHead(LOG_COLUMNS, dialect) + body;
  const replacement = await storeCall(recent, 'replace', () => prepareReplacement(recent, snapshot));

  let journal;
  try {
    journal = await storeCall(dataDir, 'journal the cycle in', () => beginCycle(dataDir, cycleStart, appends.map((a) => a.file), replacement.temp));
  } catch (error) {
    await unlink(replacement.temp).catch(() => undefined);
    throw error;
  }
  let replaced;
  try {
    for (const [index, ready] of prepared.entries()) {
      const outcome = await storeCall(ready.path, 'append to', () => writePrepared(ready, appends[index]?.body ?? ''));
      if (outcome.wrote) written.push(ready.path);
    }
    // The commit: from this rename on, the cycle counts as written.
    replaced = await storeCall(recent, 'replace', () => commitReplacement(replacement));
  } catch (error) {
    // Still alive: undo the partial cycle now rather than leave it to the next run.
    await unlink(replacement.temp).catch(() => undefined);
    await rollBackCycle(dataDir, journal).catch(() => undefined);
    await endCycle(dataDir).catch(() => undefined);
    throw error;
  }
  await storeCall(dataDir, 'finish the cycle in', () => endCycle(dataDir));
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
