// What a poll does for the report, inside its run lock: rotate the history files at a month boundary
// before writing, and bring the rollup up to date after. Neither can fail the poll: problems are logged.
import { access } from 'node:fs/promises';
import path from 'node:path';
import type { Log } from '../log.js';
import { rotateHistories } from '../store/rotate.js';
import { ROLLUP_DIR, RollupStore } from './rollup-store.js';
import type { RotateMode } from './settings.js';

// A poll reads at most this much per history file into the rollup; a larger backlog is finished by later
// polls or the next report, so one poll never stalls on months of rows.
export const POLL_CATCH_UP_BYTES = 64 * 1024 * 1024;

// Rotates the history files when `cycleStart` is in a later month than their first rows (report.rotate).
export async function rotateBeforeWrite(dataDir: string, cycleStart: Date, mode: RotateMode, log: Log): Promise<void> {
  if (mode === 'off') return;
  try {
    const { rotated, failed } = await rotateHistories(dataDir, cycleStart);
    for (const r of rotated) log.info('rotated history file', { from: path.basename(r.from), to: path.basename(r.to) });
    for (const f of failed) log.warn(`could not rotate ${path.basename(f.file)} (kept appending to it; retried next poll): ${f.reason}`);
  } catch (error) {
    log.warn(`history rotation failed (retried next poll): ${(error as Error).message}`);
  }
}

// Reads the rows this poll appended into the rollup, if there is a rollup and no report is using it.
export async function catchUpAfterWrite(dataDir: string, log: Log, maxBytes = POLL_CATCH_UP_BYTES): Promise<void> {
  try {
    // No rollup yet: the first `fleetpoll report` builds it from the raw logs.
    try {
      await access(path.join(dataDir, ROLLUP_DIR, 'manifest.json'));
    } catch {
      return;
    }
    const store = await RollupStore.open(dataDir, { waitMs: 0, log });
    if (store === null) {
      log.debug('rollup in use by a report; this poll does not catch it up');
      return;
    }
    try {
      if (!store.exists) return;
      const sync = await store.catchUp({ maxBytes });
      log.debug('rollup caught up', { bytes: sync.bytes, rows: sync.records, more: sync.truncated });
    } finally {
      await store.close();
    }
  } catch (error) {
    log.warn(`rollup catch-up failed (the next poll or report retries): ${(error as Error).message}`);
  }
}
