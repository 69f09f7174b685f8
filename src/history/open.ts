// Opens the history store: the file, its pragmas (WAL, foreign keys, busy timeout) and its migrations; and
// the one error type that names the file and says in words what is wrong (corrupt, locked, disk full...).
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { migrate, SchemaTooNewError } from './migrations.js';

// How long a write waits for another process's lock before giving up (a poll must not hang on a reader's
// long transaction; WAL readers never block it anyway).
export const DEFAULT_BUSY_TIMEOUT_MS = 5000;

// Options of openHistory.
export interface OpenOptions {
  readonly busyTimeoutMs?: number;
  /** Open without creating or migrating (queries, stats). */
  readonly readonly?: boolean;
}

// What went wrong with the store, in a word a caller can branch on.
export type HistoryProblem = 'corrupt' | 'locked' | 'disk_full' | 'read_only' | 'too_new' | 'io' | 'other';

// A store failure naming the file; the original SQLite error is the cause.
export class HistoryError extends Error {
  override readonly name = 'HistoryError';
  constructor(
    readonly file: string,
    readonly problem: HistoryProblem,
    what: string,
    options?: { cause?: unknown },
  ) {
    super(`history store ${file}: ${what}`, options);
  }
}

// SQLite result codes (better-sqlite3's SqliteError.code) -> our words.
const PROBLEMS: readonly [RegExp, HistoryProblem, string][] = [
  [/^SQLITE_(CORRUPT|NOTADB)/, 'corrupt', 'the file is damaged or not an SQLite database; it was left as it is (move it away to start a new store)'],
  [/^SQLITE_(BUSY|LOCKED)/, 'locked', 'locked by another process (another fleetpoll, or a tool holding a write transaction)'],
  [/^SQLITE_FULL/, 'disk_full', 'the disk is full'],
  [/^SQLITE_(READONLY|PERM|CANTOPEN|AUTH)/, 'read_only', 'cannot be opened for writing (permissions, or a read-only file system)'],
  [/^SQLITE_IOERR/, 'io', 'an I/O error'],
];

/** Turns anything thrown by better-sqlite3 (or the file system) into a HistoryError naming `file`. */
export function historyError(file: string, error: unknown): HistoryError {
  if (error instanceof HistoryError) return error;
  if (error instanceof SchemaTooNewError) return new HistoryError(file, 'too_new', error.message, { cause: error });
  const code = (error as { code?: unknown } | null)?.code;
  const text = (error as Error | null)?.message ?? String(error);
  if (typeof code === 'string') {
    if (code === 'ENOSPC') return new HistoryError(file, 'disk_full', 'the disk is full', { cause: error });
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') return new HistoryError(file, 'read_only', `cannot create it: ${text}`, { cause: error });
    for (const [pattern, problem, what] of PROBLEMS) {
      if (pattern.test(code)) return new HistoryError(file, problem, `${what} (${code}: ${text})`, { cause: error });
    }
  }
  return new HistoryError(file, 'other', text, { cause: error });
}

/**
 * Opens (creating it and its directory if needed) and migrates the store. Throws HistoryError. The caller
 * closes the returned handle; better-sqlite3 is synchronous, so one handle serves one thread.
 */
export function openHistory(file: string, options: OpenOptions = {}): Database.Database {
  let db: Database.Database | null = null;
  try {
    if (options.readonly !== true) mkdirSync(dirname(file), { recursive: true });
    db = new Database(file, { readonly: options.readonly === true, fileMustExist: options.readonly === true });
    db.pragma(`busy_timeout = ${Math.max(0, Math.round(options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS))}`);
    if (options.readonly !== true) {
      // WAL: readers (the HTTP API) never block the writer, and a killed writer leaves the last commit whole.
      db.pragma('journal_mode = WAL');
      // NORMAL in WAL: a commit survives a process crash; only a power cut may lose the last commits.
      db.pragma('synchronous = NORMAL');
    }
    db.pragma('foreign_keys = ON');
    if (options.readonly !== true) migrate(db);
    return db;
  } catch (error) {
    db?.close();
    throw historyError(file, error);
  }
}
