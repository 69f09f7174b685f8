// Appends rows to a history CSV (log.csv and the detail logs) without ever mixing headers or rows.
import { createReadStream } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import path from 'node:path';
import { CRLF, encodeRecords, fileHead, headerLine, type CsvDialect } from './csv.js';
import { fileStamp } from './format.js';
import type { Row } from './rows.js';
import { exists, openIfExists } from './files.js';

// Enough for any header we write; a longer first line cannot be ours.
const HEAD_PROBE_BYTES = 64 * 1024;
const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;

// Options for appendRows.
export interface AppendOptions {
  readonly dialect: CsvDialect;
  /** Time used to name a rotated old-columns file (default: now). */
  readonly now?: Date;
}

// What appendRows did, for the caller's `written` list and user-visible warnings.
export interface AppendOutcome {
  readonly path: string;
  /** False when there was nothing to write (no rows, file already has the right header). */
  readonly wrote: boolean;
  /** The file was created, or re-created after a rotation, with BOM and header. */
  readonly created: boolean;
  /** Where a file with other columns was moved, or null. */
  readonly rotatedTo: string | null;
  readonly warnings: readonly string[];
}

type FileState =
  | { kind: 'missing' }
  | { kind: 'empty' }
  /** Only a prefix of our own head: a crash while the file was being created. */
  | { kind: 'torn-head' }
  | { kind: 'other-columns' }
  | { kind: 'ours'; headEnd: number; lastByte: number };

// Appends rows with a single write; writes BOM + header when the file is new or empty,
// rotates a file whose header differs, and closes a half-written last row left by a crash.
// The caller must hold the run lock: only one process may append to a data dir.
export async function appendRows(
  filePath: string,
  columns: readonly string[],
  rows: readonly Row[],
  options: AppendOptions,
): Promise<AppendOutcome> {
  return appendEncoded(filePath, columns, encodeRecords(rows, options.dialect), options);
}

// appendRows for records already encoded with encodeRecords (same dialect), so log.csv and
// recentlog.csv can share one encoding of a large fleet's rows.
export async function appendEncoded(
  filePath: string,
  columns: readonly string[],
  body: string,
  options: AppendOptions,
): Promise<AppendOutcome> {
  const { dialect } = options;
  const warnings: string[] = [];
  let rotatedTo: string | null = null;
  let state = await inspect(filePath, columns, dialect);

  if (state.kind === 'other-columns') {
    rotatedTo = await rotateOldColumns(filePath, options.now ?? new Date());
    warnings.push(
      `${path.basename(filePath)} had different columns (an upgrade changed them); ` +
        `kept it as ${path.basename(rotatedTo)} and started a new file`,
    );
    state = { kind: 'missing' };
  }

  let prefix: string;
  let flags: string;
  switch (state.kind) {
    case 'missing':
    case 'empty':
      prefix = fileHead(columns, dialect);
      flags = 'a';
      break;
    case 'torn-head':
      // Nothing but a partial header: no data to keep, so start the file over.
      prefix = fileHead(columns, dialect);
      flags = 'w';
      break;
    case 'ours':
      prefix = await tailRepair(filePath, state, dialect);
      flags = 'a';
      break;
  }

  const created = state.kind !== 'ours';
  if (prefix === '' && body === '') {
    return { path: filePath, wrote: false, created: false, rotatedTo, warnings };
  }
  await writeOnce(filePath, flags, Buffer.from(prefix + body, 'utf8'));
  return { path: filePath, wrote: true, created, rotatedTo, warnings };
}

async function inspect(filePath: string, columns: readonly string[], dialect: CsvDialect): Promise<FileState> {
  const handle = await openIfExists(filePath);
  if (handle === null) return { kind: 'missing' };
  try {
    const { size } = await handle.stat();
    if (size === 0) return { kind: 'empty' };
    const probe = Buffer.alloc(Math.min(size, HEAD_PROBE_BYTES));
    const { bytesRead } = await handle.read(probe, 0, probe.length, 0);
    const start = probe.subarray(0, bytesRead);
    const newline = start.indexOf(LF);
    if (newline === -1) {
      const head = Buffer.from(fileHead(columns, dialect), 'utf8');
      const isPrefix = size === bytesRead && bytesRead < head.length && head.subarray(0, bytesRead).equals(start);
      return isPrefix ? { kind: 'torn-head' } : { kind: 'other-columns' };
    }
    // A missing BOM (a file saved by another tool) is tolerated; different names or delimiter are not.
    const line = start.toString('utf8', 0, newline).replace(/^\uFEFF/, '').replace(/\r$/, '');
    if (line !== headerLine(columns, dialect)) return { kind: 'other-columns' };
    const last = Buffer.alloc(1);
    await handle.read(last, 0, 1, size - 1);
    return { kind: 'ours', headEnd: newline + 1, lastByte: last[0] ?? LF };
  } finally {
    await handle.close();
  }
}

// Our appends always end with CRLF, so any other last byte means a crash cut a write short.
// The half row is kept (the file is never rewritten) but closed, so new rows start on their own line.
async function tailRepair(
  filePath: string,
  state: { headEnd: number; lastByte: number },
  dialect: CsvDialect,
): Promise<string> {
  // A '\n' inside a quoted cell at the exact cut point is possible but vanishingly rare;
  // checking for it would mean scanning the whole history on every cycle.
  if (state.lastByte === LF) return '';
  const insideQuotes = await endsInsideQuotes(filePath, state.headEnd, dialect.delimiter.charCodeAt(0));
  // An unclosed quoted cell would swallow every following row, so close it first.
  if (insideQuotes) return `"${CRLF}`;
  return state.lastByte === CR ? '\n' : CRLF;
}

// RFC 4180 quote state at end of file, scanning from a record boundary. Only runs after a crash.
async function endsInsideQuotes(filePath: string, from: number, delimiter: number): Promise<boolean> {
  let inQuotes = false;
  // In quotes and the previous chunk ended on '"': escape ("") or close, decided by the next byte.
  let pendingQuote = false;
  let previous = LF;
  for await (const data of createReadStream(filePath, { start: from })) {
    const chunk = data as Buffer;
    if (chunk.length === 0) continue;
    let index = 0;
    if (pendingQuote) {
      pendingQuote = false;
      if (chunk[0] === QUOTE) index = 1;
      else inQuotes = false;
      previous = QUOTE;
    }
    while (index < chunk.length) {
      const quote = chunk.indexOf(QUOTE, index);
      if (quote === -1) {
        previous = chunk[chunk.length - 1] ?? previous;
        break;
      }
      if (inQuotes) {
        if (quote + 1 >= chunk.length) {
          pendingQuote = true;
        } else if (chunk[quote + 1] === QUOTE) {
          index = quote + 2;
          previous = QUOTE;
          continue;
        } else {
          inQuotes = false;
        }
      } else {
        const before = quote === 0 ? previous : chunk[quote - 1];
        // Only a quote at the start of a field opens a quoted field.
        if (before === delimiter || before === LF || before === CR) inQuotes = true;
      }
      index = quote + 1;
      previous = QUOTE;
    }
  }
  // A final '"' while in quotes closed the field.
  return pendingQuote ? false : inQuotes;
}

async function rotateOldColumns(filePath: string, now: Date): Promise<string> {
  const { dir, name, ext } = path.parse(filePath);
  const stem = path.join(dir, `${name}-${fileStamp(now)}-oldcolumns`);
  // rename() silently replaces an existing target, so pick a free name first (we hold the run lock).
  for (let attempt = 1; ; attempt += 1) {
    const candidate = attempt === 1 ? `${stem}${ext}` : `${stem}-${attempt}${ext}`;
    if (!(await exists(candidate))) {
      await rename(filePath, candidate);
      return candidate;
    }
  }
}

async function writeOnce(filePath: string, flags: string, chunk: Buffer): Promise<void> {
  const handle = await open(filePath, flags);
  try {
    let offset = 0;
    while (offset < chunk.length) {
      const { bytesWritten } = await handle.write(chunk, offset, chunk.length - offset);
      offset += bytesWritten;
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
}
