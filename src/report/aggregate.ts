// The rollup days of a window -> everything the report shows: per server and day, the week, the fleet. Pure.
import { compareServerNames } from '../store/rows.js';
import { addShifted, emptyTrend, forecastFull, type Forecast } from './forecast.js';
import { SOURCE_FILES, SOURCE_KINDS, type SourceKind } from './records.js';
import { OTHER, type DayRollup, type DiskDay, type LogDay, type ServerDay, type Stat, type Trend } from './rollup.js';

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

const avg = (s: Stat | undefined): number | null => (s === undefined || s.n === 0 ? null : s.sum / s.n);
const peak = (s: Stat | undefined): number | null => (s === undefined || s.n === 0 ? null : s.max);

function merge(into: Stat, s: Stat): void {
  if (s.n === 0) return;
  if (into.n === 0 || s.max > into.max) into.max = s.max;
  into.n += s.n;
  into.sum += s.sum;
}

const newStat = (): Stat => ({ n: 0, sum: 0, max: 0 });

// Builds the report model from the window's rollup days (in window order), all in memory: tests and small windows.
export function aggregate(window: ReportWindow, days: readonly DayRollup[], options: AggregateOptions, notes: readonly string[], generatedAt: Date): ReportModel {
  const folder = new WindowAggregator(window, options);
  days.forEach((day, index) => folder.add(index, day));
  return folder.finish(notes, generatedAt);
}

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

  /** Adds the rollup of window day `index`. */
  add(index: number, day: DayRollup): void {
    let hasData = false;
    for (const [name, s] of day.servers) {
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
      if ((s.log?.polls ?? 0) > 0 || s.disks.size > 0) hasData = true;
      addLogDay(acc, index, this.window.days[index] ?? day.day, s.log);
      addDisks(acc, index, this.window.days[index] ?? day.day, s);
      addUsage(acc, s);
    }
    if (hasData) this.daysWithData += 1;
    for (const [kind, b] of day.bad) {
      const into = this.bad.get(kind) ?? { count: 0, examples: [] };
      into.count += b.count;
      for (const e of b.examples) if (into.examples.length < 10) into.examples.push(e);
      this.bad.set(kind, into);
    }
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
    flagged.sort((a, b) => a.days - b.days || compareServerNames(a.server, b.server));
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
          .sort((a, b) => (a.availabilityPct ?? 0) - (b.availabilityPct ?? 0) || compareServerNames(a.name, b.name))
          .slice(0, options.top),
        flagged,
      },
      servers,
      badRows,
      notes,
    };
  }
}

function addLogDay(acc: ServerAcc, index: number, day: string, log: LogDay | null): void {
  if (log === null) return;
  acc.rows[index] = dayRow(day, log);
  acc.polls += log.polls;
  acc.ok += log.ok;
  for (const [reason, count] of log.failures) acc.failures.set(reason, (acc.failures.get(reason) ?? 0) + count);
  merge(acc.cpu, log.cpuPct);
  merge(acc.memPct, log.memPct);
  addShifted(acc.memTrend, log.memTrend, index);
  const t = (s: number): number => index + s / 86_400;
  if (log.memLast !== null && t(log.memLast.s) >= (acc.memLast?.t ?? -1)) {
    acc.memLast = { t: t(log.memLast.s), totalGb: log.memLast.totalGb, usedGb: log.memLast.usedGb };
  }
  if (log.worstLast !== null && t(log.worstLast.s) >= (acc.worst?.t ?? -1)) {
    acc.worst = { t: t(log.worstLast.s), mount: log.worstLast.mount, pct: log.worstLast.pct, freeGb: log.worstLast.freeGb };
  }
}

function addDisks(acc: ServerAcc, index: number, day: string, s: ServerDay): void {
  for (const [mount, d] of s.disks) {
    let m = acc.disks.get(mount);
    if (m === undefined) {
      m = { fsType: d.fsType, days: acc.rows.map(() => null), trend: emptyTrend(), last: null, lastT: -1 };
      acc.disks.set(mount, m);
    }
    m.days[index] = { day, totalGb: avg(d.totalGb), usedGbAvg: avg(d.usedGb), freeGbAvg: avg(d.freeGb), usedPctPeak: peak(d.usedPct) };
    addShifted(m.trend, d.trend, index);
    const t = index + d.last.s / 86_400;
    if (t >= m.lastT) {
      m.lastT = t;
      m.last = d.last;
      if (d.fsType !== '') m.fsType = d.fsType;
    }
  }
}

function addUsage(acc: ServerAcc, s: ServerDay): void {
  for (const [key, p] of s.processes) {
    const m = acc.processes.get(key) ?? { process: p.process, user: p.user, n: 0, cpuSum: 0, cpuMax: 0, memSum: 0, memMax: 0 };
    m.n += p.n;
    m.cpuSum += p.cpuSum;
    m.memSum += p.memMbSum;
    m.cpuMax = Math.max(m.cpuMax, p.cpuMax);
    m.memMax = Math.max(m.memMax, p.memMbMax);
    acc.processes.set(key, m);
  }
  for (const [name, u] of s.users) {
    const m = acc.users.get(name) ?? { n: 0, cpuSum: 0, cpuMax: 0, memSum: 0, memMax: 0, procMax: 0 };
    m.n += u.n;
    m.cpuSum += u.cpuSum;
    m.memSum += u.memMbSum;
    m.cpuMax = Math.max(m.cpuMax, u.cpuMax);
    m.memMax = Math.max(m.memMax, u.memMbMax);
    m.procMax = Math.max(m.procMax, u.processesMax);
    acc.users.set(name, m);
  }
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

function dayRow(day: string, log: LogDay | null): DayRow {
  return {
    day,
    polls: log?.polls ?? 0,
    ok: log?.ok ?? 0,
    cpuAvg: avg(log?.cpuPct),
    cpuPeak: peak(log?.cpuPct),
    memPctAvg: avg(log?.memPct),
    memPctPeak: peak(log?.memPct),
    memTotalGb: avg(log?.memTotalGb),
    memUsedGbAvg: avg(log?.memUsedGb),
    memUsedGbPeak: peak(log?.memUsedGb),
    memAvailableGbAvg: avg(log?.memAvailableGb),
    swapTotalGb: avg(log?.swapTotalGb),
    swapUsedGbAvg: avg(log?.swapUsedGb),
    swapUsedGbPeak: peak(log?.swapUsedGb),
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
