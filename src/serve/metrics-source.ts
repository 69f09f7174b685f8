// The service's side of the Prometheus routes: the last finished cycle as it came out of runCycle
// (kept in memory until the next one: a scrape reads it and never polls), each host's last success,
// and the MetricsSource the HTTP server reads.
import { statSync } from 'node:fs';
import type { MetricsCycle, MetricsSource } from '../http/metrics/source.js';
import type { CycleOutcome } from '../run-poll.js';
import type { ServeHistory } from './history.js';
import type { ServiceState } from './status.js';

// The last cycle and those told of each new one; written by the loop only.
export class FleetCycles {
  private last: MetricsCycle | null = null;
  private readonly lastOkAtSec = new Map<string, number>();
  private readonly listeners = new Set<(cycle: MetricsCycle) => void>();

  /** Keeps a finished cycle and tells the listeners. */
  finished(outcome: CycleOutcome, reconnects: number | null): void {
    // Hosts gone from the inventory lose their last success with the rest of their series.
    const current = new Set([...outcome.results.map((r) => r.host.name), ...outcome.notStarted]);
    for (const name of this.lastOkAtSec.keys()) if (!current.has(name)) this.lastOkAtSec.delete(name);
    for (const r of outcome.results) {
      if (r.status === 'ok') this.lastOkAtSec.set(r.host.name, Math.round(r.startedAt.getTime() + r.durationMs) / 1000);
    }
    const alerts = outcome.alerts.enabled ? outcome.alerts : null;
    this.last = {
      startedAtSec: Math.floor(outcome.cycleStart.getTime() / 1000),
      durationMs: outcome.durationMs,
      results: outcome.results,
      lastOkAtSec: new Map(this.lastOkAtSec),
      reconnects,
      alertMailsQueued: alerts?.queued ?? null,
      alertsFiring: alerts?.firing ?? null,
    };
    for (const listener of this.listeners) {
      // What the metrics do with a cycle must never cost the poller its cycle: a failure here loses that
      // cycle's own-health observations, or leaves the fleet exposition to be written by the next scrape.
      try {
        listener(this.last);
      } catch {
        continue;
      }
    }
  }

  lastCycle(): MetricsCycle | null {
    return this.last;
  }

  onCycle(listener: (cycle: MetricsCycle) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** The MetricsSource of the service: its cycles, its state and the size of its history store. */
export function metricsSource(state: ServiceState, history: ServeHistory | null): MetricsSource {
  return {
    lastCycle: () => state.fleet.lastCycle(),
    onCycle: (listener) => state.fleet.onCycle(listener),
    service: () => ({
      inventoryHosts: state.hosts,
      skippedCycles: state.skippedCycles,
      connectionsOpen: state.warm?.()?.open ?? null,
      historyBytes: history === null ? null : fileBytes(history.file) + fileBytes(`${history.file}-wal`),
    }),
  };
}

function fileBytes(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
