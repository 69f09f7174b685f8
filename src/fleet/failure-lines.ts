// The run-log lines of one cycle's failed hosts: one line per host up to a limit, then counts. A
// rack, VLAN or site that goes down must not turn every cycle into thousands of log lines (each
// costs the poller ~0.15 ms of CPU in winston and floods stderr); every host's status and error
// are in recentlog.csv and log.csv anyway.
import type { Log } from '../log.js';

/** Failed hosts named one by one in the run log per cycle; the rest are counted in one line. */
export const FAILURE_LINES_PER_CYCLE = 100;

// Collects one cycle's failure lines; flush() at the end of the cycle writes the counts.
export class FailureLines {
  private written = 0;
  // message ("status during phase") -> hosts not named one by one; a Map keeps the order they came in.
  private readonly unlisted = new Map<string, number>();

  constructor(
    private readonly log: Log,
    private readonly limit = FAILURE_LINES_PER_CYCLE,
  ) {}

  /**
   * Logs one failed host (a warning with the host's name), or counts it under `message` (e.g.
   * "unreachable during connect") once the limit is reached.
   */
  failed(host: string, message: string, meta: Record<string, unknown>): void {
    if (this.written < this.limit) {
      this.written += 1;
      this.log.child({ host }).warn(message, meta);
      return;
    }
    this.unlisted.set(message, (this.unlisted.get(message) ?? 0) + 1);
  }

  /** Writes one line counting the hosts not named, if any; the counts start again. */
  flush(): void {
    if (this.unlisted.size === 0) return;
    let total = 0;
    const groups: string[] = [];
    for (const [key, count] of this.unlisted) {
      total += count;
      groups.push(`${count} ${key}`);
    }
    this.unlisted.clear();
    this.log.warn(`${total} more failed hosts not named one by one (the first ${this.limit} are above; every host's status and error are in recentlog.csv)`, {
      failed: groups.join(', '),
    });
  }
}

/**
 * FailureLines per cycle for a poller that takes hosts one job at a time (a zone worker): a cycle's
 * lines are counted from its first job; when a third cycle starts, the oldest one's counts are
 * written (its stragglers are long done: a job outlives its cycle's deadline by at most one ack wait).
 */
export class FailureLinesByCycle {
  private readonly cycles = new Map<string, FailureLines>();

  constructor(
    private readonly log: Log,
    private readonly limit = FAILURE_LINES_PER_CYCLE,
  ) {}

  /** The lines of this cycle. */
  of(cycleId: string): FailureLines {
    let lines = this.cycles.get(cycleId);
    if (lines === undefined) {
      lines = new FailureLines(this.log, this.limit);
      this.cycles.set(cycleId, lines);
      // A Map iterates in insertion order: the first key is the oldest cycle.
      if (this.cycles.size > 2) this.drop(this.cycles.keys().next().value as string);
    }
    return lines;
  }

  /** Writes every cycle's counts (at stop). */
  flushAll(): void {
    for (const id of [...this.cycles.keys()]) this.drop(id);
  }

  private drop(cycleId: string): void {
    this.cycles.get(cycleId)?.flush();
    this.cycles.delete(cycleId);
  }
}
