// The rollup on disk: one JSON file per UTC day (data/rollup/day-<date>-<generation>.json) and a manifest that
// names the current file of each day and, per source, a checkpoint: the identity of the history file read
// (device, inode, hash of its first bytes) and the byte offset after its last complete row. A sync writes new
// day files, then replaces the manifest atomically: a crash at any point leaves the old manifest, whose days
// and checkpoint agree, so rows are never counted twice or lost; unreferenced files are swept on next open.
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { mkdir, readdir, readFile, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Log } from '../log.js';
import { StoreError, hasErrorCode } from '../store/errors.js';
import { acquireRunLock, type RunLock } from '../store/lock.js';
import { openIfExists } from '../store/files.js';
import { replaceFileAtomically } from '../store/snapshot.js';
import { readHeader, scanRecords } from './csv-scan.js';
import { listHistoryFiles, mayHoldDays, type HistoryFile } from './history-files.js';
import { decoderFor, SOURCE_FILES, SOURCE_KINDS, type RecordOf, type SourceKind } from './records.js';
import { dayData, dayFromData, dayToJson, parseDay, type DayData } from './day-file.js';
import { addBad, addDisk, addLog, addProcess, addUser, clearSource, emptyDay, ROLLUP_VERSION, type DayRollup } from './rollup.js';

// Directory of the rollup inside the data dir.
export const ROLLUP_DIR = 'rollup';
const MANIFEST = 'manifest.json';
// Bytes hashed into a file's identity: the header and first rows, which an append never changes.
const HEAD_HASH_BYTES = 4096;
// Days kept in memory while reading: rows come in time order, so a few cover any overlap at midnight.
const MEMORY_DAYS = 4;
const DAY_FILE = /^day-(\d{4}-\d{2}-\d{2})-[a-z0-9]+\.json$/;
const LOCK_RETRY_MS = 200;
// A day earlier than any data: "from the beginning".
const BEGINNING = '0000-00-00';

// How far a source has been read: which file (by identity, not name) and up to which byte.
export interface Checkpoint {
  /** Name of the file when it was read (for messages; identity decides). */
  readonly file: string;
  readonly dev: string;
  readonly ino: string;
  readonly headBytes: number;
  readonly headHash: string;
  /** Byte offset just after the last complete row read. */
  readonly offset: number;
  /** Physical line number of the next row. */
  readonly line: number;
  /** Day of the last row read, where a re-read starts when the file was rotated in a way we cannot follow. */
  readonly lastDay: string | null;
}

interface Manifest {
  format: 'fleetpoll-rollup';
  version: number;
  /** Days from this one on are complete up to the checkpoints. */
  coveredFrom: string | null;
  days: [string, string][];
  sources: Record<SourceKind, Checkpoint | null>;
  /** File name -> what was odd about it (unknown or missing columns, compressed archive). */
  notes: [string, string][];
  updatedAt: string;
}

// What one sync read, for the CLI's summary and the run log.
export interface SyncReport {
  readonly kind: 'catch-up' | 'rebuild' | 'backfill';
  readonly bytes: number;
  readonly records: number;
  /** Rotation or truncation that could not be followed, rollup damage, etc. */
  readonly events: readonly string[];
  /** A bounded catch-up stopped before the end of a file. */
  readonly truncated: boolean;
}

// A rollup day file is missing or unreadable: the caller rebuilds.
export class RollupDamaged extends Error {
  override readonly name = 'RollupDamaged';
}

// Options for RollupStore.open.
export interface OpenOptions {
  /** How long to wait for another process's sync to finish; 0 = do not wait. */
  readonly waitMs: number;
  readonly log: Log;
}

type Adder<K extends SourceKind> = (day: DayRollup, record: RecordOf[K]) => void;
const ADDERS: { [K in SourceKind]: Adder<K> } = { log: addLog, disks: addDisk, processes: addProcess, users: addUser };

interface OpenedFile {
  readonly handle: FileHandle;
  readonly name: string;
  readonly dev: string;
  readonly ino: string;
  readonly size: number;
}

interface ScanRange {
  readonly fromDay: string;
  /** Exclusive; null = no end. */
  readonly toDay: string | null;
}

// The rollup of one data dir, held under its own lock (data/rollup/.fleetpoll.lock) so a poll's catch-up
// and a report never write it at the same time. Always close() it.
export class RollupStore {
  private generation = 0;
  private dayIndex: { manifest: Manifest | null; files: Map<string, string> } | null = null;

  private constructor(
    readonly dataDir: string,
    readonly dir: string,
    private readonly lock: RunLock,
    private manifest: Manifest | null,
    private readonly log: Log,
    /** Why an existing manifest was ignored, if it was. */
    readonly openProblem: string | null,
  ) {}

  // Takes the rollup lock (waiting up to waitMs) and reads the manifest; null when another process holds it.
  static async open(dataDir: string, options: OpenOptions): Promise<RollupStore | null> {
    const dir = path.join(dataDir, ROLLUP_DIR);
    try {
      await mkdir(dir, { recursive: true });
    } catch (error) {
      throw new StoreError(`cannot create ${dir}: ${(error as Error).message}`, dir, (error as NodeJS.ErrnoException).code, { cause: error });
    }
    const giveUpAt = Date.now() + options.waitMs;
    let lock: RunLock | null = null;
    while (lock === null) {
      const attempt = await acquireRunLock(dir);
      if (attempt.kind === 'acquired') lock = attempt.lock;
      else if (Date.now() >= giveUpAt) return null;
      else await new Promise((resolve) => setTimeout(resolve, LOCK_RETRY_MS));
    }
    let manifest: Manifest | null = null;
    let problem: string | null = null;
    try {
      manifest = parseManifest(await readFile(path.join(dir, MANIFEST), 'utf8'));
    } catch (error) {
      if (!hasErrorCode(error, 'ENOENT')) problem = `the rollup manifest is unreadable (${(error as Error).message}); it is rebuilt`;
    }
    const store = new RollupStore(dataDir, dir, lock, manifest, options.log, problem);
    // With an unreadable manifest nothing is known to be unreferenced: the rebuild's commit decides.
    if (problem === null) await store.sweep();
    return store;
  }

  // Whether a rollup exists (otherwise build it with rebuild()).
  get exists(): boolean {
    return this.manifest !== null;
  }

  // First day the rollup is complete for, or null without a rollup.
  get coveredFrom(): string | null {
    return this.manifest?.coveredFrom ?? null;
  }

  // Notes about odd files (unknown columns, compressed archives), for the report's end.
  get notes(): readonly string[] {
    return (this.manifest?.notes ?? []).map(([file, note]) => `${file}: ${note}`);
  }

  // Releases the lock.
  async close(): Promise<void> {
    await this.lock.release();
  }

  // Reads what the history files gained since the checkpoints (following a rotation), at most about
  // maxBytes per source, and commits. Requires an existing rollup.
  async catchUp(options: { maxBytes?: number } = {}): Promise<SyncReport> {
    const manifest = this.requireManifest();
    const session = new Session(this, manifest.days);
    const events: string[] = [];
    const totals = { bytes: 0, records: 0, truncated: false };
    const notes = new Map(manifest.notes);
    const sources = { ...manifest.sources };
    for (const kind of SOURCE_KINDS) {
      sources[kind] = await this.catchUpSource(session, kind, manifest, options.maxBytes, totals, events, notes);
    }
    const next = { ...manifest, sources, notes: [...notes] };
    // Nothing new (a report right after a poll's catch-up): no need to rewrite and fsync the manifest.
    const unchanged = !session.changed && JSON.stringify(next.sources) === JSON.stringify(manifest.sources) && JSON.stringify(next.notes) === JSON.stringify(manifest.notes);
    if (!unchanged) await this.commit(session, next);
    return { kind: 'catch-up', bytes: totals.bytes, records: totals.records, events, truncated: totals.truncated };
  }

  // Re-reads the raw history files for every day from `fromDay` on (all days when discardOlder) and commits.
  async rebuild(fromDay: string, options: { discardOlder?: boolean } = {}): Promise<SyncReport> {
    const keepOlder = options.discardOlder !== true && this.manifest !== null;
    const session = new Session(this, keepOlder && this.manifest !== null ? this.manifest.days : []);
    session.dropFrom(fromDay);
    const totals = { bytes: 0, records: 0, truncated: false };
    const notes = new Map<string, string>();
    const sources = {} as Record<SourceKind, Checkpoint | null>;
    for (const kind of SOURCE_KINDS) {
      sources[kind] = await this.readFiles(session, kind, { fromDay, toDay: null }, totals, notes);
    }
    const previous = keepOlder ? this.manifest?.coveredFrom ?? null : null;
    const coveredFrom = previous !== null && previous <= fromDay ? previous : fromDay;
    await this.commit(session, { ...emptyManifest(), coveredFrom, sources, notes: [...notes] });
    return { kind: 'rebuild', bytes: totals.bytes, records: totals.records, events: [], truncated: false };
  }

  // Adds the days [fromDay, coveredFrom) from the raw files, so a report can reach further back than the rollup.
  async backfill(fromDay: string): Promise<SyncReport> {
    const manifest = this.requireManifest();
    const until = manifest.coveredFrom;
    if (until === null || fromDay >= until) return { kind: 'backfill', bytes: 0, records: 0, events: [], truncated: false };
    const session = new Session(this, manifest.days);
    session.dropFrom(fromDay, until);
    const totals = { bytes: 0, records: 0, truncated: false };
    const notes = new Map(manifest.notes);
    for (const kind of SOURCE_KINDS) {
      await this.readFiles(session, kind, { fromDay, toDay: until }, totals, notes);
    }
    await this.commit(session, { ...manifest, coveredFrom: fromDay, notes: [...notes] });
    return { kind: 'backfill', bytes: totals.bytes, records: totals.records, events: [], truncated: false };
  }

  // The committed rollup of each day (an empty day where there is none). Throws RollupDamaged.
  async readDays(days: readonly string[]): Promise<DayRollup[]> {
    return days.map((day) => dayFromData(this.readDay(day)));
  }

  // The committed rollup of one day as its file has it (an empty day where there is none): what a report
  // folds. Synchronous: a report reads its days one after the other with nothing else to do meanwhile.
  // Throws RollupDamaged.
  readDay(day: string): DayData {
    const file = this.dayFiles.get(day);
    return file === undefined ? dayData(emptyDay(day)) : this.readDayFile(day, file);
  }

  private get dayFiles(): Map<string, string> {
    if (this.dayIndex === null || this.dayIndex.manifest !== this.manifest) {
      this.dayIndex = { manifest: this.manifest, files: new Map(this.manifest?.days ?? []) };
    }
    return this.dayIndex.files;
  }

  /** Loads a day file for a session (synchronous: it happens inside the scan's per-row callback). */
  loadDayFile(day: string, file: string): DayRollup {
    return dayFromData(this.readDayFile(day, file));
  }

  private readDayFile(day: string, file: string): DayData {
    try {
      return parseDay(readFileSync(path.join(this.dir, file), 'utf8'), day);
    } catch (error) {
      throw new RollupDamaged(`rollup file ${file}: ${(error as Error).message}`, { cause: error });
    }
  }

  /** Writes a day under a new, unreferenced name, durably; the manifest makes it current. */
  writeDayFile(day: DayRollup): string {
    this.generation += 1;
    const name = `day-${day.day}-${Date.now().toString(36)}${process.pid.toString(36)}${this.generation.toString(36)}${randomBytes(2).toString('hex')}.json`;
    const fd = openSync(path.join(this.dir, name), 'wx');
    try {
      const bytes = Buffer.from(dayToJson(day), 'utf8');
      for (let offset = 0; offset < bytes.length; ) offset += writeSync(fd, bytes, offset, bytes.length - offset);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    return name;
  }

  /** Deletes a file of ours that nothing references. */
  removeFile(name: string): void {
    try {
      unlinkSync(path.join(this.dir, name));
    } catch {
      // Swept on the next open.
    }
  }

  private requireManifest(): Manifest {
    if (this.manifest === null) throw new Error('no rollup yet: rebuild it first');
    return this.manifest;
  }

  private async catchUpSource(
    session: Session,
    kind: SourceKind,
    manifest: Manifest,
    maxBytes: number | undefined,
    totals: { bytes: number; records: number; truncated: boolean },
    events: string[],
    notes: Map<string, string>,
  ): Promise<Checkpoint | null> {
    const checkpoint = manifest.sources[kind];
    const range: ScanRange = { fromDay: manifest.coveredFrom ?? BEGINNING, toDay: null };
    const live = await openFile(path.join(this.dataDir, SOURCE_FILES[kind]));
    try {
      if (checkpoint === null) {
        // No live file at the last sync: whatever is there now is new.
        if (live === null) return null;
        return (await this.scan(session, kind, live, null, range, { final: false, maxBytes }, totals, notes)).checkpoint;
      }
      if (live !== null && (await sameFile(live, checkpoint))) {
        return (await this.scan(session, kind, live, checkpoint, range, { final: false, maxBytes }, totals, notes)).checkpoint;
      }
      // The file we were reading is no longer the live one: rotated (renamed), truncated or replaced.
      const { files } = await listHistoryFiles(this.dataDir, kind);
      const archives = files.filter((f) => !f.live);
      let match: { file: HistoryFile; opened: OpenedFile } | null = null;
      for (const file of archives) {
        const opened = await openFile(file.path);
        if (opened === null) continue;
        if (match === null && (await sameFile(opened, checkpoint))) match = { file, opened };
        else await opened.handle.close();
      }
      if (match !== null) {
        try {
          const matched = match.file;
          const newer = archives.some((f) => f !== matched && f.mtimeMs > matched.mtimeMs);
          if (!newer) {
            const end = await this.scan(session, kind, match.opened, checkpoint, range, { final: true, maxBytes }, totals, notes);
            if (end.truncated) return end.checkpoint;
            this.log.info('rollup: followed a rotation', { source: kind, archive: match.file.name });
            if (live === null) return null;
            return (await this.scan(session, kind, live, null, range, { final: false, maxBytes }, totals, notes)).checkpoint;
          }
        } finally {
          await match.opened.handle.close();
        }
      }
      // Not followable (copied and truncated, compressed, several rotations): re-read this source from the
      // day of the last row read. Its earlier contribution to those days is dropped first: nothing counts twice.
      const fromDay = maxDay(checkpoint.lastDay ?? range.fromDay, range.fromDay);
      const event = `${SOURCE_FILES[kind]} was rotated, truncated or replaced since it was last read; re-read it from ${fromDay}`;
      events.push(event);
      this.log.warn(`rollup: ${event}`);
      session.resetSource(kind, fromDay);
      return await this.readFiles(session, kind, { fromDay, toDay: null }, totals, notes);
    } finally {
      await live?.handle.close();
    }
  }

  // Reads every file of a source that may hold days of `range`, whole; returns the live file's checkpoint.
  private async readFiles(
    session: Session,
    kind: SourceKind,
    range: ScanRange,
    totals: { bytes: number; records: number; truncated: boolean },
    notes: Map<string, string>,
  ): Promise<Checkpoint | null> {
    const { files, compressed } = await listHistoryFiles(this.dataDir, kind);
    for (const name of compressed) notes.set(name, 'compressed: not read (keep the archives of the report window uncompressed)');
    let checkpoint: Checkpoint | null = null;
    for (const file of files) {
      if (!mayHoldDays(file, range.fromDay, range.toDay)) continue;
      const opened = await openFile(file.path);
      if (opened === null) continue;
      try {
        const end = await this.scan(session, kind, opened, null, range, { final: !file.live }, totals, notes);
        if (file.live) checkpoint = end.checkpoint;
      } finally {
        await opened.handle.close();
      }
    }
    return checkpoint;
  }

  // Scans one open file from the checkpoint (or its first row) and adds rows of `range` to the session.
  private async scan(
    session: Session,
    kind: SourceKind,
    file: OpenedFile,
    from: Checkpoint | null,
    range: ScanRange,
    options: { final: boolean; maxBytes?: number | undefined },
    totals: { bytes: number; records: number; truncated: boolean },
    notes: Map<string, string>,
  ): Promise<{ checkpoint: Checkpoint; truncated: boolean }> {
    const header = await readHeader(file.handle);
    if (header === null) {
      // Empty, or a header still being written: nothing to read yet.
      return { checkpoint: identity(file, 0, 1, from?.lastDay ?? null), truncated: false };
    }
    const decoder = decoderFor(kind, header.columns);
    if (!('decode' in decoder)) {
      notes.set(file.name, `missing column(s) ${decoder.missing.join(', ')}: not read`);
      return { checkpoint: identity(file, file.size, 1, from?.lastDay ?? null), truncated: false };
    }
    if (decoder.unknownColumns.length > 0) {
      notes.set(file.name, `unknown column(s) ${decoder.unknownColumns.map((c) => JSON.stringify(c)).join(', ')} ignored`);
    }
    const start = from === null || from.offset < header.endOffset ? header.endOffset : from.offset;
    const firstLine = from === null || from.offset < header.endOffset ? 2 : from.line;
    const add = ADDERS[kind] as Adder<typeof kind>;
    const inRange = (day: string): boolean => day >= range.fromDay && (range.toDay === null || day < range.toDay);
    let lastDay = from?.lastDay ?? null;
    // Bad rows before the first good one wait for a day to be counted under.
    const pendingBad: string[] = [];
    const countBad = (day: string, example: string): void => {
      if (inRange(day)) addBad(session.get(day), kind, example);
    };
    const result = await scanRecords(
      file.handle,
      { start, delimiter: header.delimiter, lastField: decoder.lastField, firstLine, final: options.final, maxBytes: options.maxBytes },
      (raw) => {
        const record = decoder.decode(raw);
        if (typeof record === 'string') {
          const example = `${file.name} line ${raw.line}: ${record}`;
          if (lastDay === null) pendingBad.push(example);
          else countBad(lastDay, example);
          return;
        }
        lastDay = record.day;
        if (pendingBad.length > 0) for (const example of pendingBad.splice(0)) countBad(record.day, example);
        if (inRange(record.day)) add(session.get(record.day), record as never);
      },
      (line, reason) => {
        const example = `${file.name} line ${line}: ${reason}`;
        if (lastDay === null) pendingBad.push(example);
        else countBad(lastDay, example);
      },
    );
    const fallbackDay = lastDay ?? new Date().toISOString().slice(0, 10);
    for (const example of pendingBad) countBad(fallbackDay, example);
    totals.bytes += result.endOffset - start;
    totals.records += result.records;
    if (result.truncated) totals.truncated = true;
    const hash = await headHash(file, Math.min(HEAD_HASH_BYTES, result.endOffset));
    return { checkpoint: identity(file, result.endOffset, result.nextLine, lastDay, hash), truncated: result.truncated };
  }

  private async commit(session: Session, next: Manifest): Promise<void> {
    session.flush();
    const manifest: Manifest = { ...next, days: session.days(), updatedAt: new Date().toISOString() };
    const target = path.join(this.dir, MANIFEST);
    const outcome = await replaceFileAtomically(target, `${JSON.stringify(manifest)}\n`, { retryDelaysMs: [50, 100, 200, 400, 750] });
    if (outcome.path !== target) {
      await unlink(outcome.path).catch(() => undefined);
      session.abandon();
      throw new StoreError(`cannot replace ${target}: ${outcome.warning ?? 'locked'}`, target, undefined);
    }
    const previous = this.manifest?.days ?? [];
    this.manifest = manifest;
    const current = new Set(manifest.days.map(([, file]) => file));
    for (const [, file] of previous) if (!current.has(file)) this.removeFile(file);
  }

  // Deletes day files no manifest names (a sync that crashed before its commit) and stray temp files.
  private async sweep(): Promise<void> {
    const referenced = new Set((this.manifest?.days ?? []).map(([, file]) => file));
    for (const name of await readdir(this.dir)) {
      const orphan = (DAY_FILE.test(name) && !referenced.has(name)) || (name.startsWith(`.${MANIFEST}.`) && name.endsWith('.tmp'));
      if (orphan) this.removeFile(name);
    }
  }
}

// The days of a sync in progress: committed files, files written by this sync, and a few days in memory.
class Session {
  private readonly committed: Map<string, string>;
  private readonly written = new Map<string, string>();
  private readonly dropped = new Set<string>();
  private readonly memory = new Map<string, DayRollup>();
  private currentDay = '';
  private current: DayRollup | null = null;

  constructor(
    private readonly store: RollupStore,
    days: readonly [string, string][],
  ) {
    this.committed = new Map(days);
  }

  /** Whether any day was touched (loaded to add rows, or dropped). */
  get changed(): boolean {
    return this.memory.size > 0 || this.written.size > 0 || this.dropped.size > 0;
  }

  /** The day to add rows to (loaded or created; counted as changed). */
  get(day: string): DayRollup {
    if (day === this.currentDay && this.current !== null) return this.current;
    let rollup = this.memory.get(day);
    if (rollup === undefined) {
      const file = this.written.get(day) ?? (this.dropped.has(day) ? undefined : this.committed.get(day));
      rollup = file === undefined ? emptyDay(day) : this.store.loadDayFile(day, file);
      this.memory.set(day, rollup);
      if (this.memory.size > MEMORY_DAYS) this.evictOldest();
    } else {
      // Most recently used last.
      this.memory.delete(day);
      this.memory.set(day, rollup);
    }
    this.currentDay = day;
    this.current = rollup;
    return rollup;
  }

  /** Forgets days from `fromDay` (to `toDay`, exclusive): a rebuild re-reads them. */
  dropFrom(fromDay: string, toDay: string | null = null): void {
    for (const day of [...this.committed.keys(), ...this.written.keys(), ...this.memory.keys()]) {
      if (day < fromDay || (toDay !== null && day >= toDay)) continue;
      this.dropped.add(day);
      this.memory.delete(day);
      const pending = this.written.get(day);
      if (pending !== undefined) this.store.removeFile(pending);
      this.written.delete(day);
    }
    this.current = null;
    this.currentDay = '';
  }

  /** Drops one source's rows from every day from `fromDay` on. */
  resetSource(kind: SourceKind, fromDay: string): void {
    const live = [...this.committed.keys()].filter((day) => !this.dropped.has(day));
    const days = new Set([...live, ...this.written.keys(), ...this.memory.keys()]);
    for (const day of [...days].sort()) if (day >= fromDay) clearSource(this.get(day), kind);
  }

  /** Writes every day still in memory. */
  flush(): void {
    while (this.memory.size > 0) this.evictOldest();
  }

  /** The manifest's day list after this sync. */
  days(): [string, string][] {
    const days = new Map(this.committed);
    for (const day of this.dropped) days.delete(day);
    for (const [day, file] of this.written) days.set(day, file);
    return [...days].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** The commit failed: delete what this sync wrote. */
  abandon(): void {
    for (const file of this.written.values()) this.store.removeFile(file);
  }

  private evictOldest(): void {
    const [day, rollup] = this.memory.entries().next().value as [string, DayRollup];
    this.memory.delete(day);
    if (day === this.currentDay) {
      this.current = null;
      this.currentDay = '';
    }
    const file = this.store.writeDayFile(rollup);
    const previous = this.written.get(day);
    // An earlier write of this sync was never committed: nothing refers to it.
    if (previous !== undefined) this.store.removeFile(previous);
    this.written.set(day, file);
  }
}

function emptyManifest(): Manifest {
  return {
    format: 'fleetpoll-rollup',
    version: ROLLUP_VERSION,
    coveredFrom: null,
    days: [],
    sources: { log: null, disks: null, processes: null, users: null },
    notes: [],
    updatedAt: new Date().toISOString(),
  };
}

function parseManifest(text: string): Manifest {
  const data = JSON.parse(text) as Partial<Manifest>;
  if (data.format !== 'fleetpoll-rollup' || data.version !== ROLLUP_VERSION) throw new Error(`not a version ${ROLLUP_VERSION} rollup manifest`);
  if (!Array.isArray(data.days) || !data.days.every(([day, file]) => typeof day === 'string' && typeof file === 'string' && DAY_FILE.exec(file)?.[1] === day)) {
    throw new Error('malformed day list');
  }
  const sources = data.sources;
  if (sources === undefined || sources === null || !SOURCE_KINDS.every((k) => k in sources)) throw new Error('malformed checkpoints');
  return { ...emptyManifest(), ...data, notes: Array.isArray(data.notes) ? data.notes : [] } as Manifest;
}

async function openFile(filePath: string): Promise<OpenedFile | null> {
  const handle = await openIfExists(filePath);
  if (handle === null) return null;
  try {
    const info = await handle.stat({ bigint: true });
    if (!info.isFile()) {
      await handle.close();
      return null;
    }
    return { handle, name: path.basename(filePath), dev: info.dev.toString(), ino: info.ino.toString(), size: Number(info.size) };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

async function headHash(file: OpenedFile, bytes: number): Promise<string> {
  const head = Buffer.alloc(bytes);
  const { bytesRead } = await file.handle.read(head, 0, bytes, 0);
  return createHash('sha256').update(head.subarray(0, bytesRead)).digest('hex');
}

// The same file we checkpointed: same device and inode, not shorter, same first bytes (an inode can be reused).
async function sameFile(file: OpenedFile, checkpoint: Checkpoint): Promise<boolean> {
  if (file.dev !== checkpoint.dev || file.ino !== checkpoint.ino || file.size < checkpoint.offset) return false;
  return (await headHash(file, checkpoint.headBytes)) === checkpoint.headHash;
}

function identity(file: OpenedFile, offset: number, line: number, lastDay: string | null, hash?: string): Checkpoint {
  return {
    file: file.name,
    dev: file.dev,
    ino: file.ino,
    headBytes: hash === undefined ? 0 : Math.min(HEAD_HASH_BYTES, offset),
    headHash: hash ?? createHash('sha256').digest('hex'),
    offset,
    line,
    lastDay,
  };
}

function maxDay(a: string, b: string): string {
  return a > b ? a : b;
}
