// The daily rollup: per UTC day and server, counts, sums, peaks and least-squares sums of every metric the
// report shows, so a week's report reads a few small files instead of months of raw rows. Pure.
// Maps, not plain objects, hold names that came from hosts ("__proto__" is a valid process name).
import type { DiskRecord, LogRecord, ProcessRecord, SourceKind, UserRecord } from './records.js';

// Bumped when the shape changes; an older file is rebuilt from the raw logs, never misread.
export const ROLLUP_VERSION = 2;

// Bounds per server and day, so a hostile host (a new process name every poll) cannot grow the files without limit.
export const LIMITS = { failures: 20, disks: 64, processes: 300, users: 200, badExamples: 5 } as const;

// Key of the bucket that takes whatever is over a limit.
export const OTHER = '(other)';

// Count, sum and peak of a metric.
export interface Stat {
  n: number;
  sum: number;
  max: number;
}

// Sums for a least-squares line through (t, y), t in days since midnight; combinable across days (see forecast.ts).
export interface Trend {
  n: number;
  t: number;
  tt: number;
  y: number;
  ty: number;
}

// The log.csv part of a server's day.
export interface LogDay {
  polls: number;
  ok: number;
  /** `status: error` -> polls. */
  failures: Map<string, number>;
  cpuPct: Stat;
  memPct: Stat;
  memTotalGb: Stat;
  memUsedGb: Stat;
  memAvailableGb: Stat;
  swapTotalGb: Stat;
  swapUsedGb: Stat;
  memTrend: Trend;
  /** The day's last memory reading (its second of day): capacity for the forecast. */
  memLast: { s: number; totalGb: number; usedGb: number } | null;
  /** The day's last fullest-filesystem reading, for hosts without disks.csv rows. */
  worstLast: { s: number; mount: string; pct: number; freeGb: number | null } | null;
  lastOkS: number;
}

// One filesystem's day (disks.csv).
export interface DiskDay {
  fsType: string;
  totalGb: Stat;
  usedGb: Stat;
  freeGb: Stat;
  usedPct: Stat;
  trend: Trend;
  last: { s: number; totalGb: number | null; usedGb: number; freeGb: number; usedPct: number | null };
}

// One process name and user's day on a server (processes.csv).
export interface ProcessDay {
  process: string;
  user: string;
  n: number;
  cpuSum: number;
  cpuMax: number;
  memMbSum: number;
  memMbMax: number;
}

// One user's day on a server (users.csv).
export interface UserDay {
  n: number;
  cpuSum: number;
  cpuMax: number;
  memMbSum: number;
  memMbMax: number;
  processesMax: number;
}

// Everything known about one server on one day.
export interface ServerDay {
  log: LogDay | null;
  disks: Map<string, DiskDay>;
  processes: Map<string, ProcessDay>;
  users: Map<string, UserDay>;
}

// Rows of a source that could not be read, with a few examples for the report.
export interface BadRows {
  count: number;
  examples: string[];
}

// One UTC day of the whole fleet.
export interface DayRollup {
  readonly day: string;
  servers: Map<string, ServerDay>;
  bad: Map<SourceKind, BadRows>;
}

// An empty day.
export function emptyDay(day: string): DayRollup {
  return { day, servers: new Map(), bad: new Map() };
}

function stat(): Stat {
  return { n: 0, sum: 0, max: 0 };
}

function trend(): Trend {
  return { n: 0, t: 0, tt: 0, y: 0, ty: 0 };
}

function addStat(s: Stat, value: number | null): void {
  if (value === null) return;
  if (s.n === 0 || value > s.max) s.max = value;
  s.n += 1;
  s.sum += value;
}

function addTrend(tr: Trend, secondOfDay: number, y: number): void {
  const t = secondOfDay / 86_400;
  tr.n += 1;
  tr.t += t;
  tr.tt += t * t;
  tr.y += y;
  tr.ty += t * y;
}

function server(day: DayRollup, name: string): ServerDay {
  let s = day.servers.get(name);
  if (s === undefined) {
    s = { log: null, disks: new Map(), processes: new Map(), users: new Map() };
    day.servers.set(name, s);
  }
  return s;
}

function emptyLogDay(): LogDay {
  return {
    polls: 0,
    ok: 0,
    failures: new Map(),
    cpuPct: stat(),
    memPct: stat(),
    memTotalGb: stat(),
    memUsedGb: stat(),
    memAvailableGb: stat(),
    swapTotalGb: stat(),
    swapUsedGb: stat(),
    memTrend: trend(),
    memLast: null,
    worstLast: null,
    lastOkS: -1,
  };
}

// Adds to a bounded map: past `limit` keys, new keys share the OTHER bucket.
function boundedKey<V>(map: Map<string, V>, key: string, limit: number): string {
  return map.has(key) || map.size < limit - 1 ? key : OTHER;
}

// Adds one log.csv row.
export function addLog(day: DayRollup, r: LogRecord): void {
  const s = server(day, r.server);
  const d = (s.log ??= emptyLogDay());
  d.polls += 1;
  if (r.status !== 'ok') {
    const reason = r.error === '' ? r.status : `${r.status}: ${r.error.slice(0, 200)}`;
    const key = boundedKey(d.failures, reason, LIMITS.failures);
    d.failures.set(key, (d.failures.get(key) ?? 0) + 1);
    return;
  }
  d.ok += 1;
  addStat(d.cpuPct, r.cpuPct);
  addStat(d.memPct, r.memPct);
  addStat(d.memTotalGb, r.memTotalGb);
  addStat(d.memUsedGb, r.memUsedGb);
  addStat(d.memAvailableGb, r.memAvailableGb);
  addStat(d.swapTotalGb, r.swapTotalGb);
  addStat(d.swapUsedGb, r.swapUsedGb);
  if (r.memUsedGb !== null) addTrend(d.memTrend, r.secondOfDay, r.memUsedGb);
  // Rows come in time order, but a rebuild may meet an archive out of order: keep the latest, not the last read.
  // Updated in place: this runs for every row of a rebuild.
  if (r.memUsedGb !== null && r.memTotalGb !== null && r.secondOfDay >= (d.memLast?.s ?? -1)) {
    if (d.memLast === null) d.memLast = { s: 0, totalGb: 0, usedGb: 0 };
    d.memLast.s = r.secondOfDay;
    d.memLast.totalGb = r.memTotalGb;
    d.memLast.usedGb = r.memUsedGb;
  }
  if (r.diskWorstPct !== null && r.secondOfDay >= (d.worstLast?.s ?? -1)) {
    if (d.worstLast === null) d.worstLast = { s: 0, mount: '', pct: 0, freeGb: null };
    d.worstLast.s = r.secondOfDay;
    d.worstLast.mount = r.diskWorstMount;
    d.worstLast.pct = r.diskWorstPct;
    d.worstLast.freeGb = r.diskWorstFreeGb;
  }
  if (r.secondOfDay > d.lastOkS) d.lastOkS = r.secondOfDay;
}

// Adds one disks.csv row.
export function addDisk(day: DayRollup, r: DiskRecord): void {
  const s = server(day, r.server);
  const key = boundedKey(s.disks, r.mount, LIMITS.disks);
  let d = s.disks.get(key);
  if (d === undefined) {
    d = {
      fsType: r.fsType,
      totalGb: stat(),
      usedGb: stat(),
      freeGb: stat(),
      usedPct: stat(),
      trend: trend(),
      last: { s: -1, totalGb: null, usedGb: 0, freeGb: 0, usedPct: null },
    };
    s.disks.set(key, d);
  }
  addStat(d.totalGb, r.totalGb);
  addStat(d.usedGb, r.usedGb);
  addStat(d.freeGb, r.freeGb);
  addStat(d.usedPct, r.usedPct);
  addTrend(d.trend, r.secondOfDay, r.usedGb);
  if (r.secondOfDay >= d.last.s) {
    d.last.s = r.secondOfDay;
    d.last.totalGb = r.totalGb;
    d.last.usedGb = r.usedGb;
    d.last.freeGb = r.freeGb;
    d.last.usedPct = r.usedPct;
    if (r.fsType !== '') d.fsType = r.fsType;
  }
}

// Adds one processes.csv row (keyed by process name and user: pids change, the application does not).
export function addProcess(day: DayRollup, r: ProcessRecord): void {
  const s = server(day, r.server);
  // processKey, as a reload uses: a process a host calls "(other)" cannot get an entry of its own
  // here and then collide with the overflow bucket when the day file is read back.
  const key = boundedKey(s.processes, processKey(r.process, r.user), LIMITS.processes);
  let p = s.processes.get(key);
  if (p === undefined) {
    p = key === OTHER
      ? { process: OTHER, user: '', n: 0, cpuSum: 0, cpuMax: 0, memMbSum: 0, memMbMax: 0 }
      : { process: r.process, user: r.user, n: 0, cpuSum: 0, cpuMax: 0, memMbSum: 0, memMbMax: 0 };
    s.processes.set(key, p);
  }
  p.n += 1;
  p.cpuSum += r.cpuPct;
  p.memMbSum += r.memMb;
  if (r.cpuPct > p.cpuMax) p.cpuMax = r.cpuPct;
  if (r.memMb > p.memMbMax) p.memMbMax = r.memMb;
}

// Adds one users.csv row.
export function addUser(day: DayRollup, r: UserRecord): void {
  const s = server(day, r.server);
  const key = boundedKey(s.users, r.user, LIMITS.users);
  let u = s.users.get(key);
  if (u === undefined) {
    u = { n: 0, cpuSum: 0, cpuMax: 0, memMbSum: 0, memMbMax: 0, processesMax: 0 };
    s.users.set(key, u);
  }
  u.n += 1;
  u.cpuSum += r.cpuPct;
  u.memMbSum += r.memMb;
  if (r.cpuPct > u.cpuMax) u.cpuMax = r.cpuPct;
  if (r.memMb > u.memMbMax) u.memMbMax = r.memMb;
  if (r.processes !== null && r.processes > u.processesMax) u.processesMax = r.processes;
}

// Counts a row of `source` that could not be read; `example` says where and why.
export function addBad(day: DayRollup, source: SourceKind, example: string): void {
  let b = day.bad.get(source);
  if (b === undefined) {
    b = { count: 0, examples: [] };
    day.bad.set(source, b);
  }
  b.count += 1;
  if (b.examples.length < LIMITS.badExamples) b.examples.push(example.slice(0, 300));
}

// Forgets everything one source contributed to a day (before that source is re-read).
export function clearSource(day: DayRollup, source: SourceKind): void {
  day.bad.delete(source);
  for (const s of day.servers.values()) {
    if (source === 'log') s.log = null;
    else if (source === 'disks') s.disks.clear();
    else if (source === 'processes') s.processes.clear();
    else s.users.clear();
  }
}

// Sums keep 10 significant digits in the file: far more than the 1-2 decimals of the CSV cells (and than
// the cancellation in a day's least-squares sums costs), while short numbers make the files smaller and
// faster to parse (a report reads a week of them).
function round(value: number): number {
  return Number.isInteger(value) ? value : Number(value.toPrecision(10));
}

// The day file is columnar: per table (log, disks, processes, users) one array of server indexes, one of
// texts and one of numbers, a fixed count per entry. A report reads a week of these for the whole fleet:
// JSON.parse takes a few long number arrays about twice as fast as thousands of small nested ones and
// leaves almost no garbage, and the report folds the columns as they are (aggregate.ts) instead of first
// building the Maps a sync needs. A nullable number is written as -1 (no such field is ever negative).
export const DAY_FORMAT = 'fleetpoll-rollup-day';

/** Where each field of a log entry starts; a stat is n, sum, max; a trend n, Σt, Σt², Σy, Σty. */
export const LOG_NUM = {
  polls: 0,
  ok: 1,
  lastOkS: 2,
  cpuPct: 3,
  memPct: 6,
  memTotalGb: 9,
  memUsedGb: 12,
  memAvailableGb: 15,
  swapTotalGb: 18,
  swapUsedGb: 21,
  memTrend: 24,
  /** s (-1: none), totalGb, usedGb. */
  memLast: 29,
  /** s (-1: none), pct, freeGb (-1: unknown). */
  worstLast: 32,
  size: 35,
} as const;
/** Texts of a log entry: the worst mount of worstLast. */
export const LOG_TEXT = 1;

/** A filesystem entry: four stats, the trend of used GB, and the last reading: s, totalGb (-1: unknown), usedGb, freeGb, usedPct (-1: unknown). */
export const DISK_NUM = { totalGb: 0, usedGb: 3, freeGb: 6, usedPct: 9, trend: 12, last: 17, size: 22 } as const;
/** Texts of a filesystem entry: mount, fsType. */
export const DISK_TEXT = 2;

/** A process entry; its first five fields are laid out as a user entry's (aggregate.ts relies on it). */
export const PROCESS_NUM = { n: 0, cpuSum: 1, cpuMax: 2, memMbSum: 3, memMbMax: 4, size: 5 } as const;
/** Texts of a process entry: process, user. */
export const PROCESS_TEXT = 2;

export const USER_NUM = { n: 0, cpuSum: 1, cpuMax: 2, memMbSum: 3, memMbMax: 4, processesMax: 5, size: 6 } as const;
/** Texts of a user entry: user. */
export const USER_TEXT = 1;

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

const LOG_STATS = ['cpuPct', 'memPct', 'memTotalGb', 'memUsedGb', 'memAvailableGb', 'swapTotalGb', 'swapUsedGb'] as const;
const DISK_STATS = ['totalGb', 'usedGb', 'freeGb', 'usedPct'] as const;

interface TableBuilder {
  server: number[];
  text: string[];
  num: number[];
}

const tableBuilder = (): TableBuilder => ({ server: [], text: [], num: [] });

function pushStat(num: number[], s: Stat): void {
  num.push(s.n, round(s.sum), s.max);
}

function pushTrend(num: number[], t: Trend): void {
  num.push(t.n, round(t.t), round(t.tt), round(t.y), round(t.ty));
}

function pushLog(num: number[], d: LogDay): void {
  num.push(d.polls, d.ok, d.lastOkS);
  for (const key of LOG_STATS) pushStat(num, d[key]);
  pushTrend(num, d.memTrend);
  if (d.memLast === null) num.push(-1, 0, 0);
  else num.push(d.memLast.s, d.memLast.totalGb, d.memLast.usedGb);
  if (d.worstLast === null) num.push(-1, 0, -1);
  else num.push(d.worstLast.s, d.worstLast.pct, d.worstLast.freeGb ?? -1);
}

function pushDisk(num: number[], d: DiskDay): void {
  for (const key of DISK_STATS) pushStat(num, d[key]);
  pushTrend(num, d.trend);
  const last = d.last;
  num.push(last.s, last.totalGb ?? -1, last.usedGb, last.freeGb, last.usedPct ?? -1);
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
      const entry = log.server.push(index) - 1;
      log.text.push(s.log.worstLast?.mount ?? '');
      pushLog(log.num, s.log);
      for (const [reason, count] of s.log.failures) failures.push([entry, reason, count]);
    }
    for (const [mount, d] of s.disks) {
      disks.server.push(index);
      disks.text.push(mount, d.fsType);
      pushDisk(disks.num, d);
    }
    for (const p of s.processes.values()) {
      processes.server.push(index);
      processes.text.push(p.process, p.user);
      processes.num.push(p.n, round(p.cpuSum), p.cpuMax, round(p.memMbSum), p.memMbMax);
    }
    for (const [user, u] of s.users) {
      users.server.push(index);
      users.text.push(user);
      users.num.push(u.n, round(u.cpuSum), u.cpuMax, round(u.memMbSum), u.memMbMax, u.processesMax);
    }
  }
  return { format: DAY_FORMAT, version: ROLLUP_VERSION, day: day.day, servers, log, failures, disks, processes, users, bad: [...day.bad] };
}

// The JSON text of a day file.
export function dayToJson(day: DayRollup): string {
  return JSON.stringify(dayData(day));
}

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
    isTable(data.log, servers.length, LOG_NUM.size, LOG_TEXT) &&
    isTable(data.disks, servers.length, DISK_NUM.size, DISK_TEXT) &&
    isTable(data.processes, servers.length, PROCESS_NUM.size, PROCESS_TEXT) &&
    isTable(data.users, servers.length, USER_NUM.size, USER_TEXT) &&
    Array.isArray(data.failures) &&
    data.failures.every((f) => Array.isArray(f) && Number.isInteger(f[0]) && f[0] >= 0 && f[0] < (data.log as DayTable).server.length) &&
    Array.isArray(data.bad);
  if (!ok) throw new Error('malformed rollup day');
  return data as DayData;
}

const statAt = (num: readonly number[], at: number): Stat => ({ n: num[at] as number, sum: num[at + 1] as number, max: num[at + 2] as number });
/** The trend sums stored from `at`. */
export const trendAt = (num: readonly number[], at: number): Trend => ({ n: num[at] as number, t: num[at + 1] as number, tt: num[at + 2] as number, y: num[at + 3] as number, ty: num[at + 4] as number });
/** A nullable number as the file stores it (-1: absent). */
export const orNull = (value: number): number | null => (value < 0 ? null : value);

/** A filesystem's last reading stored from `at` (DISK_NUM.last of an entry). */
export function diskLastAt(num: readonly number[], at: number): DiskDay['last'] {
  return { s: num[at] as number, totalGb: orNull(num[at + 1] as number), usedGb: num[at + 2] as number, freeGb: num[at + 3] as number, usedPct: orNull(num[at + 4] as number) };
}

/** The key of a process entry in a server's map: one per process name and user, all overflow in OTHER. */
export function processKey(process: string, user: string): string {
  return process === OTHER ? OTHER : `${process}\u0000${user}`;
}

function logDayAt(num: readonly number[], b: number, worstMount: string): LogDay {
  const memS = num[b + LOG_NUM.memLast] as number;
  const worstS = num[b + LOG_NUM.worstLast] as number;
  return {
    polls: num[b + LOG_NUM.polls] as number,
    ok: num[b + LOG_NUM.ok] as number,
    lastOkS: num[b + LOG_NUM.lastOkS] as number,
    failures: new Map(),
    cpuPct: statAt(num, b + LOG_NUM.cpuPct),
    memPct: statAt(num, b + LOG_NUM.memPct),
    memTotalGb: statAt(num, b + LOG_NUM.memTotalGb),
    memUsedGb: statAt(num, b + LOG_NUM.memUsedGb),
    memAvailableGb: statAt(num, b + LOG_NUM.memAvailableGb),
    swapTotalGb: statAt(num, b + LOG_NUM.swapTotalGb),
    swapUsedGb: statAt(num, b + LOG_NUM.swapUsedGb),
    memTrend: trendAt(num, b + LOG_NUM.memTrend),
    memLast: memS < 0 ? null : { s: memS, totalGb: num[b + LOG_NUM.memLast + 1] as number, usedGb: num[b + LOG_NUM.memLast + 2] as number },
    worstLast: worstS < 0 ? null : { s: worstS, mount: worstMount, pct: num[b + LOG_NUM.worstLast + 1] as number, freeGb: orNull(num[b + LOG_NUM.worstLast + 2] as number) },
  };
}

function diskDayAt(num: readonly number[], b: number, fsType: string): DiskDay {
  return {
    fsType,
    totalGb: statAt(num, b + DISK_NUM.totalGb),
    usedGb: statAt(num, b + DISK_NUM.usedGb),
    freeGb: statAt(num, b + DISK_NUM.freeGb),
    usedPct: statAt(num, b + DISK_NUM.usedPct),
    trend: trendAt(num, b + DISK_NUM.trend),
    last: diskLastAt(num, b + DISK_NUM.last),
  };
}

// A checked day file back in the form a sync adds rows to.
export function dayFromData(data: DayData): DayRollup {
  const day = emptyDay(data.day);
  const servers = data.servers.map((name) => server(day, name));
  const at = (table: DayTable, e: number): ServerDay => servers[table.server[e] as number] as ServerDay;
  const { log, disks, processes, users } = data;
  const logDays: LogDay[] = [];
  for (let e = 0; e < log.server.length; e += 1) {
    const d = logDayAt(log.num, e * LOG_NUM.size, log.text[e] as string);
    at(log, e).log = d;
    logDays.push(d);
  }
  for (const [entry, reason, count] of data.failures) (logDays[entry] as LogDay).failures.set(reason, count);
  for (let e = 0; e < disks.server.length; e += 1) {
    at(disks, e).disks.set(disks.text[e * DISK_TEXT] as string, diskDayAt(disks.num, e * DISK_NUM.size, disks.text[e * DISK_TEXT + 1] as string));
  }
  for (let e = 0; e < processes.server.length; e += 1) {
    const process = processes.text[e * PROCESS_TEXT] as string;
    const user = processes.text[e * PROCESS_TEXT + 1] as string;
    const b = e * PROCESS_NUM.size;
    const n = processes.num;
    at(processes, e).processes.set(processKey(process, user), {
      process,
      user,
      n: n[b + PROCESS_NUM.n] as number,
      cpuSum: n[b + PROCESS_NUM.cpuSum] as number,
      cpuMax: n[b + PROCESS_NUM.cpuMax] as number,
      memMbSum: n[b + PROCESS_NUM.memMbSum] as number,
      memMbMax: n[b + PROCESS_NUM.memMbMax] as number,
    });
  }
  for (let e = 0; e < users.server.length; e += 1) {
    const b = e * USER_NUM.size;
    const n = users.num;
    at(users, e).users.set(users.text[e] as string, {
      n: n[b + USER_NUM.n] as number,
      cpuSum: n[b + USER_NUM.cpuSum] as number,
      cpuMax: n[b + USER_NUM.cpuMax] as number,
      memMbSum: n[b + USER_NUM.memMbSum] as number,
      memMbMax: n[b + USER_NUM.memMbMax] as number,
      processesMax: n[b + USER_NUM.processesMax] as number,
    });
  }
  for (const [source, bad] of data.bad) day.bad.set(source, { count: bad.count, examples: [...bad.examples] });
  return day;
}
