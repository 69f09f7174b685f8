// What the metrics routes read from the running service: the last finished cycle (its results as they
// are, no polling on scrape) and a few figures of the service itself. The serve loop implements it
// (src/serve/metrics-source.ts); the HTTP side only reads it, and is told when a cycle finishes.
import type { PollResult } from '../../model.js';

// One finished cycle, as the metrics read it.
export interface MetricsCycle {
  /** Epoch seconds the cycle started (the time the history records its samples at). */
  readonly startedAtSec: number;
  readonly durationMs: number;
  /** One result per host polled this cycle. */
  readonly results: readonly PollResult[];
  /** Each host's last successful poll (epoch seconds, end of the poll) since the service started. */
  readonly lastOkAtSec: ReadonlyMap<string, number>;
  /** Connections re-opened during the cycle; null without kept connections. */
  readonly reconnects: number | null;
  /** Alert notifications waiting for delivery after the cycle; null when alerts are off. */
  readonly alertMailsQueued: number | null;
  /** Alerts firing after the cycle; null when alerts are off. */
  readonly alertsFiring: number | null;
}

// The service's own figures read at scrape time.
export interface ServiceFigures {
  /** Hosts in the inventory now. */
  readonly inventoryHosts: number;
  /** Ticks skipped since start because a cycle overran its interval. */
  readonly skippedCycles: number;
  /** Kept SSH connections open now; null without kept connections. */
  readonly connectionsOpen: number | null;
  /** Bytes of the history store file and its write-ahead log; null when it has none. */
  readonly historyBytes: number | null;
}

// Implemented by the serve loop.
export interface MetricsSource {
  /** The last finished cycle; null before the first one ends. */
  lastCycle(): MetricsCycle | null;
  service(): ServiceFigures;
  /** Calls `listener` after each finished cycle; returns the function that stops the calls. */
  onCycle(listener: (cycle: MetricsCycle) => void): () => void;
}

/** A source with no cycle and nothing to tell (a server built without the service, as in API tests). */
export const NO_METRICS: MetricsSource = {
  lastCycle: () => null,
  service: () => ({ inventoryHosts: 0, skippedCycles: 0, connectionsOpen: null, historyBytes: null }),
  onCycle: () => () => undefined,
};
