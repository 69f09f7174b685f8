// What the running service knows about itself: its last cycle, skipped ticks, reloads and kept
// connections. The loop writes it; the HTTP API reads it (ServiceStatus).
import type { PollResult } from '../model.js';
import { EMPTY_INGEST_VIEW, type IngestView } from '../push/view.js';
import { FleetCycles } from './metrics-source.js';
import type { WarmStats } from './transports.js';
import type { WorkerStatus } from '../http/service-status.js';

// One finished cycle, in the shape the API's /api/v1/cycles rows have.
export interface CycleSummary {
  /** Epoch seconds. */
  readonly startedAt: number;
  readonly durationMs: number;
  readonly hostsTotal: number;
  readonly hostsOk: number;
  readonly hostsFailed: number;
  /** Hosts not started because the service was stopping (their rows carried over). */
  readonly hostsNotStarted: number;
  readonly coveragePct: number;
  readonly latencyP50Ms: number | null;
  readonly latencyP95Ms: number | null;
  /** Connections re-opened during the cycle (warm mode); null without kept connections. */
  readonly reconnects: number | null;
}

// The last reload attempt: a bad edit keeps the previous settings and lists its problems here.
export interface ReloadState {
  readonly atSec: number | null;
  readonly ok: boolean;
  readonly problems: readonly string[];
}

/** Summarises one cycle's results. */
export function summariseCycle(results: readonly PollResult[], startedAt: Date, durationMs: number, notStarted: number, reconnects: number | null): CycleSummary {
  const ok = results.filter((r) => r.status === 'ok').length;
  const latencies = results.map((r) => r.durationMs).sort((a, b) => a - b);
  const total = results.length + notStarted;
  return {
    startedAt: Math.floor(startedAt.getTime() / 1000),
    durationMs,
    hostsTotal: total,
    hostsOk: ok,
    hostsFailed: results.length - ok,
    hostsNotStarted: notStarted,
    coveragePct: total === 0 ? 0 : Math.round((ok / total) * 1000) / 10,
    latencyP50Ms: percentile(latencies, 0.5),
    latencyP95Ms: percentile(latencies, 0.95),
    reconnects,
  };
}

// Nearest-rank percentile of sorted values.
function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? null;
}

// The service's state, updated by the loop only.
export class ServiceState {
  readonly startedAtSec = Math.floor(Date.now() / 1000);
  intervalSeconds: number;
  cycleRunning = false;
  nextCycleAtSec: number | null = null;
  lastCycle: CycleSummary | null = null;
  cycles = 0;
  skippedCycles = 0;
  hosts: number;
  reload: ReloadState = { atSec: null, ok: true, problems: [] };
  /** The last cycle that could not be written (data dir unwritable); null once one succeeds. */
  lastError: string | null = null;
  warm: (() => WarmStats | null) | null = null;
  /** The transport=push hosts and push settings in force, for the ingest route. */
  push: IngestView = EMPTY_INGEST_VIEW;
  /** The last cycle's results, for the Prometheus routes. */
  readonly fleet = new FleetCycles();
  /** The coordinator's workers (zones); null when the service polls everything itself. */
  workers: (() => readonly WorkerStatus[]) | null = null;

  constructor(intervalSeconds: number, hosts: number) {
    this.intervalSeconds = intervalSeconds;
    this.hosts = hosts;
  }

  /** Ready once a cycle has finished and its files were written. */
  get ready(): boolean {
    return this.lastCycle !== null;
  }
}
