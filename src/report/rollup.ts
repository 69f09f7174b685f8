// The daily rollup: per UTC day and server, counts, sums, peaks and least-squares sums of every metric the
// report shows, so a week's report reads a few small files instead of months of raw rows. Pure.
// Maps, not plain objects, hold names that came from hosts ("__proto__" is a valid process name).
import type { DiskRecord, LogRecord, ProcessRecord, SourceKind, UserRecord } from './records.js';

// Bumped when the shape changes; an older file is rebuilt from the raw logs, never misread.
export const ROLLUP_VERSION = 1;

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
  const key = boundedKey(s.processes, `${r.process}\u0000${r.user}`, LIMITS.processes);
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

type StatJson = [number, number, number];
type TrendJson = [number, number, number, number, number];
const statJson = (s: Stat): StatJson => [s.n, round(s.sum), s.max];
const trendJson = (t: Trend): TrendJson => [t.n, round(t.t), round(t.tt), round(t.y), round(t.ty)];
const statOf = (j: StatJson): Stat => ({ n: j[0], sum: j[1], max: j[2] });
const trendOf = (j: TrendJson): Trend => ({ n: j[0], t: j[1], tt: j[2], y: j[3], ty: j[4] });

// Field order of a log day in the file.
const LOG_STATS = ['cpuPct', 'memPct', 'memTotalGb', 'memUsedGb', 'memAvailableGb', 'swapTotalGb', 'swapUsedGb'] as const;

// A log day as one flat array: arrays of numbers parse much faster than objects.
function logJson(d: LogDay): LogJson {
  return [
    d.polls,
    d.ok,
    d.lastOkS,
    [...d.failures],
    LOG_STATS.map((key) => statJson(d[key])),
    trendJson(d.memTrend),
    d.memLast === null ? null : [d.memLast.s, d.memLast.totalGb, d.memLast.usedGb],
    d.worstLast === null ? null : [d.worstLast.s, d.worstLast.mount, d.worstLast.pct, d.worstLast.freeGb],
  ];
}

// The JSON form of a day: maps as arrays of pairs (which JSON.parse turns back without prototype
// surprises), stats and trends as short arrays.
export function dayToJson(day: DayRollup): string {
  const servers = [...day.servers].map(([name, s]) => [
    name,
    s.log === null ? null : logJson(s.log),
    [...s.disks].map(([mount, d]) => [mount, d.fsType, statJson(d.totalGb), statJson(d.usedGb), statJson(d.freeGb), statJson(d.usedPct), trendJson(d.trend), d.last]),
    [...s.processes.values()].map((p) => [p.process, p.user, p.n, round(p.cpuSum), p.cpuMax, round(p.memMbSum), p.memMbMax]),
    [...s.users].map(([user, u]) => [user, u.n, round(u.cpuSum), u.cpuMax, round(u.memMbSum), u.memMbMax, u.processesMax]),
  ]);
  return JSON.stringify({ format: 'fleetpoll-rollup-day', version: ROLLUP_VERSION, day: day.day, servers, bad: [...day.bad] });
}

type LogJson = [
  polls: number,
  ok: number,
  lastOkS: number,
  failures: [string, number][],
  stats: StatJson[],
  memTrend: TrendJson,
  memLast: [number, number, number] | null,
  worstLast: [number, string, number, number | null] | null,
];
type DiskJson = [string, string, StatJson, StatJson, StatJson, StatJson, TrendJson, DiskDay['last']];
type ServerJson = [string, LogJson | null, DiskJson[], [string, string, number, number, number, number, number][], [string, number, number, number, number, number, number][]];

function logDayOf(log: LogJson): LogDay {
  const stats = log[4];
  const memLast = log[6];
  const worstLast = log[7];
  return {
    polls: log[0],
    ok: log[1],
    lastOkS: log[2],
    failures: new Map(log[3]),
    cpuPct: statOf(stats[0] as StatJson),
    memPct: statOf(stats[1] as StatJson),
    memTotalGb: statOf(stats[2] as StatJson),
    memUsedGb: statOf(stats[3] as StatJson),
    memAvailableGb: statOf(stats[4] as StatJson),
    swapTotalGb: statOf(stats[5] as StatJson),
    swapUsedGb: statOf(stats[6] as StatJson),
    memTrend: trendOf(log[5]),
    memLast: memLast === null ? null : { s: memLast[0], totalGb: memLast[1], usedGb: memLast[2] },
    worstLast: worstLast === null ? null : { s: worstLast[0], mount: worstLast[1], pct: worstLast[2], freeGb: worstLast[3] },
  };
}

// Parses a day file; throws on anything that is not a day this version wrote (the caller rebuilds).
export function dayFromJson(text: string, expectedDay: string): DayRollup {
  const data = JSON.parse(text) as { format?: unknown; version?: unknown; day?: unknown; servers?: ServerJson[]; bad?: [SourceKind, BadRows][] };
  if (data.format !== 'fleetpoll-rollup-day' || data.version !== ROLLUP_VERSION || data.day !== expectedDay) {
    throw new Error(`not a version ${ROLLUP_VERSION} rollup of ${expectedDay}`);
  }
  if (!Array.isArray(data.servers) || !Array.isArray(data.bad)) throw new Error('malformed rollup day');
  const day = emptyDay(expectedDay);
  // Indexed loops, not destructuring: this runs once per server and day of a report, mostly in cold code,
  // where array destructuring (the iterator protocol) costs several times the parse itself.
  const servers = data.servers;
  for (let i = 0; i < servers.length; i += 1) {
    const entry = servers[i] as ServerJson;
    const log = entry[1];
    const disks = new Map<string, DiskDay>();
    for (let k = 0; k < entry[2].length; k += 1) {
      const d = entry[2][k] as DiskJson;
      disks.set(d[0], { fsType: d[1], totalGb: statOf(d[2]), usedGb: statOf(d[3]), freeGb: statOf(d[4]), usedPct: statOf(d[5]), trend: trendOf(d[6]), last: d[7] });
    }
    const processes = new Map<string, ProcessDay>();
    for (let k = 0; k < entry[3].length; k += 1) {
      const p = entry[3][k] as ServerJson[3][number];
      processes.set(p[0] === OTHER ? OTHER : `${p[0]}\u0000${p[1]}`, { process: p[0], user: p[1], n: p[2], cpuSum: p[3], cpuMax: p[4], memMbSum: p[5], memMbMax: p[6] });
    }
    const users = new Map<string, UserDay>();
    for (let k = 0; k < entry[4].length; k += 1) {
      const u = entry[4][k] as ServerJson[4][number];
      users.set(u[0], { n: u[1], cpuSum: u[2], cpuMax: u[3], memMbSum: u[4], memMbMax: u[5], processesMax: u[6] });
    }
    day.servers.set(String(entry[0]), { log: log === null ? null : logDayOf(log), disks, processes, users });
  }
  for (const [source, bad] of data.bad) day.bad.set(source, bad);
  return day;
}
