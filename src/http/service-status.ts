// What the running service tells the API about itself: readiness (for /readyz) and its state
// (for /api/v1/status). The serve loop implements it; the HTTP side only reads it.
import type { WorkerStatus } from '../web/shapes.js';
import type { CycleRow } from './history-reader.js';

// Whether the service can answer queries yet, and why not.
export type Readiness = { readonly ready: true } | { readonly ready: false; readonly reason: string };

// The service's state as /api/v1/status shows it.
export interface StatusSnapshot {
  readonly version: string;
  readonly startedAtSec: number;
  /** Seconds between cycles; null when not scheduled (a cron poll). */
  readonly intervalSeconds: number | null;
  readonly cycleRunning: boolean;
  readonly nextCycleAtSec: number | null;
  /** The last finished cycle; null before the first one ends. */
  readonly lastCycle: CycleRow | null;
  /** Cycles skipped because the previous one overran. */
  readonly skippedCycles: number;
  /** Hosts in the inventory now running. */
  readonly hosts: number;
  /** The last reload of servers.csv or the settings: a bad edit keeps the previous ones and lists its problems here. */
  readonly reload: { readonly atSec: number | null; readonly ok: boolean; readonly problems: readonly string[] };
}

// One worker poller as /api/v1/workers shows it; defined with the dashboard's shapes (its Workers page reads it).
export type { WorkerStatus };

// Implemented by the serve loop.
export interface ServiceStatus {
  readiness(): Readiness;
  snapshot(): StatusSnapshot;
  /** The workers heard of; absent or null when the service is not a coordinator (no nats settings). */
  workers?(): readonly WorkerStatus[] | null;
}
