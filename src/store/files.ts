// Small file-system questions the store and the report ask in several places.
import { lstat, open, type FileHandle } from 'node:fs/promises';
import { hasErrorCode } from './errors.js';

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
