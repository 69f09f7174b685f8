// The rollup's day file: how one DayRollup (rollup.ts) is written, checked and read back, and named
// reads of its entries for the report (aggregate.ts). Pure; rollup-store.ts does the file I/O.
//
// The file is columnar: per table (log, disks, processes, users) one array of server indexes, one of
// texts and one of numbers, a fixed count per entry. A report reads a week of these for the whole fleet:
// JSON.parse takes a few long number arrays about twice as fast as thousands of small nested ones and
// leaves almost no garbage, and the report folds the columns as they are (aggregate.ts) instead of first
// building the Maps a sync needs. A nullable number is written as -1 (no such field is ever negative).
// Where each field sits is declared once, by the layouts below; no other file does offset arithmetic.
import type { SourceKind } from './records.js';
import {
  emptyDay,
  processKey,
  ROLLUP_VERSION,
  serverDay,
  type BadRows,
  type DayRollup,
  type DiskDay,
  type LogDay,
  type ServerDay,
  type Stat,
  type Trend,
} from './rollup.js';

// The `format` field of every day file.
export const DAY_FORMAT = 'fleetpoll-rollup-day';

// Field name -> where it starts within an entry, and `size`, the entry's width.
export type Layout<K extends string> = { readonly [P in K]: number } & { readonly size: number };

// Lays fields out one after another, in the order given, each as wide as given.
function layout<K extends string>(widths: Readonly<Record<K, number>>): Layout<K> {
  const offsets: Record<string, number> = {};
  let size = 0;
  for (const [name, width] of Object.entries(widths) as [string, number][]) {
    offsets[name] = size;
    size += width;
  }
  return Object.freeze({ ...offsets, size }) as Layout<K>;
}

const STAT = layout({ n: 1, sum: 1, max: 1 });
/** Least-squares sums: n, Σt, Σt², Σy, Σty. */
const TREND = layout({ n: 1, t: 1, tt: 1, y: 1, ty: 1 });
/** s -1: no reading. */
const MEM_LAST = layout({ s: 1, totalGb: 1, usedGb: 1 });
/** s -1: no reading; freeGb -1: unknown. */
const WORST_LAST = layout({ s: 1, pct: 1, freeGb: 1 });
/** totalGb and usedPct -1: unknown. */
const DISK_LAST = layout({ s: 1, totalGb: 1, usedGb: 1, freeGb: 1, usedPct: 1 });

const LOG_STATS = ['cpuPct', 'memPct', 'memTotalGb', 'memUsedGb', 'memAvailableGb', 'swapTotalGb', 'swapUsedGb'] as const;
const DISK_STATS = ['totalGb', 'usedGb', 'freeGb', 'usedPct'] as const;
/** The stats of a log entry. */
export type LogStatName = (typeof LOG_STATS)[number];
/** The stats of a filesystem entry. */
export type DiskStatName = (typeof DISK_STATS)[number];

// The numbers process and user entries share, laid out alike in both.
const USAGE = { n: 1, cpuSum: 1, cpuMax: 1, memMbSum: 1, memMbMax: 1 } as const;
/** The numbers a process and a user entry both have. */
export type UsageName = keyof typeof USAGE;

/** A log entry's numbers. */
export const LOG_NUM = layout({
  polls: 1,
  ok: 1,
  lastOkS: 1,
  cpuPct: STAT.size,
  memPct: STAT.size,
  memTotalGb: STAT.size,
  memUsedGb: STAT.size,
  memAvailableGb: STAT.size,
  swapTotalGb: STAT.size,
  swapUsedGb: STAT.size,
  memTrend: TREND.size,
  memLast: MEM_LAST.size,
  worstLast: WORST_LAST.size,
});
/** A log entry's texts: the mount of worstLast. */
export const LOG_TEXT = layout({ worstMount: 1 });

/** A filesystem entry's numbers: four stats, the trend of used GB, and the last reading. */
export const DISK_NUM = layout({
  totalGb: STAT.size,
  usedGb: STAT.size,
  freeGb: STAT.size,
  usedPct: STAT.size,
  trend: TREND.size,
  last: DISK_LAST.size,
});
/** A filesystem entry's texts. */
export const DISK_TEXT = layout({ mount: 1, fsType: 1 });

/** A process entry's numbers. */
export const PROCESS_NUM = layout(USAGE);
/** A process entry's texts. */
export const PROCESS_TEXT = layout({ process: 1, user: 1 });

/** A user entry's numbers. */
export const USER_NUM = layout({ ...USAGE, processesMax: 1 });
/** A user entry's texts. */
export const USER_TEXT = layout({ user: 1 });

// One table of a day file: entry e belongs to servers[server[e]], with texts from e × (texts per entry)
// and numbers from e × (numbers per entry).
export interface DayTable {
  readonly server: readonly number[];
  readonly text: readonly string[];
  readonly num: readonly number[];
}

// A day file as parsed (and checked by parseDay): what a report folds.
export interface DayData {
  readonly format: typeof DAY_FORMAT;
  readonly version: number;
  readonly day: string;
  readonly servers: readonly string[];
  readonly log: DayTable;
  /** [log entry, reason, polls]. */
  readonly failures: readonly (readonly [number, string, number])[];
  readonly disks: DayTable;
  readonly processes: DayTable;
  readonly users: DayTable;
  readonly bad: readonly (readonly [SourceKind, BadRows])[];
}

// ---- writing -------------------------------------------------------------------------------------

// Sums keep 10 significant digits in the file: far more than the 1-2 decimals of the CSV cells (and than
// the cancellation in a day's least-squares sums costs), while short numbers make the files smaller and
// faster to parse (a report reads a week of them).
function round(value: number): number {
  return Number.isInteger(value) ? value : Number(value.toPrecision(10));
}

interface TableBuilder {
  server: number[];
  text: string[];
  num: number[];
}

const tableBuilder = (): TableBuilder => ({ server: [], text: [], num: [] });

// Starts an entry of `server` with its texts and numbers zeroed; returns where its texts and numbers start.
function addEntry(table: TableBuilder, server: number, texts: number, numbers: number): { t: number; b: number } {
  const t = table.text.length;
  const b = table.num.length;
  table.server.push(server);
  for (let i = 0; i < texts; i += 1) table.text.push('');
  for (let i = 0; i < numbers; i += 1) table.num.push(0);
  return { t, b };
}

function putStat(num: number[], at: number, s: Stat): void {
  num[at + STAT.n] = s.n;
  num[at + STAT.sum] = round(s.sum);
  num[at + STAT.max] = s.max;
}

function putTrend(num: number[], at: number, tr: Trend): void {
  num[at + TREND.n] = tr.n;
  num[at + TREND.t] = round(tr.t);
  num[at + TREND.tt] = round(tr.tt);
  num[at + TREND.y] = round(tr.y);
  num[at + TREND.ty] = round(tr.ty);
}

function putLog(table: TableBuilder, server: number, d: LogDay): void {
  const { t, b } = addEntry(table, server, LOG_TEXT.size, LOG_NUM.size);
  const { text, num } = table;
  text[t + LOG_TEXT.worstMount] = d.worstLast?.mount ?? '';
  num[b + LOG_NUM.polls] = d.polls;
  num[b + LOG_NUM.ok] = d.ok;
  num[b + LOG_NUM.lastOkS] = d.lastOkS;
  for (const key of LOG_STATS) putStat(num, b + LOG_NUM[key], d[key]);
  putTrend(num, b + LOG_NUM.memTrend, d.memTrend);
  const m = b + LOG_NUM.memLast;
  num[m + MEM_LAST.s] = d.memLast?.s ?? -1;
  num[m + MEM_LAST.totalGb] = d.memLast?.totalGb ?? 0;
  num[m + MEM_LAST.usedGb] = d.memLast?.usedGb ?? 0;
  const w = b + LOG_NUM.worstLast;
  num[w + WORST_LAST.s] = d.worstLast?.s ?? -1;
  num[w + WORST_LAST.pct] = d.worstLast?.pct ?? 0;
  num[w + WORST_LAST.freeGb] = d.worstLast?.freeGb ?? -1;
}

function putDisk(table: TableBuilder, server: number, mount: string, d: DiskDay): void {
  const { t, b } = addEntry(table, server, DISK_TEXT.size, DISK_NUM.size);
  const { text, num } = table;
  text[t + DISK_TEXT.mount] = mount;
  text[t + DISK_TEXT.fsType] = d.fsType;
  for (const key of DISK_STATS) putStat(num, b + DISK_NUM[key], d[key]);
  putTrend(num, b + DISK_NUM.trend, d.trend);
  const l = b + DISK_NUM.last;
  num[l + DISK_LAST.s] = d.last.s;
  num[l + DISK_LAST.totalGb] = d.last.totalGb ?? -1;
  num[l + DISK_LAST.usedGb] = d.last.usedGb;
  num[l + DISK_LAST.freeGb] = d.last.freeGb;
  num[l + DISK_LAST.usedPct] = d.last.usedPct ?? -1;
}

// The usage numbers of a process or user entry starting at `b` (both layouts agree on them).
function putUsage(num: number[], b: number, u: { n: number; cpuSum: number; cpuMax: number; memMbSum: number; memMbMax: number }): void {
  num[b + PROCESS_NUM.n] = u.n;
  num[b + PROCESS_NUM.cpuSum] = round(u.cpuSum);
  num[b + PROCESS_NUM.cpuMax] = u.cpuMax;
  num[b + PROCESS_NUM.memMbSum] = round(u.memMbSum);
  num[b + PROCESS_NUM.memMbMax] = u.memMbMax;
}

// The day in its file form (sums rounded as the file keeps them).
export function dayData(day: DayRollup): DayData {
  const servers: string[] = [];
  const log = tableBuilder();
  const disks = tableBuilder();
  const processes = tableBuilder();
  const users = tableBuilder();
  const failures: [number, string, number][] = [];
  for (const [name, s] of day.servers) {
    const index = servers.push(name) - 1;
    if (s.log !== null) {
      const entry = log.server.length;
      putLog(log, index, s.log);
      for (const [reason, count] of s.log.failures) failures.push([entry, reason, count]);
    }
    for (const [mount, d] of s.disks) putDisk(disks, index, mount, d);
    for (const p of s.processes.values()) {
      const { t, b } = addEntry(processes, index, PROCESS_TEXT.size, PROCESS_NUM.size);
      processes.text[t + PROCESS_TEXT.process] = p.process;
      processes.text[t + PROCESS_TEXT.user] = p.user;
      putUsage(processes.num, b, p);
    }
    for (const [user, u] of s.users) {
      const { t, b } = addEntry(users, index, USER_TEXT.size, USER_NUM.size);
      users.text[t + USER_TEXT.user] = user;
      putUsage(users.num, b, u);
      users.num[b + USER_NUM.processesMax] = u.processesMax;
    }
  }
  return { format: DAY_FORMAT, version: ROLLUP_VERSION, day: day.day, servers, log, failures, disks, processes, users, bad: [...day.bad] };
}

// The JSON text of a day file.
export function dayToJson(day: DayRollup): string {
  return JSON.stringify(dayData(day));
}

// ---- checking ------------------------------------------------------------------------------------

function isTable(value: unknown, servers: number, numbers: number, texts: number): value is DayTable {
  if (typeof value !== 'object' || value === null) return false;
  const t = value as Partial<DayTable>;
  if (!Array.isArray(t.server) || !Array.isArray(t.text) || !Array.isArray(t.num)) return false;
  const entries = t.server.length;
  if (t.num.length !== entries * numbers || t.text.length !== entries * texts) return false;
  for (let e = 0; e < entries; e += 1) {
    const index = t.server[e];
    if (!Number.isInteger(index) || index < 0 || index >= servers) return false;
  }
  return true;
}

// Parses and checks a day file; throws on anything that is not a day this version wrote (the caller
// rebuilds). After this, every server index and log entry number in it points at something.
export function parseDay(text: string, expectedDay: string): DayData {
  const data = JSON.parse(text) as Partial<DayData>;
  if (data.format !== DAY_FORMAT || data.version !== ROLLUP_VERSION || data.day !== expectedDay) {
    throw new Error(`not a version ${ROLLUP_VERSION} rollup of ${expectedDay}`);
  }
  const servers = data.servers;
  const ok =
    Array.isArray(servers) &&
    new Set(servers).size === servers.length &&
    isTable(data.log, servers.length, LOG_NUM.size, LOG_TEXT.size) &&
    isTable(data.disks, servers.length, DISK_NUM.size, DISK_TEXT.size) &&
    isTable(data.processes, servers.length, PROCESS_NUM.size, PROCESS_TEXT.size) &&
    isTable(data.users, servers.length, USER_NUM.size, USER_TEXT.size) &&
    Array.isArray(data.failures) &&
    data.failures.every((f) => Array.isArray(f) && Number.isInteger(f[0]) && f[0] >= 0 && f[0] < (data.log as DayTable).server.length) &&
    Array.isArray(data.bad);
  if (!ok) throw new Error('malformed rollup day');
  return data as DayData;
}

// ---- reading entries by name (entry e of a table checked by parseDay) ------------------------------

const at = (table: DayTable, size: number, e: number, offset: number): number => table.num[e * size + offset] as number;
const textAt = (table: DayTable, size: number, e: number, offset: number): string => table.text[e * size + offset] as string;
/** A nullable number as the file stores it (-1: absent). */
const orNull = (value: number): number | null => (value < 0 ? null : value);

const statFrom = (num: readonly number[], s: number): Stat => ({ n: num[s + STAT.n] as number, sum: num[s + STAT.sum] as number, max: num[s + STAT.max] as number });
const trendFrom = (num: readonly number[], s: number): Trend => ({
  n: num[s + TREND.n] as number,
  t: num[s + TREND.t] as number,
  tt: num[s + TREND.tt] as number,
  y: num[s + TREND.y] as number,
  ty: num[s + TREND.ty] as number,
});

/** A count of a log entry: polls, ok polls, or the second of day of the last ok poll. */
export function logNumber(log: DayTable, e: number, field: 'polls' | 'ok' | 'lastOkS'): number {
  return at(log, LOG_NUM.size, e, LOG_NUM[field]);
}

/** One of a log entry's stats (n, sum, max). */
export function logStat(log: DayTable, e: number, field: LogStatName): Stat {
  return statFrom(log.num, e * LOG_NUM.size + LOG_NUM[field]);
}

/** The trend of a log entry's used memory. */
export function logMemTrend(log: DayTable, e: number): Trend {
  return trendFrom(log.num, e * LOG_NUM.size + LOG_NUM.memTrend);
}

/** A log entry's last memory reading, null when the day had none. */
export function logMemLast(log: DayTable, e: number): LogDay['memLast'] {
  const m = e * LOG_NUM.size + LOG_NUM.memLast;
  const s = log.num[m + MEM_LAST.s] as number;
  return s < 0 ? null : { s, totalGb: log.num[m + MEM_LAST.totalGb] as number, usedGb: log.num[m + MEM_LAST.usedGb] as number };
}

/** A log entry's last fullest-filesystem reading, null when the day had none. */
export function logWorstLast(log: DayTable, e: number): LogDay['worstLast'] {
  const w = e * LOG_NUM.size + LOG_NUM.worstLast;
  const s = log.num[w + WORST_LAST.s] as number;
  if (s < 0) return null;
  const mount = textAt(log, LOG_TEXT.size, e, LOG_TEXT.worstMount);
  return { s, mount, pct: log.num[w + WORST_LAST.pct] as number, freeGb: orNull(log.num[w + WORST_LAST.freeGb] as number) };
}

/** A filesystem entry's mount point or filesystem type. */
export function diskText(disks: DayTable, e: number, field: 'mount' | 'fsType'): string {
  return textAt(disks, DISK_TEXT.size, e, DISK_TEXT[field]);
}

/** One of a filesystem entry's stats (n, sum, max). */
export function diskStat(disks: DayTable, e: number, field: DiskStatName): Stat {
  return statFrom(disks.num, e * DISK_NUM.size + DISK_NUM[field]);
}

/** The trend of a filesystem entry's used GB. */
export function diskTrend(disks: DayTable, e: number): Trend {
  return trendFrom(disks.num, e * DISK_NUM.size + DISK_NUM.trend);
}

/** A filesystem entry's last reading of the day. */
export function diskLast(disks: DayTable, e: number): DiskDay['last'] {
  const l = e * DISK_NUM.size + DISK_NUM.last;
  const num = disks.num;
  return {
    s: num[l + DISK_LAST.s] as number,
    totalGb: orNull(num[l + DISK_LAST.totalGb] as number),
    usedGb: num[l + DISK_LAST.usedGb] as number,
    freeGb: num[l + DISK_LAST.freeGb] as number,
    usedPct: orNull(num[l + DISK_LAST.usedPct] as number),
  };
}

/** A process entry's process name or user. */
export function processText(processes: DayTable, e: number, field: 'process' | 'user'): string {
  return textAt(processes, PROCESS_TEXT.size, e, PROCESS_TEXT[field]);
}

/** A number of a process entry. */
export function processNumber(processes: DayTable, e: number, field: UsageName): number {
  return at(processes, PROCESS_NUM.size, e, PROCESS_NUM[field]);
}

/** A user entry's user name. */
export function userText(users: DayTable, e: number): string {
  return textAt(users, USER_TEXT.size, e, USER_TEXT.user);
}

/** A number of a user entry. */
export function userNumber(users: DayTable, e: number, field: UsageName | 'processesMax'): number {
  return at(users, USER_NUM.size, e, USER_NUM[field]);
}

function logDayAt(log: DayTable, e: number): LogDay {
  return {
    polls: logNumber(log, e, 'polls'),
    ok: logNumber(log, e, 'ok'),
    lastOkS: logNumber(log, e, 'lastOkS'),
    failures: new Map(),
    cpuPct: logStat(log, e, 'cpuPct'),
    memPct: logStat(log, e, 'memPct'),
    memTotalGb: logStat(log, e, 'memTotalGb'),
    memUsedGb: logStat(log, e, 'memUsedGb'),
    memAvailableGb: logStat(log, e, 'memAvailableGb'),
    swapTotalGb: logStat(log, e, 'swapTotalGb'),
    swapUsedGb: logStat(log, e, 'swapUsedGb'),
    memTrend: logMemTrend(log, e),
    memLast: logMemLast(log, e),
    worstLast: logWorstLast(log, e),
  };
}

function diskDayAt(disks: DayTable, e: number): DiskDay {
  return {
    fsType: diskText(disks, e, 'fsType'),
    totalGb: diskStat(disks, e, 'totalGb'),
    usedGb: diskStat(disks, e, 'usedGb'),
    freeGb: diskStat(disks, e, 'freeGb'),
    usedPct: diskStat(disks, e, 'usedPct'),
    trend: diskTrend(disks, e),
    last: diskLast(disks, e),
  };
}

// A checked day file back in the form a sync adds rows to.
export function dayFromData(data: DayData): DayRollup {
  const day = emptyDay(data.day);
  const servers = data.servers.map((name) => serverDay(day, name));
  const of = (table: DayTable, e: number): ServerDay => servers[table.server[e] as number] as ServerDay;
  const { log, disks, processes, users } = data;
  const logDays: LogDay[] = [];
  for (let e = 0; e < log.server.length; e += 1) {
    const d = logDayAt(log, e);
    of(log, e).log = d;
    logDays.push(d);
  }
  for (const [entry, reason, count] of data.failures) (logDays[entry] as LogDay).failures.set(reason, count);
  for (let e = 0; e < disks.server.length; e += 1) of(disks, e).disks.set(diskText(disks, e, 'mount'), diskDayAt(disks, e));
  for (let e = 0; e < processes.server.length; e += 1) {
    const process = processText(processes, e, 'process');
    const user = processText(processes, e, 'user');
    of(processes, e).processes.set(processKey(process, user), {
      process,
      user,
      n: processNumber(processes, e, 'n'),
      cpuSum: processNumber(processes, e, 'cpuSum'),
      cpuMax: processNumber(processes, e, 'cpuMax'),
      memMbSum: processNumber(processes, e, 'memMbSum'),
      memMbMax: processNumber(processes, e, 'memMbMax'),
    });
  }
  for (let e = 0; e < users.server.length; e += 1) {
    of(users, e).users.set(userText(users, e), {
      n: userNumber(users, e, 'n'),
      cpuSum: userNumber(users, e, 'cpuSum'),
      cpuMax: userNumber(users, e, 'cpuMax'),
      memMbSum: userNumber(users, e, 'memMbSum'),
      memMbMax: userNumber(users, e, 'memMbMax'),
      processesMax: userNumber(users, e, 'processesMax'),
    });
  }
  for (const [source, bad] of data.bad) day.bad.set(source, { count: bad.count, examples: [...bad.examples] });
  return day;
}
