// What the HTTP routes read from the history store, and nothing more: the narrow, read-only view
// the handlers are written against. The row shapes are the store's own (src/history/queries.ts), so the
// store's `read()` is passed as it is; route tests use an in-memory fake. Times are epoch seconds UTC.
import type { CycleRow, LatestRow, ProcessSnapshot, Series, UserRange, UsersSeries } from '../history/queries.js';

export { SERIES_METRICS } from '../history/queries.js';
export type { CycleRow, LatestRow, ProcessSnapshot, Series, SeriesMetric, SeriesPoint, UserRange, UserSeries, UsersSeries } from '../history/queries.js';

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
  /**
   * Each user's CPU % and resident kB per step over [from, to), users in `exclude` left out; null for an unknown host.
   * Optional only because a reader built by hand (serve's, which follows the store across re-opens) may not pass it
   * on yet: the route then answers 503 saying so.
   */
  usersSeries?(host: string, from: number, to: number, stepSec: number | undefined, exclude: readonly string[]): UsersSeries | null;
  /** The poll nearest `at` (ties: the earlier); null when the host has none (or is unknown). */
  processes(host: string, at: number): ProcessSnapshot | null;
  /** Cycles started in [from, to), oldest first. */
  cycles(from: number, to: number): readonly CycleRow[];
}
