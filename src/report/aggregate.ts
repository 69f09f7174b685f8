// The rollup days of a window -> everything the report shows: per server and day, the week, the fleet. Pure.
import { compareServerNames } from '../server-names.js';
import { addShifted, emptyTrend, forecastFull, type Forecast } from './forecast.js';
import { SOURCE_FILES, SOURCE_KINDS, type SourceKind } from './records.js';
import {
  diskLast,
  diskStat,
  diskText,
  diskTrend,
  logMemLast,
  logMemTrend,
  logNumber,
  logStat,
  logWorstLast,
  processNumber,
  processText,
  userNumber,
  userText,
  type DayData,
  type DayTable,
  type UsageName,
} from './day-file.js';
import { OTHER, processKey, type DiskDay, type Stat, type Trend } from './rollup.js';

// The report's days: `end` and the days before it, inclusive, UTC.
export interface ReportWindow {
  readonly start: string;
  readonly end: string;
  readonly days: readonly string[];
}

// How much to show and when to warn.
export interface AggregateOptions {
  readonly horizonDays: number;
  /** Rows in each fleet-wide list (busiest, closest to full, ...). */
  readonly top: number;
  /** Processes and users shown per server. */
  readonly topPerServer: number;
}

// One server's day (null values: no sample of that metric that day).
export interface DayRow {
  readonly day: string;
  readonly polls: number;
  readonly ok: number;
  readonly cpuAvg: number | null;
  readonly cpuPeak: number | null;
  readonly memPctAvg: number | null;
  readonly memPctPeak: number | null;
  readonly memTotalGb: number | null;
  readonly memUsedGbAvg: number | null;
  readonly memUsedGbPeak: number | null;
  readonly memAvailableGbAvg: number | null;
  readonly swapTotalGb: number | null;
  readonly swapUsedGbAvg: number | null;
  readonly swapUsedGbPeak: number | null;
}

// One filesystem's day.
export interface DiskDayRow {
  readonly day: string;
  readonly totalGb: number | null;
  readonly usedGbAvg: number | null;
  readonly freeGbAvg: number | null;
  readonly usedPctPeak: number | null;
}

// One filesystem over the window.
export interface DiskReport {
  readonly mount: string;
  readonly fsType: string;
  readonly days: readonly (DiskDayRow | null)[];
  /** The latest reading in the window. */
  readonly last: { readonly totalGb: number | null; readonly usedGb: number; readonly freeGb: number; readonly usedPct: number | null };
  readonly forecast: Forecast;
}

// A process (name and user) over the window.
export interface ProcessRow {
  readonly process: string;
  readonly user: string;
  /** Σ cpu % / the server's ok polls: its average share, absent polls counting as 0 (only top N are logged). */
  readonly cpuAvg: number;
  readonly cpuPeak: number;
  readonly memMbAvg: number;
  readonly memMbPeak: number;
  /** Polls in which it was among the top processes. */
  readonly seen: number;
}

// A user over the window.
export interface UserRow {
  readonly user: string;
  readonly cpuAvg: number;
  readonly cpuPeak: number;
  readonly memMbAvg: number;
  readonly memMbPeak: number;
  readonly processesMax: number;
}

// Everything about one server in the window.
export interface ServerReport {
  readonly name: string;
  readonly polls: number;
  readonly ok: number;
  readonly availabilityPct: number | null;
  readonly failures: readonly { readonly reason: string; readonly count: number }[];
  readonly cpuAvg: number | null;
  readonly cpuPeak: number | null;
  readonly memPctAvg: number | null;
  readonly memPctPeak: number | null;
  readonly days: readonly DayRow[];
  readonly disks: readonly DiskReport[];
  readonly memory: { readonly totalGb: number | null; readonly usedGb: number | null; readonly forecast: Forecast };
  /** The fullest filesystem at the end of the window (disks.csv, else log.csv's disk_worst_*). */
  readonly fullest: { readonly mount: string; readonly usedPct: number; readonly freeGb: number | null; readonly forecast: Forecast | null } | null;
  readonly topCpu: readonly ProcessRow[];
  readonly topMem: readonly ProcessRow[];
  readonly users: readonly UserRow[];
}

// A capacity forecast to flag in the summary.
export interface FlaggedForecast {
  readonly server: string;
  /** A mount point, or 'memory'. */
  readonly what: string;
  readonly days: number;
  readonly usedGb: number;
  readonly capacityGb: number;
  readonly slopeGbPerDay: number;
}

// The fleet at a glance.
export interface FleetSummary {
  readonly servers: number;
  readonly serversAnswered: number;
  readonly polls: number;
  readonly okPolls: number;
  readonly daysWithData: number;
  readonly busiest: readonly ServerReport[];
  readonly closestToFull: readonly ServerReport[];
  readonly leastAvailable: readonly ServerReport[];
  /** Every forecast under the horizon, soonest first. */
  readonly flagged: readonly FlaggedForecast[];
}

// Rows that could not be read, per history file kind.
export interface BadRowReport {
  readonly file: string;
  readonly count: number;
  readonly examples: readonly string[];
}

// The whole report, ready to render.
export interface ReportModel {
  readonly window: ReportWindow;
  readonly generatedAt: Date;
  readonly horizonDays: number;
  readonly fleet: FleetSummary;
  readonly servers: readonly ServerReport[];
  readonly badRows: readonly BadRowReport[];
  readonly notes: readonly string[];
}

// The window of `days` days ending with `end` (YYYY-MM-DD).
export function reportWindow(end: string, days: number): ReportWindow {
  const endMs = Date.parse(`${end}T00:00:00Z`);
  const list: string[] = [];
  for (let i = days - 1; i >= 0; i -= 1) list.push(new Date(endMs - i * 86_400_000).toISOString().slice(0, 10));
  return { start: list[0] ?? end, end, days: list };
}

const avg = (s: Stat): number | null => (s.n === 0 ? null : s.sum / s.n);
const peak = (s: Stat): number | null => (s.n === 0 ? null : s.max);

function merge(into: Stat, s: Stat): void {
  if (s.n === 0) return;
  if (into.n === 0 || s.max > into.max) into.max = s.max;
  into.n += s.n;
  into.sum += s.sum;
}

const newStat = (): Stat => ({ n: 0, sum: 0, max: 0 });

// Per-server running totals while the window's days are folded in.
interface ServerAcc {
  rows: (DayRow | null)[];
  polls: number;
  ok: number;
  failures: Map<string, number>;
  cpu: Stat;
  memPct: Stat;
  memTrend: Trend;
  memLast: { t: number; totalGb: number; usedGb: number } | null;
  worst: { t: number; mount: string; pct: number; freeGb: number | null } | null;
  disks: Map<string, { fsType: string; days: (DiskDayRow | null)[]; trend: Trend; last: DiskDay['last'] | null; lastT: number }>;
  processes: Map<string, { process: string; user: string; n: number; cpuSum: number; cpuMax: number; memSum: number; memMax: number }>;
  users: Map<string, { n: number; cpuSum: number; cpuMax: number; memSum: number; memMax: number; procMax: number }>;
}

// Folds the window one day at a time, so only one day's rollup is ever in memory (a year-long report of a
// large fleet would not fit otherwise), and each day's objects die young.
export class WindowAggregator {
  private readonly servers = new Map<string, ServerAcc>();
  private readonly bad = new Map<SourceKind, { count: number; examples: string[] }>();
  private daysWithData = 0;

  constructor(
    private readonly window: ReportWindow,
    private readonly options: AggregateOptions,
  ) {}

  /** Servers seen so far. */
  get serverCount(): number {
    return this.servers.size;
  }

  /** Adds the rollup of window day `index`, as parseDay read it. */
  add(index: number, data: DayData): void {
    const day = this.window.days[index] ?? data.day;
    const accs = data.servers.map((name) => this.account(name));
    // parseDay checked every index, so these lookups hit.
    const at = (server: number | undefined): ServerAcc => accs[server as number] as ServerAcc;
    const { log, disks, processes, users } = data;
    let hasData = disks.server.length > 0;
    for (let e = 0; e < log.server.length; e += 1) {
      if (logNumber(log, e, 'polls') > 0) hasData = true;
      addLogDay(at(log.server[e]), index, day, log, e);
    }
    for (const [entry, reason, count] of data.failures) {
      const failures = at(log.server[entry]).failures;
      failures.set(reason, (failures.get(reason) ?? 0) + count);
    }
    for (let e = 0; e < disks.server.length; e += 1) addDiskDay(at(disks.server[e]), index, day, disks, e);
    for (let e = 0; e < processes.server.length; e += 1) addProcess(at(processes.server[e]), processes, e);
    for (let e = 0; e < users.server.length; e += 1) addUser(at(users.server[e]), users, e);
    if (hasData) this.daysWithData += 1;
    for (const [kind, b] of data.bad) {
      const into = this.bad.get(kind) ?? { count: 0, examples: [] };
      into.count += b.count;
      for (const e of b.examples) if (into.examples.length < 10) into.examples.push(e);
      this.bad.set(kind, into);
    }
  }

  private account(name: string): ServerAcc {
    let acc = this.servers.get(name);
    if (acc === undefined) {
      acc = {
        rows: this.window.days.map(() => null),
        polls: 0,
        ok: 0,
        failures: new Map(),
        cpu: newStat(),
        memPct: newStat(),
        memTrend: emptyTrend(),
        memLast: null,
        worst: null,
        disks: new Map(),
        processes: new Map(),
        users: new Map(),
      };
      this.servers.set(name, acc);
    }
    return acc;
  }

  /** The model, once every day has been added. */
  finish(notes: readonly string[], generatedAt: Date): ReportModel {
    const { window, options } = this;
    const names = [...this.servers.keys()].sort(compareServerNames);
    const servers = names.map((name) => serverReport(name, this.servers.get(name) as ServerAcc, window, options));
    const polls = servers.reduce((n, s) => n + s.polls, 0);
    const okPolls = servers.reduce((n, s) => n + s.ok, 0);
    const byDesc = <T>(key: (s: T) => number | null) => (a: T, b: T): number => (key(b) ?? -1) - (key(a) ?? -1);
    const flagged: FlaggedForecast[] = [];
    for (const s of servers) {
      const memory = s.memory.forecast;
      if (memory.kind === 'full-in' && memory.flagged && s.memory.totalGb !== null) {
        flagged.push({ server: s.name, what: 'memory', days: memory.days, usedGb: s.memory.usedGb ?? 0, capacityGb: s.memory.totalGb, slopeGbPerDay: memory.slopePerDay });
      }
      for (const d of s.disks) {
        const f = d.forecast;
        if (f.kind === 'full-in' && f.flagged) {
          flagged.push({ server: s.name, what: d.mount, days: f.days, usedGb: d.last.usedGb, capacityGb: d.last.usedGb + d.last.freeGb, slopeGbPerDay: f.slopePerDay });
        }
      }
    }
    // Array sort is stable and `servers` is in name order: ties stay in name order without comparing names,
    // which in a fleet where most servers tie (100 % available) would be most of the sorting's cost.
    flagged.sort((a, b) => a.days - b.days);
    const badRows: BadRowReport[] = SOURCE_KINDS.flatMap((kind) => {
      const b = this.bad.get(kind);
      return b === undefined || b.count === 0 ? [] : [{ file: SOURCE_FILES[kind], count: b.count, examples: b.examples }];
    });
    return {
      window,
      generatedAt,
      horizonDays: options.horizonDays,
      fleet: {
        servers: servers.length,
        serversAnswered: servers.filter((s) => s.ok > 0).length,
        polls,
        okPolls,
        daysWithData: this.daysWithData,
        busiest: servers.filter((s) => s.cpuAvg !== null).sort(byDesc((s) => s.cpuAvg)).slice(0, options.top),
        closestToFull: servers.filter((s) => s.fullest !== null).sort(byDesc((s) => s.fullest?.usedPct ?? null)).slice(0, options.top),
        leastAvailable: servers
          .filter((s) => s.availabilityPct !== null && s.availabilityPct < 100)
          .sort((a, b) => (a.availabilityPct ?? 0) - (b.availabilityPct ?? 0))
          .slice(0, options.top),
        flagged,
      },
      servers,
      badRows,
      notes,
    };
  }
}

function addLogDay(acc: ServerAcc, index: number, day: string, log: DayTable, e: number): void {
  acc.rows[index] = dayRow(day, log, e);
  acc.polls += logNumber(log, e, 'polls');
  acc.ok += logNumber(log, e, 'ok');
  merge(acc.cpu, logStat(log, e, 'cpuPct'));
  merge(acc.memPct, logStat(log, e, 'memPct'));
  addShifted(acc.memTrend, logMemTrend(log, e), index);
  const memLast = logMemLast(log, e);
  if (memLast !== null && index + memLast.s / 86_400 >= (acc.memLast?.t ?? -1)) {
    acc.memLast = { t: index + memLast.s / 86_400, totalGb: memLast.totalGb, usedGb: memLast.usedGb };
  }
  const worst = logWorstLast(log, e);
  if (worst !== null && index + worst.s / 86_400 >= (acc.worst?.t ?? -1)) {
    acc.worst = { t: index + worst.s / 86_400, mount: worst.mount, pct: worst.pct, freeGb: worst.freeGb };
  }
}

function addDiskDay(acc: ServerAcc, index: number, day: string, disks: DayTable, e: number): void {
  const mount = diskText(disks, e, 'mount');
  const fsType = diskText(disks, e, 'fsType');
  let m = acc.disks.get(mount);
  if (m === undefined) {
    m = { fsType, days: acc.rows.map(() => null), trend: emptyTrend(), last: null, lastT: -1 };
    acc.disks.set(mount, m);
  }
  m.days[index] = {
    day,
    totalGb: avg(diskStat(disks, e, 'totalGb')),
    usedGbAvg: avg(diskStat(disks, e, 'usedGb')),
    freeGbAvg: avg(diskStat(disks, e, 'freeGb')),
    usedPctPeak: peak(diskStat(disks, e, 'usedPct')),
  };
  addShifted(m.trend, diskTrend(disks, e), index);
  const last = diskLast(disks, e);
  const t = index + last.s / 86_400;
  if (t >= m.lastT) {
    m.lastT = t;
    m.last = last;
    if (fsType !== '') m.fsType = fsType;
  }
}

// The numbers process and user entries share, folded alike; `read` is processNumber or userNumber.
function addUsage(
  m: { n: number; cpuSum: number; cpuMax: number; memSum: number; memMax: number },
  table: DayTable,
  e: number,
  read: (table: DayTable, e: number, field: UsageName) => number,
): void {
  m.n += read(table, e, 'n');
  m.cpuSum += read(table, e, 'cpuSum');
  m.memSum += read(table, e, 'memMbSum');
  m.cpuMax = Math.max(m.cpuMax, read(table, e, 'cpuMax'));
  m.memMax = Math.max(m.memMax, read(table, e, 'memMbMax'));
}

function addProcess(acc: ServerAcc, processes: DayTable, e: number): void {
  const process = processText(processes, e, 'process');
  const user = processText(processes, e, 'user');
  const key = processKey(process, user);
  let m = acc.processes.get(key);
  if (m === undefined) {
    m = { process, user, n: 0, cpuSum: 0, cpuMax: 0, memSum: 0, memMax: 0 };
    acc.processes.set(key, m);
  }
  addUsage(m, processes, e, processNumber);
}

function addUser(acc: ServerAcc, users: DayTable, e: number): void {
  const user = userText(users, e);
  let m = acc.users.get(user);
  if (m === undefined) {
    m = { n: 0, cpuSum: 0, cpuMax: 0, memSum: 0, memMax: 0, procMax: 0 };
    acc.users.set(user, m);
  }
  addUsage(m, users, e, userNumber);
  m.procMax = Math.max(m.procMax, userNumber(users, e, 'processesMax'));
}

function serverReport(name: string, acc: ServerAcc, window: ReportWindow, options: AggregateOptions): ServerReport {
  const disks = diskReports(acc, options.horizonDays);
  const { memLast, worst } = acc;
  const memoryForecast: Forecast = memLast === null ? { kind: 'insufficient-data' } : forecastFull(acc.memTrend, memLast.totalGb, memLast.t, options.horizonDays);
  let fullest: ServerReport['fullest'] = null;
  for (const d of disks) {
    if (d.last.usedPct !== null && (fullest === null || d.last.usedPct > fullest.usedPct)) {
      fullest = { mount: d.mount, usedPct: d.last.usedPct, freeGb: d.last.freeGb, forecast: d.forecast };
    }
  }
  if (fullest === null && worst !== null) fullest = { mount: worst.mount, usedPct: worst.pct, freeGb: worst.freeGb, forecast: null };
  const { topCpu, topMem, users } = whoUsesIt(acc, options.topPerServer);
  return {
    name,
    polls: acc.polls,
    ok: acc.ok,
    availabilityPct: acc.polls === 0 ? null : (acc.ok / acc.polls) * 100,
    failures: [...acc.failures].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count || (a.reason < b.reason ? -1 : 1)),
    cpuAvg: avg(acc.cpu),
    cpuPeak: peak(acc.cpu),
    memPctAvg: avg(acc.memPct),
    memPctPeak: peak(acc.memPct),
    days: acc.rows.map((row, index) => row ?? dayRow(window.days[index] ?? '', null)),
    disks,
    memory: { totalGb: memLast?.totalGb ?? null, usedGb: memLast?.usedGb ?? null, forecast: memoryForecast },
    fullest,
    topCpu,
    topMem,
    users,
  };
}

// A day's row from log entry `e`; without one (no log.csv rows that day), an empty row.
function dayRow(day: string, log: DayTable | null, e = 0): DayRow {
  if (log === null) {
    return { day, polls: 0, ok: 0, cpuAvg: null, cpuPeak: null, memPctAvg: null, memPctPeak: null, memTotalGb: null, memUsedGbAvg: null, memUsedGbPeak: null, memAvailableGbAvg: null, swapTotalGb: null, swapUsedGbAvg: null, swapUsedGbPeak: null };
  }
  const cpu = logStat(log, e, 'cpuPct');
  const memPct = logStat(log, e, 'memPct');
  const memUsed = logStat(log, e, 'memUsedGb');
  const swapUsed = logStat(log, e, 'swapUsedGb');
  return {
    day,
    polls: logNumber(log, e, 'polls'),
    ok: logNumber(log, e, 'ok'),
    cpuAvg: avg(cpu),
    cpuPeak: peak(cpu),
    memPctAvg: avg(memPct),
    memPctPeak: peak(memPct),
    memTotalGb: avg(logStat(log, e, 'memTotalGb')),
    memUsedGbAvg: avg(memUsed),
    memUsedGbPeak: peak(memUsed),
    memAvailableGbAvg: avg(logStat(log, e, 'memAvailableGb')),
    swapTotalGb: avg(logStat(log, e, 'swapTotalGb')),
    swapUsedGbAvg: avg(swapUsed),
    swapUsedGbPeak: peak(swapUsed),
  };
}

function diskReports(acc: ServerAcc, horizonDays: number): DiskReport[] {
  return [...acc.disks]
    .filter(([, m]) => m.last !== null)
    .sort(([a], [b]) => (a === OTHER ? 1 : b === OTHER ? -1 : a < b ? -1 : a > b ? 1 : 0))
    .map(([mount, m]) => {
      const last = m.last as DiskDay['last'];
      return {
        mount,
        fsType: m.fsType,
        days: m.days,
        last: { totalGb: last.totalGb, usedGb: last.usedGb, freeGb: last.freeGb, usedPct: last.usedPct },
        forecast: forecastFull(m.trend, last.usedGb + last.freeGb, m.lastT, horizonDays),
      };
    });
}

function whoUsesIt(acc: ServerAcc, top: number): { topCpu: ProcessRow[]; topMem: ProcessRow[]; users: UserRow[] } {
  if (acc.processes.size === 0 && acc.users.size === 0) return { topCpu: [], topMem: [], users: [] };
  // Without log.csv rows (unusual) the best denominator is the most polls any process was seen in.
  let procSamples = 0;
  for (const p of acc.processes.values()) procSamples = Math.max(procSamples, p.n);
  const polls = Math.max(acc.ok, procSamples, 1);
  const processRows = [...acc.processes.values()]
    .filter((p) => p.process !== OTHER)
    .map((p) => ({ process: p.process, user: p.user, cpuAvg: p.cpuSum / polls, cpuPeak: p.cpuMax, memMbAvg: p.memSum / polls, memMbPeak: p.memMax, seen: p.n }));
  const topCpu = [...processRows].sort((a, b) => b.cpuAvg - a.cpuAvg || b.cpuPeak - a.cpuPeak).slice(0, top);
  const topMem = [...processRows].sort((a, b) => b.memMbPeak - a.memMbPeak || b.memMbAvg - a.memMbAvg).slice(0, top);
  let userSamples = 0;
  for (const u of acc.users.values()) userSamples = Math.max(userSamples, u.n);
  const userPolls = Math.max(acc.ok, userSamples, 1);
  const userRows = [...acc.users]
    .filter(([name]) => name !== OTHER)
    .map(([user, u]) => ({ user, cpuAvg: u.cpuSum / userPolls, cpuPeak: u.cpuMax, memMbAvg: u.memSum / userPolls, memMbPeak: u.memMax, processesMax: u.procMax }))
    .sort((a, b) => b.cpuAvg - a.cpuAvg || b.memMbAvg - a.memMbAvg)
    .slice(0, top);
  return { topCpu, topMem, users: userRows };
}
