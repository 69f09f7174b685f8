// The daily rollup: per UTC day and server, counts, sums, peaks and least-squares sums of every metric the
// report shows, so a week's report reads a few small files instead of months of raw rows. Pure: rows are
// added here; day-file.ts writes and reads a day, rollup-store.ts keeps the files.
// Maps, not plain objects, hold names that came from hosts ("__proto__" is a valid process name).
import type { DiskRecord, LogRecord, ProcessRecord, SourceKind, UserRecord } from './records.js';

// Bumped when the shape of the rollup's files changes (day-file.ts, the store's manifest); an older file
// is rebuilt from the raw logs, never misread.
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

// The server's part of a day, created empty on first use.
export function serverDay(day: DayRollup, name: string): ServerDay {
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
  const s = serverDay(day, r.server);
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
  const s = serverDay(day, r.server);
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
  const s = serverDay(day, r.server);
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
  const s = serverDay(day, r.server);
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

/** The key of a process entry in a server's map: one per process name and user, all overflow in OTHER. */
export function processKey(process: string, user: string): string {
  return process === OTHER ? OTHER : `${process}\u0000${user}`;
}
