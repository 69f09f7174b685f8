// Appends rows to a history CSV (log.csv and the detail logs) without ever mixing headers or rows.
import { createReadStream } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import path from 'node:path';
import { encodeRecords, fileHead, headerLine, type CsvDialect } from './csv.js';
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

// A file made ready for an append: rotated if it had other columns, its torn tail removed; what the
// append must write before the rows (BOM + header for a new file) and how to open it.
export interface PreparedAppend {
  readonly path: string;
  readonly prefix: string;
  /** 'a' to append, 'w' to start over (a file cut inside its header). */
  readonly flags: 'a' | 'w';
  readonly created: boolean;
  readonly rotatedTo: string | null;
  readonly warnings: readonly string[];
}

type FileState =
  | { kind: 'missing' }
  | { kind: 'empty' }
  /** Only a prefix of our own head: a crash while the file was being created. */
  | { kind: 'torn-head' }
  | { kind: 'other-columns' }
  | { kind: 'ours'; headEnd: number; size: number; lastByte: number };

// Appends rows with a single write; writes BOM + header when the file is new or empty,
// rotates a file whose header differs, and removes a half-written last row left by a crash.
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
  return writePrepared(await prepareAppend(filePath, columns, options), body);
}

// First half of an append: inspects the file, rotates one with other columns, and cuts a torn last record
// back to the last whole one, so that the file ends on a record boundary before anything is added.
export async function prepareAppend(filePath: string, columns: readonly string[], options: AppendOptions): Promise<PreparedAppend> {
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

  switch (state.kind) {
    case 'missing':
    case 'empty':
      return { path: filePath, prefix: fileHead(columns, dialect), flags: 'a', created: true, rotatedTo, warnings };
    case 'torn-head':
      // Nothing but a partial header: no data to keep, so start the file over.
      return { path: filePath, prefix: fileHead(columns, dialect), flags: 'w', created: true, rotatedTo, warnings };
    case 'ours': {
      const repair = await repairTail(filePath, state, dialect);
      if (repair.warning !== null) warnings.push(repair.warning);
      return { path: filePath, prefix: repair.prefix, flags: 'a', created: false, rotatedTo, warnings };
    }
  }
}

// Second half of an append: the prefix and the rows in one write, then fsync.
export async function writePrepared(prepared: PreparedAppend, body: string): Promise<AppendOutcome> {
  const { path: filePath, prefix, flags, created, rotatedTo, warnings } = prepared;
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
    return { kind: 'ours', headEnd: newline + 1, size, lastByte: last[0] ?? LF };
  } finally {
    await handle.close();
  }
}

// Our appends always end with CRLF, so any other last byte means a crash cut a write short. A record cut
// anywhere but between its CR and LF is incomplete (a field may be cut in the middle, fields may be
// missing): it is removed, never closed into a malformed row. Only a record whose CR made it gets its LF.
async function repairTail(
  filePath: string,
  state: { headEnd: number; size: number; lastByte: number },
  dialect: CsvDialect,
): Promise<{ prefix: string; warning: string | null }> {
  // A '\n' inside a quoted cell at the exact cut point is possible but rare; a cycle journal
  // (cycle-journal.ts) rolls back our own interrupted appends, so this path sees only other crashes.
  if (state.lastByte === LF) return { prefix: '', warning: null };
  const tail = await lastRecordEnd(filePath, state.headEnd, dialect.delimiter.charCodeAt(0));
  if (state.lastByte === CR && tail.endsOutsideQuotes) return { prefix: '\n', warning: null };
  await truncateFile(filePath, tail.boundary);
  const removed = state.size - tail.boundary;
  return {
    prefix: '',
    warning:
      `${path.basename(filePath)} ended in a torn row (${removed} byte(s) from byte ${tail.boundary}, cut by a crash or a kill ` +
      `while it was written): removed it, the file now ends with its last whole row`,
  };
}

// The offset just after the last record delimiter outside quotes (RFC 4180), scanning from a record
// boundary, and whether the file ends outside a quoted field. Only runs after a crash.
export async function lastRecordEnd(
  filePath: string,
  from: number,
  delimiter: number,
): Promise<{ boundary: number; endsOutsideQuotes: boolean }> {
  // Outside a field's quotes; inside them; or just after a quote inside them (a close, or half of "").
  let state: 'outside' | 'quoted' | 'quote-in-quoted' = 'outside';
  // A quote opens a quoted field only at the start of a field.
  let fieldStart = true;
  let boundary = from;
  let offset = from;
  for await (const data of createReadStream(filePath, { start: from })) {
    const chunk = data as Buffer;
    for (let i = 0; i < chunk.length; i += 1) {
      const byte = chunk[i];
      if (state === 'quoted') {
        if (byte === QUOTE) state = 'quote-in-quoted';
        continue;
      }
      if (state === 'quote-in-quoted') {
        if (byte === QUOTE) {
          state = 'quoted';
          continue;
        }
        state = 'outside';
        fieldStart = false;
      }
      if (byte === QUOTE) {
        if (fieldStart) state = 'quoted';
        fieldStart = false;
      } else if (byte === LF) {
        boundary = offset + i + 1;
        fieldStart = true;
      } else {
        fieldStart = byte === delimiter;
      }
    }
    offset += chunk.length;
  }
  return { boundary, endsOutsideQuotes: state !== 'quoted' };
}

async function truncateFile(filePath: string, size: number): Promise<void> {
  const handle = await open(filePath, 'r+');
  try {
    await handle.truncate(size);
    await handle.sync();
  } finally {
    await handle.close();
  }
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
