// The coordinator's note of the cycle it is collecting (data/cluster-cycle.json): written when the cycle's
// jobs go out, removed once its files are written. A coordinator that was killed or stopped mid-cycle finds
// it at its next start and resumes that cycle (same id, same start time, same deadline): the results
// already in the results stream count, jobs are published again under the same Nats-Msg-Id (stored once),
// and the cycle is written exactly once.
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { hasErrorCode } from '../store/errors.js';
import { replaceFileSynced } from '../store/files.js';

export const PENDING_CYCLE_FILE = 'cluster-cycle.json';

// A cycle whose jobs are out and whose files are not written yet.
export interface PendingCycle {
  readonly id: string;
  /** Epoch ms: the cycle's timestamp in every file. */
  readonly startMs: number;
  /** Epoch ms: no job is started after this; results are awaited until this plus the wait in cycle.ts. */
  readonly deadlineMs: number;
}

/** The pending cycle, or null (none, or an unreadable note: a fresh cycle starts and the note is replaced). */
export async function readPendingCycle(dataDir: string): Promise<PendingCycle | null> {
  let text: string;
  try {
    text = await readFile(join(dataDir, PENDING_CYCLE_FILE), 'utf8');
  } catch (error) {
    if (hasErrorCode(error, 'ENOENT')) return null;
    throw error;
  }
  try {
    const o = JSON.parse(text) as Partial<PendingCycle>;
    if (typeof o.id === 'string' && /^c\d+$/.test(o.id) && Number.isFinite(o.startMs) && Number.isFinite(o.deadlineMs)) {
      return { id: o.id, startMs: o.startMs as number, deadlineMs: o.deadlineMs as number };
    }
  } catch {
    // Fall through: a torn note is no cycle.
  }
  return null;
}

/** Records the cycle being collected (atomically: a killed coordinator leaves the old note or the new one). */
export async function writePendingCycle(dataDir: string, cycle: PendingCycle): Promise<void> {
  await replaceFileSynced(join(dataDir, PENDING_CYCLE_FILE), `${JSON.stringify(cycle)}\n`);
}

/** Forgets the pending cycle (its files are written). */
export async function clearPendingCycle(dataDir: string): Promise<void> {
  await rm(join(dataDir, PENDING_CYCLE_FILE), { force: true });
}
