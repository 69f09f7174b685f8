// Atomic replacement of a whole file (recentlog.csv): readers see the old file or the new one, never half.
import { lstat, open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { errorCode, hasErrorCode } from './errors.js';
import { tempPathBeside, writeNewFileSynced } from './files.js';
import { fileStamp } from './format.js';

// Windows refuses to replace a file another program has open (Excel): these clear when it is closed.
const LOCKED_CODES = ['EBUSY', 'EPERM', 'EACCES'];
// About 1.5 s in total: long enough for a virus scanner or a sync client to let go.
const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [50, 100, 200, 400, 750];

// Options for replaceFileAtomically.
export interface ReplaceOptions {
  /** Waits between rename attempts when the target is locked; total should stay under ~2 s. */
  readonly retryDelaysMs?: readonly number[];
  /** Time used to name the dated fallback copy (default: now). */
  readonly now?: Date;
}

// Where the content ended up: the target, or a dated copy next to it plus a warning saying why.
export interface ReplaceOutcome {
  readonly path: string;
  readonly warning: string | null;
}

// Replaces `target` with `content` via temp file + fsync + rename in the same directory.
// If the target cannot be replaced (locked by Excel, or not a file) the content is kept as
// `<name>-YYYYMMDD-HHMMSS<ext>` next to it: the snapshot is never lost. No temp file survives.
export async function replaceFileAtomically(
  target: string,
  content: string | Buffer,
  options: ReplaceOptions = {},
): Promise<ReplaceOutcome> {
  return commitReplacement(await prepareReplacement(target, content), options);
}

// A replacement written and synced but not yet in place: its temp file, beside the target.
export interface PreparedReplacement {
  readonly target: string;
  readonly temp: string;
}

// First half of replaceFileAtomically: writes and fsyncs the temp file (removed again on failure).
export async function prepareReplacement(target: string, content: string | Buffer): Promise<PreparedReplacement> {
  const temp = tempPathBeside(target);
  try {
    await writeNewFileSynced(temp, content);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  return { target, temp };
}

// Second half: renames the temp file onto the target (or the dated fallback). The temp file is gone
// afterwards whatever happens, so its absence tells that the rename was done or given up.
export async function commitReplacement(prepared: PreparedReplacement, options: ReplaceOptions = {}): Promise<ReplaceOutcome> {
  const { target, temp } = prepared;
  const dir = path.dirname(target);
  let tempExists = true;
  try {
    const failure = await renameWithRetry(temp, target, options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS);
    if (failure === null) {
      tempExists = false;
      await syncDirectory(dir);
      return { path: target, warning: null };
    }

    const fallback = await freeDatedName(target, options.now ?? new Date());
    await rename(temp, fallback);
    tempExists = false;
    await syncDirectory(dir);
    const code = errorCode(failure) ?? 'error';
    const hint = LOCKED_CODES.includes(code) ? ' (is it open in Excel?)' : '';
    return {
      path: fallback,
      warning:
        `could not replace ${path.basename(target)}${hint}: ${code}; ` +
        `wrote this snapshot to ${path.basename(fallback)} instead`,
    };
  } finally {
    if (tempExists) await unlink(temp).catch(() => undefined);
  }
}

// Returns null on success, or the last error once retrying is pointless or exhausted.
async function renameWithRetry(from: string, to: string, delaysMs: readonly number[]): Promise<unknown> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      await rename(from, to);
      return null;
    } catch (error) {
      const delay = delaysMs[attempt];
      if (delay === undefined || !hasErrorCode(error, ...LOCKED_CODES)) return error;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

async function freeDatedName(target: string, now: Date): Promise<string> {
  const { dir, name, ext } = path.parse(target);
  const stem = path.join(dir, `${name}-${fileStamp(now)}`);
  // rename() replaces silently, so never reuse a name from an earlier failure in the same second.
  for (let attempt = 1; ; attempt += 1) {
    const candidate = attempt === 1 ? `${stem}${ext}` : `${stem}-${attempt}${ext}`;
    try {
      await lstat(candidate);
    } catch (error) {
      if (hasErrorCode(error, 'ENOENT')) return candidate;
      throw error;
    }
  }
}

// Makes a rename or an unlink durable; Windows cannot open a directory, which is fine to skip.
export async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Best effort only: the data is already fsynced and renamed.
  }
}
