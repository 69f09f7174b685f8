// `fleetpoll history import`: back-fills the store from the CSV history (log.csv, disks.csv, users.csv,
// processes.csv and their rotated archives), through the report's own readers (history-files, csv-scan,
// records). Idempotent: a sample lands under its unique (host, time) key with INSERT OR IGNORE and a poll's
// disk, user and process lists fill its details row only where it has none, so importing twice adds nothing. The caller holds the run lock (no poll appends meanwhile).
import { open } from 'node:fs/promises';
import type Database from 'better-sqlite3';
import { readHeader, scanRecords, utf8Text, type RawRecord } from '../report/csv-scan.js';
import { listHistoryFiles } from '../report/history-files.js';
import { decoderFor, type RecordOf, type RecordTime, type SourceKind } from '../report/records.js';
import { quantile } from './record.js';
import type { HistoryStore } from './store.js';

// What was read from one file and what it added.
export interface ImportedFile {
  readonly path: string;
  readonly kind: SourceKind;
  readonly rows: number;
  readonly added: number;
  /** Rows that could not be read (with the first few reasons). */
  readonly bad: number;
  readonly examples: readonly string[];
  /** Detail rows of a poll log.csv does not have (nothing to attach them to). */
  readonly orphans: number;
}

// The whole import.
export interface ImportOutcome {
  readonly files: readonly ImportedFile[];
  /** Compressed archives that were not read (decompress them first). */
  readonly skipped: readonly string[];
  readonly cyclesAdded: number;
  /** The time range of the rows read (epoch seconds), null when nothing was read. */
  readonly range: { from: number; to: number } | null;
}

const KB_PER_GB = 1024 * 1024;
const KB_PER_MB = 1024;
// Rows per transaction: big enough to be fast, small enough that a killed import loses little work.
const BATCH_ROWS = 20_000;
const EXAMPLES = 5;
const FORMULA_ESCAPED = /^'[=+\-@\t\r]/;

/** Imports every history file of `dataDir` into `store`: log first (the samples), then the details. */
export async function importCsvHistory(store: HistoryStore, dataDir: string): Promise<ImportOutcome> {
  const importer = new Importer(store.db);
  const files: ImportedFile[] = [];
  const skipped: string[] = [];
  for (const kind of ['log', 'disks', 'users', 'processes'] as const) {
    const listed = await listHistoryFiles(dataDir, kind);
    skipped.push(...listed.compressed);
    for (const file of listed.files) files.push(await importFile(importer, file.path, kind));
  }
  importer.finish();
  const range = importer.range();
  if (range !== null) {
    const maintenance = store.maintainer();
    const before = maintenance.rolledUpTo();
    maintenance.rollupRange(range.from, range.to + 1);
    // The steps go on from the import's last hour (which may be incomplete), unless hours before the
    // import still wait for them (then they redo the imported ones too: a rollup is replaced, never added).
    if (before === null || before >= range.from) {
      store.db.prepare("INSERT OR REPLACE INTO maintenance (key, value) VALUES ('rolled_up_to', ?)").run(Math.max(before ?? 0, Math.floor(range.to / 3600) * 3600));
    }
  }
  return { files, skipped, cyclesAdded: importer.cyclesAdded, range };
}

async function importFile(importer: Importer, path: string, kind: SourceKind): Promise<ImportedFile> {
  const handle = await open(path, 'r');
  try {
    const header = await readHeader(handle);
    if (header === null) return { path, kind, rows: 0, added: 0, bad: 0, examples: [], orphans: 0 };
    const decoder = decoderFor(kind, header.columns);
    if ('missing' in decoder) {
      return { path, kind, rows: 0, added: 0, bad: 1, examples: [`the header lacks ${decoder.missing.join(', ')}: file not read`], orphans: 0 };
    }
    const sink = importer.sink(kind, header.columns);
    let rows = 0;
    let bad = 0;
    const examples: string[] = [];
    const badRow = (line: number, reason: string): void => {
      bad += 1;
      if (examples.length < EXAMPLES) examples.push(`line ${line}: ${reason}`);
    };
    importer.begin();
    try {
      await scanRecords(
        handle,
        { start: header.endOffset, delimiter: header.delimiter, lastField: Math.max(decoder.lastField, sink.lastField), firstLine: 2, final: true },
        (raw) => {
          const record = decoder.decode(raw);
          if (typeof record === 'string') {
            badRow(raw.line, record);
            return;
          }
          rows += 1;
          sink.add(record as never, raw);
        },
        badRow,
      );
      sink.flush();
      importer.commit();
    } catch (error) {
      importer.rollback();
      throw error;
    }
    return { path, kind, rows, added: sink.added, bad, examples, orphans: sink.orphans };
  } finally {
    await handle.close();
  }
}

// Receives one file's decoded records (and the raw cells, for log.csv columns the report does not read).
interface Sink<K extends SourceKind> {
  readonly lastField: number;
  added: number;
  orphans: number;
  add(record: RecordOf[K], raw: RawRecord): void;
  flush(): void;
}

// The statements and running state of one import.
class Importer {
  cyclesAdded = 0;
  private readonly hostIds = new Map<string, number>();
  private readonly cycles = new Map<number, { total: number; ok: number; durations: number[] }>();
  private readonly dayEpoch = new Map<string, number>();
  private pending = 0;
  private minAt = Infinity;
  private maxAt = -Infinity;
  private lastParent = '';
  private lastParentFound = false;
  private readonly s;

  constructor(private readonly db: Database.Database) {
    const p = (sql: string): Database.Statement => db.prepare(sql);
    this.s = {
      host: p('INSERT INTO hosts (name) VALUES (?) ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id').pluck(),
      sample: p(`INSERT OR IGNORE INTO samples (host_id, at, status, phase, error, duration_ms, attempts, hostname, os_family, os_version, os_pretty,
          uptime_s, cpu_cores, cpu_pct, load_1m, load_5m, load_15m, mem_total_kb, mem_available_kb, mem_free_kb, swap_total_kb, swap_free_kb)
        VALUES (?, ?, ?, ?, ?, ?, NULL, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)`),
      parent: p('SELECT 1 FROM samples WHERE host_id = ? AND at = ?').pluck(),
      // A poll's details row takes each list once: from the live poll or the first import that had it.
      disks: p('INSERT INTO details (host_id, at, disks) VALUES (?, ?, ?) ON CONFLICT (host_id, at) DO UPDATE SET disks = excluded.disks WHERE details.disks IS NULL'),
      users: p('INSERT INTO details (host_id, at, users) VALUES (?, ?, ?) ON CONFLICT (host_id, at) DO UPDATE SET users = excluded.users WHERE details.users IS NULL'),
      processes: p('INSERT INTO details (host_id, at, processes) VALUES (?, ?, ?) ON CONFLICT (host_id, at) DO UPDATE SET processes = excluded.processes WHERE details.processes IS NULL'),
      cycle: p(`INSERT OR IGNORE INTO cycles (started_at, duration_ms, hosts_total, hosts_ok, hosts_failed, coverage_pct, latency_p50_ms, latency_p95_ms, reconnects)
        VALUES (?, NULL, ?, ?, ?, ?, ?, ?, NULL)`),
    };
  }

  begin(): void {
    this.db.exec('BEGIN');
  }

  commit(): void {
    this.db.exec('COMMIT');
    this.pending = 0;
  }

  rollback(): void {
    if (this.db.inTransaction) this.db.exec('ROLLBACK');
  }

  range(): { from: number; to: number } | null {
    return this.minAt === Infinity ? null : { from: this.minAt, to: this.maxAt };
  }

  /** Writes the cycles gathered from log.csv. */
  finish(): void {
    this.db.transaction(() => {
      for (const [at, c] of this.cycles) {
        c.durations.sort((a, b) => a - b);
        this.cyclesAdded += this.s.cycle.run(at, c.total, c.ok, c.total - c.ok, (c.ok / c.total) * 100, quantile(c.durations, 0.5), quantile(c.durations, 0.95)).changes;
      }
    })();
  }

  sink<K extends SourceKind>(kind: K, header: readonly string[]): Sink<K> {
    const sinks = { log: () => this.logSink(header), disks: () => this.diskSink(), users: () => this.userSink(), processes: () => this.processSink(header) };
    return sinks[kind]() as unknown as Sink<K>;
  }

  private hostId(name: string): number {
    let id = this.hostIds.get(name);
    if (id === undefined) {
      id = this.s.host.get(name) as number;
      this.hostIds.set(name, id);
    }
    return id;
  }

  private at(time: RecordTime): number {
    let epoch = this.dayEpoch.get(time.day);
    if (epoch === undefined) {
      epoch = Date.parse(`${time.day}T00:00:00Z`) / 1000;
      this.dayEpoch.set(time.day, epoch);
    }
    const at = epoch + time.secondOfDay;
    if (at < this.minAt) this.minAt = at;
    if (at > this.maxAt) this.maxAt = at;
    return at;
  }

  // Commits every BATCH_ROWS rows so one transaction never holds a whole month.
  private wrote(): void {
    this.pending += 1;
    if (this.pending >= BATCH_ROWS) {
      this.commit();
      this.begin();
    }
  }

  // Whether log.csv gave this poll a sample: details hang on a sample (foreign key).
  private hasParent(hostId: number, at: number): boolean {
    const key = `${hostId}:${at}`;
    if (key !== this.lastParent) {
      this.lastParent = key;
      this.lastParentFound = this.s.parent.get(hostId, at) !== undefined;
    }
    return this.lastParentFound;
  }

  private logSink(header: readonly string[]): Sink<'log'> {
    const at = (name: string): number => header.indexOf(name);
    const col = {
      phase: at('phase'), duration: at('duration_ms'), hostname: at('hostname'), os: at('os'), kernel: at('kernel'), uptime: at('uptime_days'),
      cores: at('cores'), load1: at('load_1m'), load5: at('load_5m'), load15: at('load_15m'),
    };
    const sink: Sink<'log'> = {
      lastField: Math.max(...Object.values(col)),
      added: 0,
      orphans: 0,
      add: (r, raw) => {
        const hostId = this.hostId(r.server);
        const when = this.at(r);
        const ok = r.status === 'ok';
        const duration = number(raw, col.duration);
        const uptimeDays = number(raw, col.uptime);
        const inserted = this.s.sample.run(
          hostId, when, r.status, ok ? null : text(raw, col.phase) || null, ok ? null : r.error, duration === null ? null : Math.round(duration),
          text(raw, col.hostname) || null, text(raw, col.kernel) || null, text(raw, col.os) || null,
          uptimeDays === null ? null : Math.round(uptimeDays * 86_400), number(raw, col.cores), r.cpuPct,
          number(raw, col.load1), number(raw, col.load5), number(raw, col.load15),
          kb(r.memTotalGb, KB_PER_GB), kb(r.memAvailableGb, KB_PER_GB), kb(r.swapTotalGb, KB_PER_GB),
          r.swapTotalGb === null || r.swapUsedGb === null ? null : kb(r.swapTotalGb - r.swapUsedGb, KB_PER_GB),
        ).changes;
        sink.added += inserted;
        this.wrote();
        if (inserted === 0) return;
        let cycle = this.cycles.get(when);
        if (cycle === undefined) this.cycles.set(when, (cycle = { total: 0, ok: 0, durations: [] }));
        cycle.total += 1;
        if (ok) cycle.ok += 1;
        if (duration !== null) cycle.durations.push(Math.round(duration));
      },
      flush: () => undefined,
    };
    return sink;
  }

  private diskSink(): Sink<'disks'> {
    return this.listSink<'disks'>(0, this.s.disks, (r) => [r.mount, r.fsType, kb(r.totalGb, KB_PER_GB), kb(r.usedGb, KB_PER_GB) ?? 0, kb(r.freeGb, KB_PER_GB) ?? 0], true);
  }

  private userSink(): Sink<'users'> {
    return this.listSink<'users'>(0, this.s.users, (r) => [r.user, r.cpuPct, kb(r.memMb, KB_PER_MB) ?? 0, r.processes], true);
  }

  // processes.csv has a row per process; the pid is not part of the report's ProcessRecord: read from its own column.
  private processSink(header: readonly string[]): Sink<'processes'> {
    const pid = header.indexOf('pid');
    return this.listSink<'processes'>(pid, this.s.processes, (r, raw) => [Math.round(number(raw, pid) ?? 0), r.user, r.cpuPct, kb(r.memMb, KB_PER_MB) ?? 0, r.process], false);
  }

  // A detail file has a row per item (filesystem, user, process); the store keeps one list per poll, so rows are
  // gathered per (host, time) (a poll's rows are consecutive in the files) and written as the poll's list. Each
  // poll needs its sample from log.csv (else its rows are orphans). `perItem`: `added` counts items, not polls.
  private listSink<K extends 'disks' | 'users' | 'processes'>(
    lastField: number,
    insert: Database.Statement,
    item: (record: RecordOf[K], raw: RawRecord) => unknown[],
    perItem: boolean,
  ): Sink<K> {
    let key = '';
    let group: { hostId: number; at: number; list: unknown[][] } | null = null;
    const sink: Sink<K> = {
      lastField,
      added: 0,
      orphans: 0,
      add: (r, raw) => {
        const hostId = this.hostId(r.server);
        const when = this.at(r);
        const next = `${hostId}:${when}`;
        if (next !== key) {
          sink.flush();
          key = next;
          group = { hostId, at: when, list: [] };
        }
        group?.list.push(item(r, raw));
        this.wrote();
      },
      flush: () => {
        if (group === null || group.list.length === 0) return;
        if (!this.hasParent(group.hostId, group.at)) sink.orphans += group.list.length;
        else if (insert.run(group.hostId, group.at, JSON.stringify(group.list)).changes > 0) sink.added += perItem ? group.list.length : 1;
        group = null;
      },
    };
    return sink;
  }
}

// A kB amount from GB or MB with the CSV's two decimals (so within ~10 MB of what the host reported).
function kb(value: number | null, factor: number): number | null {
  return value === null ? null : Math.round(value * factor);
}

// A cell as text: UTF-8, without the apostrophe that neutralised a formula.
function text(raw: RawRecord, index: number): string {
  if (index < 0 || index >= raw.fieldCount) return '';
  const value = utf8Text(raw.text.slice(raw.starts[index], raw.ends[index]));
  return FORMULA_ESCAPED.test(value) ? value.slice(1) : value;
}

// A number cell (decimal point or comma), null when empty or not a number.
function number(raw: RawRecord, index: number): number | null {
  const value = text(raw, index).replace(',', '.');
  if (value === '') return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}
