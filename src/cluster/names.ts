// The names fleetpoll uses in NATS: streams, consumers, subjects and message ids. One place, so that
// the coordinator, the workers and docs/zones.md agree.

/** The work-queue stream of poll jobs; one subject per zone and slot (slots.ts). */
export const JOBS_STREAM = 'FLEETPOLL_JOBS';
/** The stream of results; one subject per cycle and zone, purged once the cycle is written. */
export const RESULTS_STREAM = 'FLEETPOLL_RESULTS';
/** Workers publish heartbeats here (core NATS, not stored): fleetpoll.workers.<zone>. */
export const HEARTBEAT_PREFIX = 'fleetpoll.workers';
/** The coordinator asks every worker for an immediate heartbeat here (at its start, for a zone that seems empty). */
export const HELLO_SUBJECT = 'fleetpoll.hello';

/** The subject of the jobs of one slot of a zone. */
export function jobSubject(zone: string, slot: number): string {
  return `fleetpoll.jobs.${zone}.${slot}`;
}

/** The durable pull consumer of one slot of a zone, pulled by the worker of the zone that owns the slot. */
export function slotConsumer(zone: string, slot: number): string {
  return `fleetpoll-zone-${zone}-${slot}`;
}

/** The subject a worker of `zone` publishes one result of cycle `cycleId` to. */
export function resultSubject(cycleId: string, zone: string): string {
  return `fleetpoll.results.${cycleId}.${zone}`;
}

/** Every result of one cycle. */
export function cycleResults(cycleId: string): string {
  return `fleetpoll.results.${cycleId}.>`;
}

/** The heartbeat subject of one zone. */
export function heartbeatSubject(zone: string): string {
  return `${HEARTBEAT_PREFIX}.${zone}`;
}

/**
 * Nats-Msg-Id of a result message: the results stream drops a second copy within its duplicate window.
 * A message carries a run of one job's hosts, named by its first and last host and its length, so
 * that a redelivered job's message is dropped only when it carries exactly the same hosts (its cut
 * into messages may differ, the samples being of other sizes).
 */
export function resultMessageId(cycleId: string, firstHost: string, lastHost: string, count: number): string {
  return `${cycleId}:${firstHost}:${lastHost}:${count}`;
}

/**
 * Nats-Msg-Id of a job: batch `batch` (0-based) of slot `slot` of zone `zone` in cycle `cycleId`. The
 * jobs stream drops a second copy (a resumed coordinator publishing again the same batches) within its
 * duplicate window.
 */
export function jobMessageId(cycleId: string, zone: string, slot: number, batch: number): string {
  return `${cycleId}:${zone}.${slot}:${batch}`;
}

/** The id of the cycle that started at `startMs` (one NATS subject token). */
export function cycleIdOf(startMs: number): string {
  return `c${startMs}`;
}
