// What a killed run leaves in data/ besides its lock: temp files it never renamed, a recovery guard set
// aside, an unfinished cycle. A poll clears them right after taking the run lock, before it writes.
import { readdir, unlink } from 'node:fs/promises';
import path from 'node:path';
import { recoverInterruptedCycle } from './cycle-journal.js';
import { hasErrorCode } from './errors.js';
import { isProcessAlive } from './lock.js';

// Only fleetpoll's own temp names: `.<file>.<pid>.<12 hex>.tmp` (tempPathBeside) and the lock's
// `.fleetpoll.lock.recover.stale-<pid>-<12 hex>` (a guard being cleared when the run was killed).
const LEFTOVER = /^(?:\.[^/\\]+\.(\d+)\.[0-9a-f]{12}\.tmp|\.fleetpoll\.lock\.recover\.stale-(\d+)-[0-9a-f]{12})$/;

// Removes fleetpoll temp files in `dir` whose writer is dead (never ours, never a live process's:
// a concurrent `fleetpoll report` may be writing one). Returns the names removed.
export async function removeDeadTemps(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if (hasErrorCode(error, 'ENOENT', 'ENOTDIR')) return [];
    throw error;
  }
  const removed: string[] = [];
  for (const name of names) {
    const match = LEFTOVER.exec(name);
    if (match === null) continue;
    const pid = Number(match[1] ?? match[2]);
    if (pid === process.pid || isProcessAlive(pid)) continue;
    try {
      await unlink(path.join(dir, name));
      removed.push(name);
    } catch (error) {
      if (!hasErrorCode(error, 'ENOENT')) throw error;
    }
  }
  return removed;
}

// Clears what killed runs left in a data dir and its sub-dirs of fleetpoll files (the rollup); returns one
// sentence per thing done, for the run log. The caller holds the run lock.
export async function clearLeftovers(dataDir: string, subDirs: readonly string[]): Promise<string[]> {
  const messages = await recoverInterruptedCycle(dataDir);
  for (const dir of [dataDir, ...subDirs.map((sub) => path.join(dataDir, sub))]) {
    const removed = await removeDeadTemps(dir);
    if (removed.length > 0) {
      messages.push(`removed ${removed.length} temp file(s) a killed run left in ${dir}: ${removed.join(', ')}`);
    }
  }
  return messages;
}
