// Monthly rotation of the history CSVs: log.csv becomes log-2026-11.csv when the first poll of December
// writes, so no file grows without end and old months can be archived or deleted by name.
import { rename } from 'node:fs/promises';
import path from 'node:path';
import { exists, openIfExists } from './files.js';
import { DATA_FILES } from './columns.js';
import { formatTime } from './format.js';

// Enough to reach the first data row.
const HEAD_PROBE_BYTES = 64 * 1024;
const MONTH = /^\uFEFF?"?(\d{4}-\d{2})-\d{2}[ T]\d{2}:\d{2}/;

// The history files that rotate (recentlog.csv is a snapshot, not a history).
export const ROTATING_FILES: readonly string[] = [DATA_FILES.log, DATA_FILES.processes, DATA_FILES.disks, DATA_FILES.users];

// A file that was rotated: where it went.
export interface Rotation {
  readonly from: string;
  readonly to: string;
}

// Renames `filePath` to `<stem>-YYYY-MM.csv` (the month of its first row) when that month is before
// the month of `now` (UTC). Returns null when there is nothing to do. The caller holds the run lock.
export async function rotateMonthly(filePath: string, now: Date): Promise<Rotation | null> {
  const month = await firstRowMonth(filePath);
  if (month === null || month >= formatTime(now).slice(0, 7)) return null;
  const { dir, name, ext } = path.parse(filePath);
  for (let attempt = 1; ; attempt += 1) {
    const candidate = path.join(dir, `${name}-${month}${attempt === 1 ? '' : `-${attempt}`}${ext}`);
    if (await exists(candidate)) continue;
    await rename(filePath, candidate);
    return { from: filePath, to: candidate };
  }
}

// Rotates every history file of `dataDir` that needs it; a file that cannot be renamed (open in Excel on
// Windows) is left in place and named in `failed`, to be rotated by a later poll.
export async function rotateHistories(dataDir: string, now: Date): Promise<{ rotated: Rotation[]; failed: { file: string; reason: string }[] }> {
  const rotated: Rotation[] = [];
  const failed: { file: string; reason: string }[] = [];
  for (const name of ROTATING_FILES) {
    const file = path.join(dataDir, name);
    try {
      const done = await rotateMonthly(file, now);
      if (done !== null) rotated.push(done);
    } catch (error) {
      failed.push({ file, reason: (error as Error).message });
    }
  }
  return { rotated, failed };
}

// YYYY-MM of the first data row, or null for a missing, empty or unreadable file.
async function firstRowMonth(filePath: string): Promise<string | null> {
  const handle = await openIfExists(filePath);
  if (handle === null) return null;
  try {
    const probe = Buffer.alloc(HEAD_PROBE_BYTES);
    const { bytesRead } = await handle.read(probe, 0, probe.length, 0);
    const text = probe.toString('utf8', 0, bytesRead);
    const headerEnd = text.indexOf('\n');
    if (headerEnd === -1) return null;
    return MONTH.exec(text.slice(headerEnd + 1))?.[1] ?? null;
  } finally {
    await handle.close();
  }
}
