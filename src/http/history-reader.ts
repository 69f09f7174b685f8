// What the HTTP routes read from the history store, and nothing more: the narrow, read-only
// view the handlers are written against. The SQLite store (src/history/queries.ts) implements
// it; route tests use an in-memory fake. Times are epoch seconds UTC, as the store keeps them.
import type { Phase, PollStatus } from '../model.js';

/** Metrics a series can ask for: the host metrics the store keeps raw and as hourly rollups. */
export const SERIES_METRICS = ['cpu_pct', 'mem_pct', 'swap_pct', 'load_1m', 'load_5m', 'load_15m', 'mem_used_kb'] as const;
// One of SERIES_METRICS.
export type SeriesMetric = (typeof SERIES_METRICS)[number];

// A value that may come synchronously (better-sqlite3) or not.
export type Awaitable<T> = T | Promise<T>;

// The latest poll of one host, ok or not; measured values are null when the poll failed.
export interface HostLatest {
  readonly name: string;
  readonly address: string;
  readonly transport: string;
  readonly tags: readonly string[];
  /** When the latest poll ran; null for a host never polled yet. */
  readonly atSec: number | null;
  readonly status: PollStatus | null;
  readonly phase: Phase | null;
  readonly error: string | null;
  readonly durationMs: number | null;
  /** The last poll that succeeded (equal to atSec when the latest did). */
  readonly lastOkAtSec: number | null;
  readonly osPretty: string | null;
  readonly uptimeSec: number | null;
  readonly cpuCores: number | null;
  readonly cpuPct: number | null;
  readonly memPct: number | null;
  readonly swapPct: number | null;
  readonly load1m: number | null;
  readonly load5m: number | null;
  readonly load15m: number | null;
  readonly memTotalKb: number | null;
  readonly memAvailableKb: number | null;
  /** The filesystem closest to full. */
  readonly fullestDisk: { readonly mount: string; readonly usedPct: number } | null;
}

// A series request after validation: the range is whole and the step fits it.
export interface SeriesQuery {
  readonly host: string;
  readonly metrics: readonly SeriesMetric[];
  readonly fromSec: number;
  readonly toSec: number;
  readonly stepSec: number;
}

// Columnar series (what uPlot draws): values[m][i] belongs to timesSec[i]; null is a gap, never interpolated.
export interface SeriesResult {
  readonly host: string;
  readonly fromSec: number;
  readonly toSec: number;
  readonly stepSec: number;
  /** Raw samples, or hourly rollups when the step is an hour or more (or raw data was pruned). */
  readonly source: 'raw' | 'hourly';
  readonly timesSec: readonly number[];
  readonly values: Readonly<Partial<Record<SeriesMetric, readonly (number | null)[]>>>;
  /** Failed polls in the range, to mark the gaps with their status. */
  readonly failures: readonly { readonly atSec: number; readonly status: PollStatus; readonly error: string | null }[];
}

// A per-user range request (CPU % and resident memory of each user over time).
export interface UsersQuery {
  readonly host: string;
  readonly fromSec: number;
  readonly toSec: number;
  readonly stepSec: number;
}

// Per-user series, columnar like SeriesResult.
export interface UsersResult {
  readonly host: string;
  readonly fromSec: number;
  readonly toSec: number;
  readonly stepSec: number;
  readonly source: 'raw' | 'hourly';
  readonly timesSec: readonly number[];
  readonly users: readonly { readonly user: string; readonly cpuPct: readonly (number | null)[]; readonly rssKb: readonly (number | null)[] }[];
}

// The top processes and sessions of one poll: "which application was it".
export interface ProcessSnapshot {
  readonly host: string;
  /** The poll nearest at or before the asked time. */
  readonly atSec: number;
  readonly status: PollStatus;
  readonly processes: readonly { readonly pid: number; readonly user: string; readonly cpuPct: number; readonly rssKb: number; readonly name: string }[];
  readonly sessions: readonly { readonly user: string; readonly terminal: string; readonly from: string }[];
}

// One recorded cycle.
export interface CycleSummary {
  readonly startedAtSec: number;
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

// The read side of the history store, as the routes use it.
export interface HistoryReader {
  /** True when the store knows a host of this name (polled at least once or in the inventory). */
  hostExists(name: string): Awaitable<boolean>;
  /** The latest poll of every host, in server-name order. */
  latest(): Awaitable<readonly HostLatest[]>;
  series(query: SeriesQuery): Awaitable<SeriesResult>;
  users(query: UsersQuery): Awaitable<UsersResult>;
  /** The poll at or just before `atSec`; null when the host has none recorded then. */
  processesAt(query: { readonly host: string; readonly atSec: number }): Awaitable<ProcessSnapshot | null>;
  /** Cycles started in [fromSec, toSec], newest first, at most `limit`. */
  cycles(query: { readonly fromSec: number; readonly toSec: number; readonly limit: number }): Awaitable<readonly CycleSummary[]>;
}
