// The store's read side, for the HTTP API and the CLI: series of a host's metrics (downsampled from raw or
// hourly data as the range needs; failed polls are gaps with their status, never interpolated), the latest
// sample of every host, per-user totals, the processes and sessions of the poll nearest a time, the cycles.
// Every statement is fixed text prepared once; input only ever arrives as bound parameters.
import type Database from 'better-sqlite3';
import type { Proc, Session } from '../model.js';
import { byCpu } from '../process-rank.js';
import { decodeProcesses, decodeSessions } from './details.js';
import { Maintenance } from './maintain.js';
import { bucketStep, checkRange, QueryError } from './range.js';
import { UserSeriesQuery, type UsersSeries } from './user-series.js';

// The metrics a series can show, each with its avg and max per bucket.
export const SERIES_METRICS = ['cpu_pct', 'mem_pct', 'swap_pct', 'load_1m', 'load_5m', 'load_15m', 'mem_used_kb'] as const;
// One of SERIES_METRICS.
export type SeriesMetric = (typeof SERIES_METRICS)[number];

export { defaultStep, QueryError } from './range.js';
export type { UserSeries, UsersSeries } from './user-series.js';


// One bucket of a series. status: 'ok' when any poll in it succeeded, else the failure of its polls, null without polls.
export interface SeriesPoint {
  /** Start of the bucket, epoch seconds UTC. */
  readonly t: number;
  readonly polls: number;
  readonly ok: number;
  readonly status: string | null;
  /** Per requested metric: null when no successful poll gave a value (a gap). */
  readonly values: Readonly<Record<string, { avg: number; max: number } | null>>;
}

// A downsampled series.
export interface Series {
  readonly host: string;
  readonly from: number;
  readonly to: number;
  readonly stepSec: number;
  /** Where the buckets came from: raw samples, or hourly rollups (plus raw for hours not yet rolled up). */
  readonly source: 'raw' | 'hourly';
  readonly metrics: readonly SeriesMetric[];
  readonly points: readonly SeriesPoint[];
}

// The latest sample of one host.
export interface LatestRow {
  readonly host: string;
  readonly address: string;
  readonly transport: string;
  readonly tags: readonly string[];
  readonly at: number;
  readonly status: string;
  readonly phase: string | null;
  readonly error: string | null;
  readonly durationMs: number | null;
  readonly hostname: string | null;
  readonly os: string | null;
  readonly uptimeSec: number | null;
  readonly cpuCores: number | null;
  readonly cpuPct: number | null;
  readonly load1m: number | null;
  readonly memTotalKb: number | null;
  readonly memAvailableKb: number | null;
  readonly memPct: number | null;
  readonly swapPct: number | null;
}

// One user's totals over a range.
export interface UserRange {
  readonly user: string;
  readonly polls: number;
  readonly cpuPctAvg: number;
  readonly cpuPctMax: number;
  readonly rssKbAvg: number;
  readonly rssKbMax: number;
}

// The poll nearest a time, with its top processes and sessions.
export interface ProcessSnapshot {
  readonly at: number;
  readonly status: string;
  /** Busiest first. */
  readonly processes: readonly Proc[];
  readonly sessions: readonly Session[];
}

// One recorded cycle.
export interface CycleRow {
  readonly startedAt: number;
  readonly durationMs: number | null;
  readonly hostsTotal: number;
  readonly hostsOk: number;
  readonly hostsFailed: number;
  readonly coveragePct: number;
  readonly latencyP50Ms: number | null;
  readonly latencyP95Ms: number | null;
  readonly reconnects: number | null;
}


const HOUR = 3600;

// What each metric is, over a sample row `s`; NULL for a failed poll or a missing reading.
const METRIC_SQL: Readonly<Record<SeriesMetric, string>> = {
  cpu_pct: 's.cpu_pct',
  mem_pct: 'CASE WHEN s.mem_total_kb > 0 THEN (s.mem_total_kb - s.mem_available_kb) * 100.0 / s.mem_total_kb END',
  swap_pct: 'CASE WHEN s.swap_total_kb > 0 THEN (s.swap_total_kb - s.swap_free_kb) * 100.0 / s.swap_total_kb END',
  load_1m: 's.load_1m',
  load_5m: 's.load_5m',
  load_15m: 's.load_15m',
  mem_used_kb: 's.mem_total_kb - s.mem_available_kb',
};
// Bucketed in SQL, one fixed statement per metric (only the asked-for metrics run; rows reach JS already
// reduced to one per bucket, which is where the time goes): (t, polls, ok, failure) and (t, weight, avg, max).
const RAW_STATUS = `SELECT at / ? * ? AS t, count(*), sum(status = 'ok'), max(CASE WHEN status <> 'ok' THEN status END)
  FROM samples WHERE host_id = ? AND at >= ? AND at < ? GROUP BY t`;
const rawMetric = (m: SeriesMetric): string => `SELECT t, count(v), avg(v), max(v)
  FROM (SELECT s.at / ? * ? AS t, ${METRIC_SQL[m]} AS v FROM samples s WHERE s.host_id = ? AND s.at >= ? AND s.at < ?) GROUP BY t`;
const HOURLY_STATUS = 'SELECT hour, polls, ok, last_failure FROM hourly WHERE host_id = ? AND hour >= ? AND hour < ?';
const hourlyMetric = (m: SeriesMetric): string => `SELECT hour, ok, ${m}_avg, ${m}_max FROM hourly WHERE host_id = ? AND hour >= ? AND hour < ? AND ${m}_avg IS NOT NULL`;


// Read-only queries over one store handle; statements are prepared once.
export class HistoryQueries {
  private readonly s;
  private readonly maintenance: Maintenance;
  private readonly userSeries: UserSeriesQuery;

  constructor(db: Database.Database) {
    const p = (sql: string): Database.Statement => db.prepare(sql);
    this.s = {
      hostId: p('SELECT id FROM hosts WHERE name = ?').pluck(),
      rawStatus: p(RAW_STATUS).raw(),
      hourlyStatus: p(HOURLY_STATUS).raw(),
      rawMetric: Object.fromEntries(SERIES_METRICS.map((m) => [m, p(rawMetric(m)).raw()])) as Record<SeriesMetric, Database.Statement>,
      hourlyMetric: Object.fromEntries(SERIES_METRICS.map((m) => [m, p(hourlyMetric(m)).raw()])) as Record<SeriesMetric, Database.Statement>,
      latest: p(`SELECT h.name, h.address, h.transport, h.tags, s.at, s.status, s.phase, s.error, s.duration_ms, s.hostname,
          coalesce(nullif(s.os_pretty, ''), s.os_family), s.uptime_s, s.cpu_cores, s.cpu_pct, s.load_1m, s.mem_total_kb, s.mem_available_kb,
          CASE WHEN s.mem_total_kb > 0 THEN (s.mem_total_kb - s.mem_available_kb) * 100.0 / s.mem_total_kb END,
          CASE WHEN s.swap_total_kb > 0 THEN (s.swap_total_kb - s.swap_free_kb) * 100.0 / s.swap_total_kb END
        FROM hosts h JOIN samples s ON s.host_id = h.id AND s.at = (SELECT max(at) FROM samples WHERE host_id = h.id) ORDER BY h.name`).raw(),
      rawUsers: p(`SELECT user, count(*), sum(cpu_pct), max(cpu_pct), sum(rss_kb), max(rss_kb) FROM users
        WHERE host_id = ? AND at >= ? AND at < ? GROUP BY user`).raw(),
      hourlyUsers: p(`SELECT user, sum(polls), sum(cpu_pct_avg * polls), max(cpu_pct_max), sum(rss_kb_avg * polls), max(rss_kb_max) FROM hourly_users
        WHERE host_id = ? AND hour >= ? AND hour < ? GROUP BY user`).raw(),
      sampleAtOrBefore: p('SELECT at, status FROM samples WHERE host_id = ? AND at <= ? ORDER BY at DESC LIMIT 1'),
      sampleAfter: p('SELECT at, status FROM samples WHERE host_id = ? AND at > ? ORDER BY at LIMIT 1'),
      processes: p('SELECT list FROM processes WHERE host_id = ? AND at = ?').pluck(),
      sessions: p('SELECT list FROM sessions WHERE host_id = ? AND at = ?').pluck(),
      cycles: p(`SELECT started_at AS startedAt, duration_ms AS durationMs, hosts_total AS hostsTotal, hosts_ok AS hostsOk, hosts_failed AS hostsFailed,
          coverage_pct AS coveragePct, latency_p50_ms AS latencyP50Ms, latency_p95_ms AS latencyP95Ms, reconnects
        FROM cycles WHERE started_at >= ? AND started_at < ? ORDER BY started_at`),
    };
    this.maintenance = new Maintenance(db);
    this.userSeries = new UserSeriesQuery(db, this.maintenance);
  }

  /** Whether the store knows this host. */
  hasHost(host: string): boolean {
    return this.s.hostId.get(host) !== undefined;
  }

  /**
   * The host's metrics over [from, to) in buckets of `stepSec` (default: about 500 points). Steps of an hour
   * or more come from the hourly rollups (step rounded up to whole hours), shorter ones from raw samples.
   * null for an unknown host; QueryError for a bad request.
   */
  series(host: string, metrics: readonly string[], from: number, to: number, stepSec?: number): Series | null {
    checkRange(from, to);
    const wanted = checkMetrics(metrics);
    const { step, hourly } = bucketStep(from, to, stepSec);
    const hostId = this.s.hostId.get(host) as number | undefined;
    if (hostId === undefined) return null;

    const series = new Buckets(wanted, from, to, step);
    const raw = (rawFrom: number, rawTo: number, rawStep: number): void => {
      if (rawTo <= rawFrom) return;
      series.addStatus(this.s.rawStatus.all(rawStep, rawStep, hostId, rawFrom, rawTo) as StatusRow[]);
      wanted.forEach((m, j) => series.addMetric(j, this.s.rawMetric[m].all(rawStep, rawStep, hostId, rawFrom, rawTo) as MetricRow[]));
    };
    if (!hourly) {
      raw(from, to, step);
    } else {
      // Completed, rolled-up hours from the rollup; the rest (the current hour, a backlog) from raw samples, by hour.
      const split = Math.max(from, Math.min(to, this.maintenance.rolledUpTo() ?? from));
      if (split > from) {
        series.addStatus(this.s.hourlyStatus.all(hostId, from, split) as StatusRow[]);
        wanted.forEach((m, j) => series.addMetric(j, this.s.hourlyMetric[m].all(hostId, from, split) as MetricRow[]));
      }
      raw(split, to, HOUR);
    }
    return { host, from, to, stepSec: step, source: hourly ? 'hourly' : 'raw', metrics: wanted, points: series.points() };
  }

  /** The latest sample of every host, by name; failed hosts keep their status, phase and error. */
  latest(): LatestRow[] {
    return (this.s.latest.all() as unknown[][]).map((r) => ({
      host: r[0] as string,
      address: r[1] as string,
      transport: r[2] as string,
      tags: parseTags(r[3] as string),
      at: r[4] as number,
      status: r[5] as string,
      phase: r[6] as string | null,
      error: r[7] as string | null,
      durationMs: r[8] as number | null,
      hostname: r[9] as string | null,
      os: r[10] as string | null,
      uptimeSec: r[11] as number | null,
      cpuCores: r[12] as number | null,
      cpuPct: r[13] as number | null,
      load1m: r[14] as number | null,
      memTotalKb: r[15] as number | null,
      memAvailableKb: r[16] as number | null,
      memPct: r[17] as number | null,
      swapPct: r[18] as number | null,
    }));
  }

  /** Per-user CPU and memory of a host over [from, to), busiest first; null for an unknown host. */
  users(host: string, from: number, to: number): UserRange[] | null {
    checkRange(from, to);
    const hostId = this.s.hostId.get(host) as number | undefined;
    if (hostId === undefined) return null;
    // Whole rolled-up hours from hourly_users, the rest from raw rows; sums are combined per user.
    const rolled = this.maintenance.rolledUpTo() ?? from;
    const hourFrom = Math.ceil(from / HOUR) * HOUR;
    const hourTo = Math.max(hourFrom, Math.min(Math.floor(to / HOUR) * HOUR, rolled));
    const totals = new Map<string, [number, number, number, number, number]>();
    const add = (rows: unknown[][]): void => {
      for (const [user, n, cpuSum, cpuMax, rssSum, rssMax] of rows as [string, number, number, number, number, number][]) {
        const t = totals.get(user);
        if (t === undefined) totals.set(user, [n, cpuSum, cpuMax, rssSum, rssMax]);
        else totals.set(user, [t[0] + n, t[1] + cpuSum, Math.max(t[2], cpuMax), t[3] + rssSum, Math.max(t[4], rssMax)]);
      }
    };
    if (hourTo > hourFrom) {
      add(this.s.hourlyUsers.all(hostId, hourFrom, hourTo) as unknown[][]);
      add(this.s.rawUsers.all(hostId, from, hourFrom) as unknown[][]);
      add(this.s.rawUsers.all(hostId, hourTo, to) as unknown[][]);
    } else {
      add(this.s.rawUsers.all(hostId, from, to) as unknown[][]);
    }
    return [...totals]
      .map(([user, [n, cpuSum, cpuMax, rssSum, rssMax]]) => ({ user, polls: n, cpuPctAvg: cpuSum / n, cpuPctMax: cpuMax, rssKbAvg: rssSum / n, rssKbMax: rssMax }))
      .sort((a, b) => b.cpuPctAvg - a.cpuPctAvg || b.rssKbAvg - a.rssKbAvg || (a.user < b.user ? -1 : 1));
  }

  /**
   * Each user's CPU % and resident kB of `host` over [from, to), per bucket of `stepSec` (as series()), users in
   * `exclude` left out; null for an unknown host. See user-series.ts.
   */
  usersSeries(host: string, from: number, to: number, stepSec: number | undefined, exclude: readonly string[] = []): UsersSeries | null {
    return this.userSeries.run(host, from, to, stepSec, exclude);
  }

  /** The poll of `host` nearest to `at` (ties: the earlier), with its processes and sessions; null when there is none. */
  processes(host: string, at: number): ProcessSnapshot | null {
    if (!Number.isInteger(at)) throw new QueryError(`at must be a whole number of epoch seconds (got ${at})`);
    const hostId = this.s.hostId.get(host) as number | undefined;
    if (hostId === undefined) return null;
    const before = this.s.sampleAtOrBefore.get(hostId, at) as { at: number; status: string } | undefined;
    const after = this.s.sampleAfter.get(hostId, at) as { at: number; status: string } | undefined;
    const nearest = before === undefined ? after : after === undefined || at - before.at <= after.at - at ? before : after;
    if (nearest === undefined) return null;
    return {
      at: nearest.at,
      status: nearest.status,
      processes: decodeProcesses(this.s.processes.get(hostId, nearest.at) as string | undefined).sort(byCpu),
      sessions: decodeSessions(this.s.sessions.get(hostId, nearest.at) as string | undefined),
    };
  }

  /** The cycles that started in [from, to), oldest first. */
  cycles(from: number, to: number): CycleRow[] {
    checkRange(from, to);
    return this.s.cycles.all(from, to) as CycleRow[];
  }
}




function checkMetrics(metrics: readonly string[]): SeriesMetric[] {
  if (metrics.length === 0) throw new QueryError(`name at least one metric (${SERIES_METRICS.join(', ')})`);
  const unknown = metrics.filter((m) => !(SERIES_METRICS as readonly string[]).includes(m));
  if (unknown.length > 0) throw new QueryError(`unknown metric ${unknown.map((m) => JSON.stringify(m)).join(', ')} (known: ${SERIES_METRICS.join(', ')})`);
  return [...new Set(metrics)] as SeriesMetric[];
}

// (t, polls, ok, failure) and (t, weight, avg, max) rows of buckets finer than or equal to the step.
type StatusRow = [number, number, number, string | null];
type MetricRow = [number, number, number | null, number | null];

// One point per step of [from, to), gaps included; finer rows (hours into a day) merge: polls add up, the
// average is weighted by the polls that gave a value, the max is the max of the maxima.
class Buckets {
  private readonly first: number;
  private readonly polls: Float64Array;
  private readonly ok: Float64Array;
  private readonly failure: (string | null)[];
  private readonly sums: Float64Array[];
  private readonly weights: Float64Array[];
  private readonly maxima: Float64Array[];

  constructor(
    private readonly metrics: readonly SeriesMetric[],
    from: number,
    to: number,
    private readonly step: number,
  ) {
    this.first = Math.floor(from / step) * step;
    const count = Math.ceil((to - this.first) / step);
    this.polls = new Float64Array(count);
    this.ok = new Float64Array(count);
    this.failure = new Array<string | null>(count).fill(null);
    this.sums = metrics.map(() => new Float64Array(count));
    this.weights = metrics.map(() => new Float64Array(count));
    this.maxima = metrics.map(() => new Float64Array(count).fill(-Infinity));
  }

  private index(t: number): number {
    const i = Math.floor((t - this.first) / this.step);
    return i >= 0 && i < this.polls.length ? i : -1;
  }

  addStatus(rows: readonly StatusRow[]): void {
    for (const [t, polls, ok, failure] of rows) {
      const i = this.index(t);
      if (i < 0) continue;
      this.polls[i] = (this.polls[i] as number) + polls;
      this.ok[i] = (this.ok[i] as number) + ok;
      if (failure !== null) this.failure[i] = failure;
    }
  }

  addMetric(j: number, rows: readonly MetricRow[]): void {
    const sums = this.sums[j] as Float64Array;
    const weights = this.weights[j] as Float64Array;
    const maxima = this.maxima[j] as Float64Array;
    for (const [t, weight, avg, max] of rows) {
      const i = this.index(t);
      if (i < 0 || avg === null || max === null || weight <= 0) continue;
      sums[i] = (sums[i] as number) + avg * weight;
      weights[i] = (weights[i] as number) + weight;
      if (max > (maxima[i] as number)) maxima[i] = max;
    }
  }

  points(): SeriesPoint[] {
    const out: SeriesPoint[] = [];
    for (let i = 0; i < this.polls.length; i += 1) {
      const values: Record<string, { avg: number; max: number } | null> = {};
      this.metrics.forEach((m, j) => {
        const w = (this.weights[j] as Float64Array)[i] as number;
        values[m] = w > 0 ? { avg: ((this.sums[j] as Float64Array)[i] as number) / w, max: (this.maxima[j] as Float64Array)[i] as number } : null;
      });
      const polls = this.polls[i] as number;
      const ok = this.ok[i] as number;
      out.push({ t: this.first + i * this.step, polls, ok, status: polls === 0 ? null : ok > 0 ? 'ok' : this.failure[i] ?? null, values });
    }
    return out;
  }
}

function parseTags(text: string): string[] {
  try {
    const tags: unknown = JSON.parse(text);
    return Array.isArray(tags) ? tags.filter((t): t is string => typeof t === 'string') : [];
  } catch {
    return [];
  }
}
