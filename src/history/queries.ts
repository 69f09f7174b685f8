// The store's read side, for the HTTP API and the CLI: series of a host's metrics (downsampled from raw or
// hourly data as the range needs; failed polls are gaps with their status, never interpolated), the latest
// sample of every host, per-user totals, the processes and sessions of the poll nearest a time, the cycles.
// Every statement is fixed text prepared once; input only ever arrives as bound parameters.
import type Database from 'better-sqlite3';
import { Maintenance } from './maintain.js';

// The metrics a series can show, each with its avg and max per bucket.
export const SERIES_METRICS = ['cpu_pct', 'mem_pct', 'swap_pct', 'load_1m', 'load_5m', 'load_15m', 'mem_used_kb'] as const;
// One of SERIES_METRICS.
export type SeriesMetric = (typeof SERIES_METRICS)[number];

// A request the store cannot answer as asked (bad range, unknown metric): the API's 400, with the reason.
export class QueryError extends Error {
  override readonly name = 'QueryError';
}

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
  readonly processes: readonly { pid: number; user: string; cpuPct: number; rssKb: number; name: string }[];
  readonly sessions: readonly { user: string; terminal: string; from: string }[];
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
// A default step gives about this many points; a request may not ask for more than MAX_POINTS.
const DEFAULT_POINTS = 500;
const MAX_POINTS = 20_000;
const NICE_STEPS = [300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400, 7 * 86_400];

const METRIC_VALUES = `s.cpu_pct AS cpu_pct,
  CASE WHEN s.mem_total_kb > 0 THEN (s.mem_total_kb - s.mem_available_kb) * 100.0 / s.mem_total_kb END AS mem_pct,
  CASE WHEN s.swap_total_kb > 0 THEN (s.swap_total_kb - s.swap_free_kb) * 100.0 / s.swap_total_kb END AS swap_pct,
  s.load_1m AS load_1m, s.load_5m AS load_5m, s.load_15m AS load_15m, s.mem_total_kb - s.mem_available_kb AS mem_used_kb`;
// Column k*2 (avg) and k*2+1 (max) of a bucket row are SERIES_METRICS[k]; both statements return rows in that shape.
const RAW_BUCKETS = `SELECT at / ? * ? AS t, count(*) AS polls, sum(status = 'ok') AS ok, max(CASE WHEN status <> 'ok' THEN status END) AS failure,
  ${SERIES_METRICS.map((m) => `avg(${m}), max(${m})`).join(', ')}
  FROM (SELECT s.at AS at, s.status AS status, ${METRIC_VALUES} FROM samples s WHERE s.host_id = ? AND s.at >= ? AND s.at < ?)
  GROUP BY t ORDER BY t`;
const HOURLY_ROWS = `SELECT hour AS t, polls, ok, last_failure AS failure, ${SERIES_METRICS.map((m) => `${m}_avg, ${m}_max`).join(', ')}
  FROM hourly WHERE host_id = ? AND hour >= ? AND hour < ? ORDER BY hour`;

/** The default step for a range: a round step giving about DEFAULT_POINTS points. */
export function defaultStep(from: number, to: number): number {
  const wanted = (to - from) / DEFAULT_POINTS;
  return NICE_STEPS.find((s) => s >= wanted) ?? Math.ceil(wanted / 86_400) * 86_400;
}

// Read-only queries over one store handle; statements are prepared once.
export class HistoryQueries {
  private readonly s;
  private readonly maintenance: Maintenance;

  constructor(db: Database.Database) {
    const p = (sql: string): Database.Statement => db.prepare(sql);
    this.s = {
      hostId: p('SELECT id FROM hosts WHERE name = ?').pluck(),
      rawBuckets: p(RAW_BUCKETS).raw(),
      hourlyRows: p(HOURLY_ROWS).raw(),
      latest: p(`SELECT h.name, h.address, h.transport, h.tags, s.at, s.status, s.phase, s.error, s.duration_ms, s.hostname,
          coalesce(nullif(s.os_pretty, ''), s.os_family), s.uptime_s, s.cpu_cores, s.cpu_pct, s.load_1m, s.mem_total_kb, s.mem_available_kb,
          CASE WHEN s.mem_total_kb > 0 THEN (s.mem_total_kb - s.mem_available_kb) * 100.0 / s.mem_total_kb END,
          CASE WHEN s.swap_total_kb > 0 THEN (s.swap_total_kb - s.swap_free_kb) * 100.0 / s.swap_total_kb END
        FROM hosts h JOIN samples s ON s.host_id = h.id AND s.at = h.latest_at ORDER BY h.name`).raw(),
      rawUsers: p(`SELECT user, count(*), sum(cpu_pct), max(cpu_pct), sum(rss_kb), max(rss_kb) FROM users
        WHERE host_id = ? AND at >= ? AND at < ? GROUP BY user`).raw(),
      hourlyUsers: p(`SELECT user, sum(polls), sum(cpu_pct_avg * polls), max(cpu_pct_max), sum(rss_kb_avg * polls), max(rss_kb_max) FROM hourly_users
        WHERE host_id = ? AND hour >= ? AND hour < ? GROUP BY user`).raw(),
      sampleAtOrBefore: p('SELECT at, status FROM samples WHERE host_id = ? AND at <= ? ORDER BY at DESC LIMIT 1'),
      sampleAfter: p('SELECT at, status FROM samples WHERE host_id = ? AND at > ? ORDER BY at LIMIT 1'),
      processes: p('SELECT pid, user, cpu_pct AS cpuPct, rss_kb AS rssKb, name FROM processes WHERE host_id = ? AND at = ? ORDER BY cpu_pct DESC, rss_kb DESC'),
      sessions: p('SELECT user, terminal, from_addr AS "from" FROM sessions WHERE host_id = ? AND at = ? ORDER BY seq'),
      cycles: p(`SELECT started_at AS startedAt, duration_ms AS durationMs, hosts_total AS hostsTotal, hosts_ok AS hostsOk, hosts_failed AS hostsFailed,
          coverage_pct AS coveragePct, latency_p50_ms AS latencyP50Ms, latency_p95_ms AS latencyP95Ms, reconnects
        FROM cycles WHERE started_at >= ? AND started_at < ? ORDER BY started_at`),
    };
    this.maintenance = new Maintenance(db);
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
    let step = stepSec ?? defaultStep(from, to);
    if (!Number.isInteger(step) || step < 1) throw new QueryError(`step must be a whole number of seconds ≥ 1 (got ${step})`);
    const hourly = step >= HOUR;
    if (hourly) step = Math.ceil(step / HOUR) * HOUR;
    if ((to - from) / step > MAX_POINTS) throw new QueryError(`the range holds more than ${MAX_POINTS} steps of ${step} s: ask for a larger step`);
    const hostId = this.s.hostId.get(host) as number | undefined;
    if (hostId === undefined) return null;

    let rows: unknown[][];
    if (!hourly) {
      rows = this.s.rawBuckets.all(step, step, hostId, from, to) as unknown[][];
    } else {
      // Completed, rolled-up hours from the rollup; the rest (the current hour, a backlog) from raw samples, by hour.
      const split = Math.max(from, Math.min(to, this.maintenance.rolledUpTo() ?? from));
      rows = [
        ...(this.s.hourlyRows.all(hostId, from, split) as unknown[][]),
        ...(this.s.rawBuckets.all(HOUR, HOUR, hostId, split, to) as unknown[][]),
      ];
    }
    return { host, from, to, stepSec: step, source: hourly ? 'hourly' : 'raw', metrics: wanted, points: buckets(rows, wanted, from, to, step) };
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
      processes: this.s.processes.all(hostId, nearest.at) as ProcessSnapshot['processes'],
      sessions: this.s.sessions.all(hostId, nearest.at) as ProcessSnapshot['sessions'],
    };
  }

  /** The cycles that started in [from, to), oldest first. */
  cycles(from: number, to: number): CycleRow[] {
    checkRange(from, to);
    return this.s.cycles.all(from, to) as CycleRow[];
  }
}

function checkRange(from: number, to: number): void {
  if (!Number.isInteger(from) || !Number.isInteger(to) || from < 0 || to < 0) {
    throw new QueryError(`from and to must be whole epoch seconds ≥ 0 (got ${from}, ${to})`);
  }
  if (to <= from) throw new QueryError(`to (${to}) must be after from (${from})`);
}

function checkMetrics(metrics: readonly string[]): SeriesMetric[] {
  if (metrics.length === 0) throw new QueryError(`name at least one metric (${SERIES_METRICS.join(', ')})`);
  const unknown = metrics.filter((m) => !(SERIES_METRICS as readonly string[]).includes(m));
  if (unknown.length > 0) throw new QueryError(`unknown metric ${unknown.map((m) => JSON.stringify(m)).join(', ')} (known: ${SERIES_METRICS.join(', ')})`);
  return [...new Set(metrics)] as SeriesMetric[];
}

// Bucket rows (t, polls, ok, failure, avg0, max0, avg1, max1, ...) -> one point per step of [from, to), gaps included.
// Rows finer than the step (hours into a day) are merged: avg weighted by successful polls, max of max.
function buckets(rows: readonly unknown[][], metrics: readonly SeriesMetric[], from: number, to: number, step: number): SeriesPoint[] {
  const index = metrics.map((m) => SERIES_METRICS.indexOf(m));
  const first = Math.floor(from / step) * step;
  const count = Math.ceil((to - first) / step);
  const acc = Array.from({ length: count }, (_, i) => ({
    t: first + i * step,
    polls: 0,
    ok: 0,
    failure: null as string | null,
    sums: new Float64Array(metrics.length),
    weights: new Float64Array(metrics.length),
    max: new Float64Array(metrics.length).fill(-Infinity),
  }));
  for (const row of rows) {
    const b = acc[Math.floor(((row[0] as number) - first) / step)];
    if (b === undefined) continue;
    const ok = row[2] as number;
    b.polls += row[1] as number;
    b.ok += ok;
    if (row[3] !== null) b.failure = row[3] as string;
    index.forEach((k, j) => {
      const avg = row[4 + k * 2] as number | null;
      const max = row[5 + k * 2] as number | null;
      if (avg === null || max === null) return;
      const weight = Math.max(ok, 1);
      (b.sums[j] as number) += avg * weight;
      (b.weights[j] as number) += weight;
      if (max > (b.max[j] as number)) b.max[j] = max;
    });
  }
  return acc.map((b) => {
    const values: Record<string, { avg: number; max: number } | null> = {};
    metrics.forEach((m, j) => {
      const w = b.weights[j] as number;
      values[m] = w > 0 ? { avg: (b.sums[j] as number) / w, max: b.max[j] as number } : null;
    });
    return { t: b.t, polls: b.polls, ok: b.ok, status: b.polls === 0 ? null : b.ok > 0 ? 'ok' : b.failure, values };
  });
}

function parseTags(text: string): string[] {
  try {
    const tags: unknown = JSON.parse(text);
    return Array.isArray(tags) ? tags.filter((t): t is string => typeof t === 'string') : [];
  } catch {
    return [];
  }
}
