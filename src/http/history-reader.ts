// What the HTTP routes read from the history store, and nothing more: the narrow, read-only view
// the handlers are written against. Its methods and row shapes mirror src/history/queries.ts
// (HistoryQueries, from `HistoryStore.read()`) so that the store is passed as it is; route tests
// use an in-memory fake. Times are epoch seconds UTC, as the store keeps them.
import type { Proc, Session } from '../model.js';

/** Metrics a series can ask for (the store's SERIES_METRICS). */
export const SERIES_METRICS = ['cpu_pct', 'mem_pct', 'swap_pct', 'load_1m', 'load_5m', 'load_15m', 'mem_used_kb'] as const;
// One of SERIES_METRICS.
export type SeriesMetric = (typeof SERIES_METRICS)[number];

// One bucket of a series: status 'ok' when any poll in it succeeded, else its polls' failure, null without polls.
export interface SeriesPoint {
  /** Start of the bucket. */
  readonly t: number;
  readonly polls: number;
  readonly ok: number;
  readonly status: string | null;
  /** Per requested metric; null is a gap (no successful poll), never interpolated. */
  readonly values: Readonly<Record<string, { avg: number; max: number } | null>>;
}

// A downsampled series of one host over [from, to).
export interface Series {
  readonly host: string;
  readonly from: number;
  readonly to: number;
  readonly stepSec: number;
  /** Raw samples, or hourly rollups for steps of an hour or more. */
  readonly source: 'raw' | 'hourly';
  readonly metrics: readonly SeriesMetric[];
  readonly points: readonly SeriesPoint[];
}

// The latest poll of one host, ok or not; measured values are null when it failed.
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

// One user's CPU and memory over a range.
export interface UserRange {
  readonly user: string;
  readonly polls: number;
  readonly cpuPctAvg: number;
  readonly cpuPctMax: number;
  readonly rssKbAvg: number;
  readonly rssKbMax: number;
}

// The poll nearest a time, with its top processes (busiest first) and sessions.
export interface ProcessSnapshot {
  readonly at: number;
  readonly status: string;
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
  /** Connections re-opened (serve's warm pool); null for a cron poll. */
  readonly reconnects: number | null;
}

/**
 * The read side of the history store. A request it cannot answer as asked throws an Error named
 * `QueryError` whose message is the reason (the API sends it as a 400); any other error is a 500.
 */
export interface HistoryReader {
  /** Whether the store knows this host. */
  hasHost(host: string): boolean;
  /** Metrics over [from, to) in steps of stepSec (the store's default when undefined); null for an unknown host. */
  series(host: string, metrics: readonly string[], from: number, to: number, stepSec?: number): Series | null;
  /** The latest poll of every host, by name. */
  latest(): readonly LatestRow[];
  /** Per-user totals over [from, to), busiest first; null for an unknown host. */
  users(host: string, from: number, to: number): readonly UserRange[] | null;
  /** The poll nearest `at` (ties: the earlier); null when the host has none (or is unknown). */
  processes(host: string, at: number): ProcessSnapshot | null;
  /** Cycles started in [from, to), oldest first. */
  cycles(from: number, to: number): readonly CycleRow[];
}
