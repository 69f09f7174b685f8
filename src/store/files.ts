// Small file-system questions the store and the report ask in several places.
import { randomBytes } from 'node:crypto';
import { lstat, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { hasErrorCode } from './errors.js';

// A hidden, unique name beside `file` (same directory, so a rename into place is atomic).
export function tempPathBeside(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

// Creates `file` (which must not exist), writes `content` and fsyncs it: without the fsync a power cut
// after a rename can leave an empty file under the final name.
export async function writeNewFileSynced(file: string, content: string | Buffer, mode?: number): Promise<void> {
  const handle = await open(file, 'wx', mode);
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

// Replaces `file` with `content` via a synced temp file beside it and a rename: a power cut leaves the old
// file or the new one, never an empty one. No temp file survives a failure.
export async function replaceFileSynced(file: string, content: string | Buffer, mode?: number): Promise<void> {
  const temp = tempPathBeside(file);
  try {
    await writeNewFileSynced(temp, content, mode);
    await rename(temp, file);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}

// Whether a path exists (a dangling link counts); other errors than ENOENT propagate.
export async function exists(filePath: string): Promise<boolean> {
  try {
    await lstat(filePath);
    return true;
  } catch (error) {
    if (hasErrorCode(error, 'ENOENT')) return false;
    throw error;
  }
}

// Opens a file for reading, or null when it does not exist; other errors propagate.
export async function openIfExists(filePath: string): Promise<FileHandle | null> {
  try {
    return await open(filePath, 'r');
  } catch (error) {
    if (hasErrorCode(error, 'ENOENT')) return null;
    throw error;
  }
}
