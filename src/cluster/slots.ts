// Host affinity among the workers of a zone. A zone's hosts are spread over JOB_SLOTS slots by a hash
// of their name; each slot has a consumer of its own, and each live worker of the zone pulls the slots
// it owns. So a host's jobs go to the same worker cycle after cycle, and the host keeps one warm SSH
// connection, from that worker, instead of one from every worker of its zone.
// Ownership is worked out by each worker from the heartbeats it hears (slotsOwnedBy); while views
// differ (a worker joining or just gone) a slot may be pulled by two workers or, for a few
// heartbeats, by none: the work queue still hands each job to one worker, and an unpulled job
// waits, so affinity costs no correctness.

/** Slots per zone: 60 divides evenly among 2, 3, 4, 5 or 6 workers. */
export const JOB_SLOTS = 60;

/** The slot of a host: FNV-1a of its name (stable across versions and platforms), modulo JOB_SLOTS. */
export function slotOf(hostName: string): number {
  return fnv1a(hostName) % JOB_SLOTS;
}

/**
 * The slots worker `self` owns when `liveIds` are the live workers of its zone (itself counted even
 * when not listed). Each slot ranks the workers by a hash of (worker, slot) and goes to the first of
 * them that has fewer than ceil(JOB_SLOTS / n) slots so far, the slots taken in order: no worker
 * gets more than JOB_SLOTS / n rounded up (2 to 6 workers: exactly that), every worker with the
 * same view gets the same answer, and a worker joining or leaving moves about its own share of the
 * slots, not most of them (so few hosts get a new worker and a new connection).
 */
export function slotsOwnedBy(self: string, liveIds: Iterable<string>): Set<number> {
  const ids = [...new Set([...liveIds, self])].sort();
  const cap = Math.ceil(JOB_SLOTS / ids.length);
  const taken = new Map(ids.map((id) => [id, 0]));
  const owned = new Set<number>();
  for (let slot = 0; slot < JOB_SLOTS; slot++) {
    const ranked = ids.map((id) => ({ id, score: mix(fnv1a(`${id}#${slot}`)) })).sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1));
    const owner = ranked.find((w) => (taken.get(w.id) ?? 0) < cap)?.id ?? self;
    taken.set(owner, (taken.get(owner) ?? 0) + 1);
    if (owner === self) owned.add(slot);
  }
  return owned;
}

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

// MurmurHash3's finaliser: FNV-1a alone ranks ids that differ in their last characters too alike.
function mix(hash: number): number {
  let h = hash;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
