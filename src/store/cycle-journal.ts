// The cycle journal (data/.fleetpoll-cycle.json): makes one poll's rows all-or-nothing across a kill. Before
// the appends it records each history file's size and identity and the snapshot's temp file; the rename of
// that temp file onto recentlog.csv is the commit. A run that finds the journal with the temp file still
// there knows the cycle was cut short and truncates every history file back to its recorded size.
import { open, readFile, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { hasErrorCode } from './errors.js';
import { replaceFileSynced } from './files.js';
import { formatTime } from './format.js';
import { syncDirectory } from './snapshot.js';

// Name of the journal inside the data dir (hidden: it exists only while a cycle is being written).
export const JOURNAL_FILE = '.fleetpoll-cycle.json';

// One history file as it was before the cycle's append.
export interface JournalEntry {
  /** File name inside the data dir. */
  readonly name: string;
  /** Size in bytes before the append (a record boundary), or null when the file did not exist. */
  readonly size: number | null;
  readonly dev: string | null;
  readonly ino: string | null;
}

// What the journal records about the cycle being written.
export interface CycleJournal {
  readonly format: 'fleetpoll-cycle';
  readonly version: 1;
  /** The cycle's start (ISO 8601 UTC), for messages. */
  readonly cycleStart: string;
  readonly pid: number;
  readonly files: readonly JournalEntry[];
  /** Name of the snapshot's temp file: while it exists, the cycle is not committed. */
  readonly snapshotTemp: string;
}

// Records the files' sizes before a cycle's appends; the caller holds the run lock and the temp file exists.
export async function beginCycle(dataDir: string, cycleStart: Date, files: readonly string[], snapshotTemp: string): Promise<CycleJournal> {
  const entries: JournalEntry[] = [];
  for (const file of files) {
    try {
      const info = await stat(file, { bigint: true });
      entries.push({ name: path.basename(file), size: Number(info.size), dev: info.dev.toString(), ino: info.ino.toString() });
    } catch (error) {
      if (!hasErrorCode(error, 'ENOENT')) throw error;
      entries.push({ name: path.basename(file), size: null, dev: null, ino: null });
    }
  }
  const journal: CycleJournal = {
    format: 'fleetpoll-cycle',
    version: 1,
    cycleStart: cycleStart.toISOString(),
    pid: process.pid,
    files: entries,
    snapshotTemp: path.basename(snapshotTemp),
  };
  await replaceFileSynced(path.join(dataDir, JOURNAL_FILE), `${JSON.stringify(journal, null, 1)}\n`);
  await syncDirectory(dataDir);
  return journal;
}

// Removes the journal once the cycle is committed (the snapshot renamed into place).
export async function endCycle(dataDir: string): Promise<void> {
  await unlink(path.join(dataDir, JOURNAL_FILE)).catch((error: unknown) => {
    if (!hasErrorCode(error, 'ENOENT')) throw error;
  });
}

// Finishes what a killed run left: rolls an uncommitted cycle back, forgets a committed one. Returns one
// sentence per thing it did, for the run log. The caller holds the run lock.
export async function recoverInterruptedCycle(dataDir: string): Promise<string[]> {
  const file = path.join(dataDir, JOURNAL_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if (hasErrorCode(error, 'ENOENT')) return [];
    throw error;
  }
  const journal = parseJournal(text);
  if (journal === null) {
    // Written by temp + rename, so never half a file; something else wrote this one.
    await endCycle(dataDir);
    return [`${JOURNAL_FILE} could not be read (not a cycle journal): removed it; the history files' tails are still checked`];
  }
  const temp = path.join(dataDir, journal.snapshotTemp);
  let committed = true;
  try {
    await stat(temp);
    committed = false;
  } catch (error) {
    if (!hasErrorCode(error, 'ENOENT')) throw error;
  }
  if (committed) {
    // Killed after recentlog.csv was renamed into place: the cycle is whole, only the journal was left.
    await endCycle(dataDir);
    return [];
  }
  const messages = await rollBackCycle(dataDir, journal);
  await unlink(temp).catch(() => undefined);
  await endCycle(dataDir);
  await syncDirectory(dataDir);
  return messages;
}

// Truncates every history file back to its size before the cycle (a file the cycle created is removed).
// A file replaced or shortened since (by an admin) is left alone and named.
export async function rollBackCycle(dataDir: string, journal: CycleJournal): Promise<string[]> {
  const when = `the cycle of ${formatTime(new Date(journal.cycleStart))} UTC (pid ${journal.pid})`;
  const messages: string[] = [];
  for (const entry of journal.files) {
    const file = path.join(dataDir, entry.name);
    let info;
    try {
      info = await stat(file, { bigint: true });
    } catch (error) {
      if (hasErrorCode(error, 'ENOENT')) continue;
      throw error;
    }
    if (entry.size === null) {
      await unlink(file);
      messages.push(`${entry.name}: removed the file ${when} had created and not finished (a killed run)`);
      continue;
    }
    if (info.dev.toString() !== entry.dev || info.ino.toString() !== entry.ino) {
      messages.push(`${entry.name}: was replaced since ${when} was cut short; left as it is`);
      continue;
    }
    const size = Number(info.size);
    if (size === entry.size) continue;
    if (size < entry.size) {
      messages.push(`${entry.name}: is shorter than before ${when} was cut short; left as it is`);
      continue;
    }
    const rows = await countRows(file, entry.size, size);
    await truncateTo(file, entry.size);
    messages.push(
      `${entry.name}: rolled back ${rows.whole} whole row(s)${rows.torn ? ' and a torn row' : ''} (${size - entry.size} bytes) of ` +
        `${when}, which was killed while writing; the file ends with the previous cycle`,
    );
  }
  return messages;
}

async function countRows(file: string, from: number, to: number): Promise<{ whole: number; torn: boolean }> {
  const handle = await open(file, 'r');
  try {
    const bytes = Buffer.alloc(to - from);
    const { bytesRead } = await handle.read(bytes, 0, bytes.length, from);
    const added = bytes.subarray(0, bytesRead);
    // A line end inside a quoted cell would count twice; good enough for a message.
    let whole = 0;
    for (let at = added.indexOf(0x0a); at !== -1; at = added.indexOf(0x0a, at + 1)) whole += 1;
    return { whole, torn: added.length > 0 && added[added.length - 1] !== 0x0a };
  } finally {
    await handle.close();
  }
}

async function truncateTo(file: string, size: number): Promise<void> {
  const handle = await open(file, 'r+');
  try {
    await handle.truncate(size);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function parseJournal(text: string): CycleJournal | null {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof data !== 'object' || data === null) return null;
  const j = data as Partial<CycleJournal>;
  if (j.format !== 'fleetpoll-cycle' || j.version !== 1 || typeof j.snapshotTemp !== 'string' || typeof j.cycleStart !== 'string') return null;
  if (!Array.isArray(j.files)) return null;
  const safeName = (name: unknown): name is string => typeof name === 'string' && name !== '' && path.basename(name) === name;
  if (!safeName(j.snapshotTemp)) return null;
  for (const f of j.files as unknown[]) {
    const e = f as Partial<JournalEntry> | null;
    if (e === null || typeof e !== 'object' || !safeName(e.name)) return null;
    if (e.size !== null && (typeof e.size !== 'number' || !Number.isSafeInteger(e.size) || e.size < 0)) return null;
  }
  return { ...(j as CycleJournal), pid: typeof j.pid === 'number' ? j.pid : 0 };
}
