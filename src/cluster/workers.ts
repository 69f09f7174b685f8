// A view of the workers: the last heartbeat of each, by id. A worker is live while its heartbeats keep
// coming (three missed beats: gone) and until it says it is stopping. The coordinator's is read by the
// cycle (which zones have a poller) and by the API (/api/v1/workers); each worker keeps one of its
// zone, to share the zone's slots with the others (slots.ts).
import type { WorkerStatus } from '../http/service-status.js';
import type { Heartbeat } from './messages.js';

// Beats a worker may miss before it counts as gone.
export const MISSED_BEATS = 3;
// Workers not heard of for this long are dropped from the list (the API shows recent ones only).
const FORGET_AFTER_BEATS = 60;

// One worker as the API shows it (lastSeenSec: when the coordinator last heard from it; its clock may differ).
export type WorkerView = WorkerStatus;

// Heartbeats received, and who is live.
export class WorkerRegistry {
  private readonly beats = new Map<string, { beat: Heartbeat; seenMs: number }>();

  constructor(
    private readonly heartbeatMs: number,
    private readonly nowMs: () => number = Date.now,
  ) {}

  /** Records a heartbeat (or a goodbye). */
  heard(beat: Heartbeat): void {
    this.beats.set(beat.id, { beat, seenMs: this.nowMs() });
  }

  /** Whether `zone` has a live worker. */
  hasLive(zone: string): boolean {
    return this.liveIds(zone).length > 0;
  }

  /** The ids of the live workers of `zone`. */
  liveIds(zone: string): string[] {
    this.forgetOld();
    const ids: string[] = [];
    for (const [id, { beat, seenMs }] of this.beats) if (beat.zone === zone && this.isLive(beat, seenMs)) ids.push(id);
    return ids;
  }

  /** Every worker heard of recently, live or not, by zone then id. */
  list(): WorkerView[] {
    this.forgetOld();
    const out: WorkerView[] = [];
    for (const [id, { beat, seenMs }] of this.beats) {
      out.push({
        id,
        zone: beat.zone,
        version: beat.version,
        hostname: beat.hostname,
        pid: beat.pid,
        startedAtSec: beat.startedAtSec,
        lastSeenSec: Math.floor(seenMs / 1000),
        inFlight: beat.inFlight,
        done: beat.done,
        slots: beat.slots ?? null,
        live: this.isLive(beat, seenMs),
      });
    }
    return out.sort((a, b) => a.zone.localeCompare(b.zone) || a.id.localeCompare(b.id));
  }

  // Workers gone long ago (each restart is a new id) are dropped, so the list stays that of recent ones.
  private forgetOld(): void {
    const now = this.nowMs();
    for (const [id, { seenMs }] of this.beats) if (now - seenMs > FORGET_AFTER_BEATS * this.heartbeatMs) this.beats.delete(id);
  }

  private isLive(beat: Heartbeat, seenMs: number): boolean {
    return !beat.stopping && this.nowMs() - seenMs <= MISSED_BEATS * this.heartbeatMs;
  }
}
