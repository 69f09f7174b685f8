// Paces new connection attempts: at most `perSecond`, one every 1000/perSecond ms. When a site is
// down, thousands of attempts (and, a second later, their retries) would otherwise start in the
// same instant: a burst of SYNs a firewall or IDS may take for a scan, and a burst of refusals
// and error objects that costs the poller a core for that second and leaves its heap grown.
// Each attempt takes its own start time from one counter: no queue, no objects per waiter.

/** The default pace: far above the key exchanges a poller gets through (about 45 a second on a 2-core machine), so it slows only bursts of dead hosts. */
export const DEFAULT_STARTS_PER_SECOND = 500;

// The start times of one cycle's connection attempts.
export class StartRate {
  private nextAtMs = Number.NEGATIVE_INFINITY;

  constructor(
    readonly perSecond: number,
    private readonly nowMs: () => number = () => performance.now(),
  ) {
    if (!(perSecond > 0)) throw new Error(`a start rate needs a positive number of starts a second (got ${perSecond})`);
  }

  /** Reserves the next start time; returns how many ms to wait for it (0: start now). */
  reserve(): number {
    return this.untilMs(this.reserveAt());
  }

  /** Reserves the next start time; returns it, on this rate's clock (ms). */
  reserveAt(): number {
    const at = Math.max(this.nowMs(), this.nextAtMs);
    this.nextAtMs = at + 1000 / this.perSecond;
    return at;
  }

  /** Milliseconds from now until `atMs` on this rate's clock (0 once it has passed). */
  untilMs(atMs: number): number {
    return Math.max(0, atMs - this.nowMs());
  }
}
