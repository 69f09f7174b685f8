// Raw CSV cells of the four history files -> typed, validated records; a bad row becomes a reason, never a throw.
// Columns are found by header name, so a file whose columns a spreadsheet reordered still reads.
import { DATA_FILES, DISK_COLUMNS, LOG_COLUMNS, PROCESS_COLUMNS, USER_COLUMNS } from '../store/columns.js';
import { utf8Text, type RawRecord } from './csv-scan.js';

// The history files the report reads.
export type SourceKind = 'log' | 'disks' | 'processes' | 'users';

// Every source, in the order they are read.
export const SOURCE_KINDS: readonly SourceKind[] = ['log', 'disks', 'processes', 'users'];

// Live file name of each source in the data dir.
export const SOURCE_FILES: Readonly<Record<SourceKind, string>> = {
  log: DATA_FILES.log,
  disks: DATA_FILES.disks,
  processes: DATA_FILES.processes,
  users: DATA_FILES.users,
};

const ALL_COLUMNS: Readonly<Record<SourceKind, readonly string[]>> = {
  log: LOG_COLUMNS,
  disks: DISK_COLUMNS,
  processes: PROCESS_COLUMNS,
  users: USER_COLUMNS,
};

// The columns each source must have for its rows to mean anything.
const REQUIRED: Readonly<Record<SourceKind, readonly string[]>> = {
  log: ['time', 'server', 'status'],
  disks: ['time', 'server', 'mount', 'used_gb', 'free_gb'],
  processes: ['time', 'server', 'process', 'cpu_pct', 'mem_mb'],
  users: ['time', 'server', 'user', 'cpu_pct', 'mem_mb'],
};

// When a row was polled: the UTC day and the second within it.
export interface RecordTime {
  day: string;
  secondOfDay: number;
}

// One log.csv row (metrics null when empty, e.g. for a failed poll).
export interface LogRecord extends RecordTime {
  server: string;
  status: string;
  error: string;
  cpuPct: number | null;
  memTotalGb: number | null;
  memUsedGb: number | null;
  memAvailableGb: number | null;
  memPct: number | null;
  swapTotalGb: number | null;
  swapUsedGb: number | null;
  diskWorstMount: string;
  diskWorstPct: number | null;
  diskWorstFreeGb: number | null;
}

// One disks.csv row.
export interface DiskRecord extends RecordTime {
  server: string;
  mount: string;
  fsType: string;
  totalGb: number | null;
  usedGb: number;
  freeGb: number;
  usedPct: number | null;
}

// One processes.csv row.
export interface ProcessRecord extends RecordTime {
  server: string;
  user: string;
  process: string;
  cpuPct: number;
  memMb: number;
}

// One users.csv row.
export interface UserRecord extends RecordTime {
  server: string;
  user: string;
  cpuPct: number;
  memMb: number;
  processes: number | null;
}

// The record type of each source.
export interface RecordOf {
  log: LogRecord;
  disks: DiskRecord;
  processes: ProcessRecord;
  users: UserRecord;
}

// A decoder bound to one file's header. decode() fills and returns the same record object every time
// (the scan handles millions of rows), or returns the reason the row is bad as a string.
export interface RecordDecoder<K extends SourceKind> {
  readonly kind: K;
  /** Highest field index decode() reads. */
  readonly lastField: number;
  /** Header names this source does not know (a column a user added): ignored, but reported. */
  readonly unknownColumns: readonly string[];
  decode(raw: RawRecord): RecordOf[K] | string;
}

// A header that lacks a required column: the file cannot be read at all.
export interface HeaderProblem {
  readonly missing: readonly string[];
}

const FORMULA_ESCAPED = /^'[=+\-@\t\r]/;
const TEXT_CACHE_LIMIT = 100_000;
const DIGIT_0 = 48;
const DOT = 46;
const COMMA = 44;
const QUOTE_MARK = 39;

// Builds the decoder for a header, or says which required columns it lacks.
export function decoderFor<K extends SourceKind>(kind: K, header: readonly string[]): RecordDecoder<K> | HeaderProblem {
  const index = new Map<string, number>();
  header.forEach((name, i) => {
    if (!index.has(name)) index.set(name, i);
  });
  const missing = REQUIRED[kind].filter((name) => !index.has(name));
  if (missing.length > 0) return { missing };
  const known = new Set(ALL_COLUMNS[kind]);
  const unknownColumns = header.filter((name) => !known.has(name));
  const used = ALL_COLUMNS[kind].map((name) => index.get(name) ?? -1);
  const lastField = Math.max(...used);
  const at = (name: string): number => index.get(name) ?? -1;
  const cells = new Cells(header.length);
  const decoders: { [S in SourceKind]: () => RecordDecoder<S>['decode'] } = {
    log: () => logDecoder(cells, at),
    disks: () => diskDecoder(cells, at),
    processes: () => processDecoder(cells, at),
    users: () => userDecoder(cells, at),
  };
  const decode = decoders[kind]() as RecordDecoder<K>['decode'];
  return { kind, lastField, unknownColumns, decode };
}

// Cell readers over one raw record: a bad cell records its reason and yields a neutral value.
class Cells {
  problem: string | null = null;
  private text = '';
  private starts: Int32Array = new Int32Array(0);
  private ends: Int32Array = new Int32Array(0);
  private readonly texts = new Map<string, string>();
  private lastDay = '';

  constructor(readonly columnCount: number) {}

  begin(raw: RawRecord): boolean {
    this.text = raw.text;
    this.starts = raw.starts;
    this.ends = raw.ends;
    this.problem = raw.fieldCount === this.columnCount ? null : `has ${raw.fieldCount} cells, the header has ${this.columnCount}`;
    return this.problem === null;
  }

  private raw(index: number): string {
    return this.text.slice(this.starts[index], this.ends[index]);
  }

  private fail(problem: string): void {
    if (this.problem === null) this.problem = problem;
  }

  /** Whether the cell is exactly `value` (ASCII), without making a string. */
  equals(index: number, value: string): boolean {
    const start = this.starts[index] ?? 0;
    return index >= 0 && (this.ends[index] ?? 0) - start === value.length && this.text.startsWith(value, start);
  }

  /** The cell as display text: UTF-8, without the apostrophe that neutralised a formula. Cached: hosts repeat. */
  textAt(index: number): string {
    if (index < 0 || this.starts[index] === this.ends[index]) return '';
    const raw = this.raw(index);
    let value = this.texts.get(raw);
    if (value === undefined) {
      value = utf8Text(raw);
      if (value.charCodeAt(0) === QUOTE_MARK && FORMULA_ESCAPED.test(value)) value = value.slice(1);
      if (this.texts.size >= TEXT_CACHE_LIMIT) this.texts.clear();
      // The key too must not be a slice of the chunk.
      this.texts.set(Buffer.from(raw, 'latin1').toString('latin1'), value);
    }
    return value;
  }

  /** Text that must be present. */
  requiredText(index: number, name: string): string {
    const value = this.textAt(index);
    if (value === '') this.fail(`${name} is empty`);
    return value;
  }

  /** A number ≥ 0 (and ≤ max), null when the cell is empty; a decimal comma is accepted (the ';' dialect). */
  number(index: number, name: string, max = Infinity): number | null {
    if (index < 0) return null;
    const start = this.starts[index] ?? 0;
    const end = this.ends[index] ?? 0;
    if (start === end) return null;
    let value = parseDecimal(this.text, start, end);
    if (Number.isNaN(value)) value = parseOther(this.raw(index));
    if (Number.isNaN(value) || value > max) {
      this.fail(`${name} ${JSON.stringify(utf8Text(this.raw(index)).slice(0, 40))} is not a number${max < Infinity ? ` from 0 to ${max}` : ' ≥ 0'}`);
      return null;
    }
    return value;
  }

  requiredNumber(index: number, name: string, max = Infinity): number {
    const value = this.number(index, name, max);
    if (value === null) {
      this.fail(`${name} is empty`);
      return 0;
    }
    return value;
  }

  /** `YYYY-MM-DD HH:MM:SS` (or without seconds, or with a T) into the record. */
  time(index: number, into: RecordTime): void {
    const start = index < 0 ? 0 : (this.starts[index] ?? 0);
    const length = index < 0 ? 0 : (this.ends[index] ?? 0) - start;
    const text = this.text;
    // Rows come day by day: validate a day once, then only the time of day.
    let day = this.lastDay;
    if (day === '' || !text.startsWith(day, start)) {
      const candidate = text.slice(start, start + 10);
      day = validDay(candidate) ? candidate : '';
      if (day !== '') this.lastDay = day;
    }
    const seconds = day === '' ? -1 : secondsOfDay(text, start + 10, length - 10);
    if (seconds < 0) {
      this.fail(`time ${JSON.stringify(utf8Text(text.slice(start, start + length)).slice(0, 40))} is not YYYY-MM-DD HH:MM:SS`);
      return;
    }
    into.day = day;
    into.secondOfDay = seconds;
  }
}

// Digits with an optional fraction, parsed in place; NaN for anything else (see parseOther).
function parseDecimal(text: string, start: number, end: number): number {
  let i = start;
  let whole = 0;
  for (; i < end; i += 1) {
    const d = text.charCodeAt(i) - DIGIT_0;
    if (d < 0 || d > 9) break;
    whole = whole * 10 + d;
  }
  if (i === start) return NaN;
  if (i === end) return whole;
  const separator = text.charCodeAt(i);
  if (separator !== DOT && separator !== COMMA) return NaN;
  i += 1;
  let fraction = 0;
  let scale = 1;
  for (; i < end; i += 1) {
    const d = text.charCodeAt(i) - DIGIT_0;
    if (d < 0 || d > 9) return NaN;
    fraction = fraction * 10 + d;
    scale *= 10;
  }
  if (scale === 1 || scale > 1e15) return NaN;
  // One correctly rounded division, like parseFloat, while the integer stays exact.
  const scaled = whole * scale + fraction;
  return scaled < Number.MAX_SAFE_INTEGER ? scaled / scale : whole + fraction / scale;
}

// The rare number a spreadsheet may write instead (an exponent); Number() alone would also take ' 1',
// '0x1f' and 'Infinity', so the shape is checked first.
function parseOther(raw: string): number {
  const normal = raw.replace(',', '.');
  return /^\d+(\.\d+)?[eE][+-]?\d+$/.test(normal) ? Number(normal) : NaN;
}

// Whether `YYYY-MM-DD` is a real calendar day.
function validDay(text: string): boolean {
  if (text.length !== 10 || text[4] !== '-' || text[7] !== '-') return false;
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  return year >= 1970 && month >= 1 && month <= 12 && day >= 1 && day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}

// ` HH:MM:SS` or ` HH:MM` (or with T) at `start` -> seconds, or -1.
function secondsOfDay(text: string, start: number, length: number): number {
  if (length !== 9 && length !== 6) return -1;
  const t = text.charCodeAt(start);
  if ((t !== 32 && t !== 84) || text.charCodeAt(start + 3) !== 58) return -1;
  const hour = digits(text, start + 1, 2);
  const minute = digits(text, start + 4, 2);
  let second = 0;
  if (length === 9) {
    if (text.charCodeAt(start + 6) !== 58) return -1;
    second = digits(text, start + 7, 2);
  }
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return -1;
  return hour * 3600 + minute * 60 + second;
}

function digits(text: string, from: number, count: number): number {
  let value = 0;
  for (let i = from; i < from + count; i += 1) {
    const d = text.charCodeAt(i) - DIGIT_0;
    if (d < 0 || d > 9) return -1;
    value = value * 10 + d;
  }
  return value;
}

// Seconds since midnight of a UTC time cell, or -1 when it is not one.
export function parseTime(text: string): number {
  return validDay(text.slice(0, 10)) ? secondsOfDay(text, 10, text.length - 10) : -1;
}

function logDecoder(c: Cells, at: (name: string) => number): RecordDecoder<'log'>['decode'] {
  const col = {
    time: at('time'),
    server: at('server'),
    status: at('status'),
    error: at('error'),
    cpu: at('cpu_pct'),
    memTotal: at('mem_total_gb'),
    memUsed: at('mem_used_gb'),
    memAvailable: at('mem_available_gb'),
    memPct: at('mem_pct'),
    swapTotal: at('swap_total_gb'),
    swapUsed: at('swap_used_gb'),
    worstMount: at('disk_worst_mount'),
    worstPct: at('disk_worst_pct'),
    worstFree: at('disk_worst_free_gb'),
  };
  const rec: LogRecord = {
    day: '',
    secondOfDay: 0,
    server: '',
    status: '',
    error: '',
    cpuPct: null,
    memTotalGb: null,
    memUsedGb: null,
    memAvailableGb: null,
    memPct: null,
    swapTotalGb: null,
    swapUsedGb: null,
    diskWorstMount: '',
    diskWorstPct: null,
    diskWorstFreeGb: null,
  };
  return (raw) => {
    if (!c.begin(raw)) return c.problem as string;
    c.time(col.time, rec);
    rec.server = c.requiredText(col.server, 'server');
    rec.status = c.equals(col.status, 'ok') ? 'ok' : c.requiredText(col.status, 'status');
    if (rec.status !== 'ok' && rec.status !== '' && !/^[a-z_]{2,40}$/.test(rec.status) && c.problem === null) {
      c.problem = `status ${JSON.stringify(rec.status.slice(0, 40))} is not a poll status`;
    }
    rec.error = rec.status === 'ok' ? '' : c.textAt(col.error);
    rec.cpuPct = c.number(col.cpu, 'cpu_pct', 100);
    rec.memTotalGb = c.number(col.memTotal, 'mem_total_gb');
    rec.memUsedGb = c.number(col.memUsed, 'mem_used_gb');
    rec.memAvailableGb = c.number(col.memAvailable, 'mem_available_gb');
    rec.memPct = c.number(col.memPct, 'mem_pct', 100);
    rec.swapTotalGb = c.number(col.swapTotal, 'swap_total_gb');
    rec.swapUsedGb = c.number(col.swapUsed, 'swap_used_gb');
    rec.diskWorstMount = c.textAt(col.worstMount);
    rec.diskWorstPct = c.number(col.worstPct, 'disk_worst_pct', 100);
    rec.diskWorstFreeGb = c.number(col.worstFree, 'disk_worst_free_gb');
    return c.problem ?? rec;
  };
}

function diskDecoder(c: Cells, at: (name: string) => number): RecordDecoder<'disks'>['decode'] {
  const col = {
    time: at('time'),
    server: at('server'),
    mount: at('mount'),
    fsType: at('fstype'),
    total: at('total_gb'),
    used: at('used_gb'),
    free: at('free_gb'),
    usedPct: at('used_pct'),
  };
  const rec: DiskRecord = { day: '', secondOfDay: 0, server: '', mount: '', fsType: '', totalGb: null, usedGb: 0, freeGb: 0, usedPct: null };
  return (raw) => {
    if (!c.begin(raw)) return c.problem as string;
    c.time(col.time, rec);
    rec.server = c.requiredText(col.server, 'server');
    rec.mount = c.requiredText(col.mount, 'mount');
    rec.fsType = c.textAt(col.fsType);
    rec.totalGb = c.number(col.total, 'total_gb');
    rec.usedGb = c.requiredNumber(col.used, 'used_gb');
    rec.freeGb = c.requiredNumber(col.free, 'free_gb');
    rec.usedPct = c.number(col.usedPct, 'used_pct', 100);
    return c.problem ?? rec;
  };
}

function processDecoder(c: Cells, at: (name: string) => number): RecordDecoder<'processes'>['decode'] {
  const col = { time: at('time'), server: at('server'), user: at('user'), process: at('process'), cpu: at('cpu_pct'), mem: at('mem_mb') };
  const rec: ProcessRecord = { day: '', secondOfDay: 0, server: '', user: '', process: '', cpuPct: 0, memMb: 0 };
  return (raw) => {
    if (!c.begin(raw)) return c.problem as string;
    c.time(col.time, rec);
    rec.server = c.requiredText(col.server, 'server');
    rec.user = c.textAt(col.user);
    rec.process = c.requiredText(col.process, 'process');
    rec.cpuPct = c.requiredNumber(col.cpu, 'cpu_pct');
    rec.memMb = c.requiredNumber(col.mem, 'mem_mb');
    return c.problem ?? rec;
  };
}

function userDecoder(c: Cells, at: (name: string) => number): RecordDecoder<'users'>['decode'] {
  const col = { time: at('time'), server: at('server'), user: at('user'), cpu: at('cpu_pct'), mem: at('mem_mb'), processes: at('processes') };
  const rec: UserRecord = { day: '', secondOfDay: 0, server: '', user: '', cpuPct: 0, memMb: 0, processes: null };
  return (raw) => {
    if (!c.begin(raw)) return c.problem as string;
    c.time(col.time, rec);
    rec.server = c.requiredText(col.server, 'server');
    rec.user = c.requiredText(col.user, 'user');
    rec.cpuPct = c.requiredNumber(col.cpu, 'cpu_pct');
    rec.memMb = c.requiredNumber(col.mem, 'mem_mb');
    rec.processes = c.number(col.processes, 'processes');
    return c.problem ?? rec;
  };
}
