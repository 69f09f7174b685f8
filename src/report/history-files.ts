// Finds a history file and its rotated archives in the data dir, and which days each one holds.
// Names are only a hint (fleetpoll's `log-2026-11.csv`, logrotate's `log.csv.1` or `log.csv-20261122`,
// an upgrade's `log-…-oldcolumns.csv`): the days come from each file's first and last rows.
import { open, readdir, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { hasErrorCode } from '../store/errors.js';
import { readHeader } from './csv-scan.js';
import { parseTime, SOURCE_FILES, type SourceKind } from './records.js';
import { compareCodeUnits } from '../server-names.js';

// Enough to hold the last complete row of any history file.
const TAIL_PROBE_BYTES = 64 * 1024;
// Compressed archives cannot be streamed by offset; they are listed so the report can say so.
const COMPRESSED = /\.(gz|bz2|xz|zst|zip|z)$/i;

// One file of a source: the live one or an archive, with the UTC days of its first and last rows.
export interface HistoryFile {
  readonly path: string;
  readonly name: string;
  readonly live: boolean;
  /** null when the first or last row has no readable time (then the file is always read). */
  readonly firstDay: string | null;
  readonly lastDay: string | null;
  readonly mtimeMs: number;
}

// The files of one source: archives oldest first, then the live file; compressed archives apart.
export interface HistoryFiles {
  readonly files: readonly HistoryFile[];
  readonly compressed: readonly string[];
}

// Whether `name` is an archive of the history file `liveName` (e.g. log.csv).
export function isArchiveName(name: string, liveName: string): boolean {
  const stem = liveName.replace(/\.csv$/, '');
  if (name === liveName) return false;
  if (name.startsWith(`${stem}-`) && name.endsWith('.csv')) return true;
  return name.startsWith(`${liveName}.`) || name.startsWith(`${liveName}-`);
}

// Lists the live file and the archives of `kind` in `dataDir`.
export async function listHistoryFiles(dataDir: string, kind: SourceKind): Promise<HistoryFiles> {
  const liveName = SOURCE_FILES[kind];
  let names: string[];
  try {
    names = await readdir(dataDir);
  } catch (error) {
    if (hasErrorCode(error, 'ENOENT')) return { files: [], compressed: [] };
    throw error;
  }
  const compressed: string[] = [];
  const files: HistoryFile[] = [];
  for (const name of names) {
    const live = name === liveName;
    if (!live && !isArchiveName(name, liveName)) continue;
    if (COMPRESSED.test(name)) {
      compressed.push(name);
      continue;
    }
    const file = await describe(path.join(dataDir, name), live);
    if (file !== null) files.push(file);
  }
  files.sort(byAge);
  compressed.sort();
  return { files, compressed };
}

// Archives by the day of their first row (then last row, then mtime); the live file last.
function byAge(a: HistoryFile, b: HistoryFile): number {
  if (a.live !== b.live) return a.live ? 1 : -1;
  const first = compareCodeUnits(a.firstDay ?? '', b.firstDay ?? '');
  if (first !== 0) return first;
  const last = compareCodeUnits(a.lastDay ?? '', b.lastDay ?? '');
  return last !== 0 ? last : a.mtimeMs - b.mtimeMs;
}

// Whether a file may hold rows of days in [fromDay, toDay) (toDay null = no upper bound).
export function mayHoldDays(file: HistoryFile, fromDay: string, toDay: string | null): boolean {
  if (!file.live && file.lastDay !== null && file.lastDay < fromDay) return false;
  if (toDay !== null && file.firstDay !== null && file.firstDay >= toDay) return false;
  return true;
}

async function describe(filePath: string, live: boolean): Promise<HistoryFile | null> {
  let handle: FileHandle;
  try {
    handle = await open(filePath, 'r');
  } catch (error) {
    // Rotated away between readdir and open, or not a readable file: not ours to read.
    if (hasErrorCode(error, 'ENOENT', 'EISDIR', 'EACCES', 'EPERM')) return null;
    throw error;
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) return null;
    const { firstDay, lastDay } = await dayRange(handle, info.size);
    return { path: filePath, name: path.basename(filePath), live, firstDay, lastDay, mtimeMs: info.mtimeMs };
  } finally {
    await handle.close();
  }
}

// The days of the first and the last complete row, from one read at each end of the file.
async function dayRange(handle: FileHandle, size: number): Promise<{ firstDay: string | null; lastDay: string | null }> {
  const header = await readHeader(handle);
  if (header === null) return { firstDay: null, lastDay: null };
  const timeIndex = header.columns.indexOf('time');
  if (timeIndex < 0) return { firstDay: null, lastDay: null };
  const head = Buffer.alloc(Math.min(TAIL_PROBE_BYTES, Math.max(0, size - header.endOffset)));
  const { bytesRead } = await handle.read(head, 0, head.length, header.endOffset);
  const headLines = head.toString('utf8', 0, bytesRead).split('\n');
  const firstDay = dayOf(headLines[0] ?? '', header.delimiter, timeIndex);
  const tailStart = Math.max(header.endOffset, size - TAIL_PROBE_BYTES);
  const tail = Buffer.alloc(size - tailStart);
  const tailRead = (await handle.read(tail, 0, tail.length, tailStart)).bytesRead;
  const tailLines = tail.toString('utf8', 0, tailRead).split('\n');
  // Search back from the last complete line for one with a time (the last may be torn or blank).
  let lastDay: string | null = null;
  for (let i = tailLines.length - 2; i >= 0 && i >= tailLines.length - 50 && lastDay === null; i -= 1) {
    lastDay = dayOf(tailLines[i] ?? '', header.delimiter, timeIndex);
  }
  return { firstDay, lastDay: firstDay === null ? null : lastDay };
}

function dayOf(line: string, delimiter: string, timeIndex: number): string | null {
  const cell = (line.split(delimiter)[timeIndex] ?? '').replace(/^"|"$/g, '').replace(/\r$/, '');
  return parseTime(cell) >= 0 ? cell.slice(0, 10) : null;
}
