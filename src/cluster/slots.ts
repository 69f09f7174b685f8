// Host affinity among the workers of a zone. A zone's hosts are spread over JOB_SLOTS slots by a hash
// of their name; each slot has a consumer of its own, and each live worker of the zone pulls the slots
// it owns. So a host's jobs go to the same worker cycle after cycle, and the host keeps one warm SSH
// connection, from that worker, instead of one from every worker of its zone.
// Ownership is worked out by each worker from the heartbeats it hears; while views differ (a worker
// joining or just gone) a slot may be pulled by two workers or, for a few heartbeats, by none: the
// work queue still hands each job to one worker, and an unpulled job waits, so affinity costs no
// correctness.

/** Slots per zone: 60 divides evenly among 2, 3, 4, 5 or 6 workers. */
export const JOB_SLOTS = 60;

/** The slot of a host: FNV-1a of its name (stable across versions and platforms), modulo JOB_SLOTS. */
export function slotOf(hostName: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < hostName.length; i++) {
    hash ^= hostName.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % JOB_SLOTS;
}

/**
 * The slots worker `self` owns when `liveIds` are the live workers of its zone (itself counted even
 * when not listed): the workers in id order take the slots in turn, so each has JOB_SLOTS / n of them,
 * give or take one, and every worker with the same view gets the same answer.
 */
export function slotsOwnedBy(self: string, liveIds: Iterable<string>): Set<number> {
  const ids = [...new Set([...liveIds, self])].sort();
  const index = ids.indexOf(self);
  const owned = new Set<number>();
  for (let slot = index; slot < JOB_SLOTS; slot += ids.length) owned.add(slot);
  return owned;
}
