// The fan-out of one `serve` cycle: each host starts at its offset in the tick (schedule.ts), then polls
// exactly as `poll` does (pollWithGates: same gates, deadline, retries). `poll`'s pollFleet is untouched.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Host, PollResult } from '../model.js';
import { FailureLines } from '../fleet/failure-lines.js';
import { pollGates, pollWithGates, type PollOptions } from '../fleet/poll.js';
import type { FanOut, FanOutResult } from '../run-poll.js';
import { startDelayMs } from './schedule.js';

// Where a cycle's hosts start: its tick and each host's offset in it.
export interface CycleStarts {
  readonly tickMs: number;
  readonly offsetMs: (host: Host) => number;
  /** Epoch ms now (tests pin it). */
  readonly nowMs?: () => number;
}

/**
 * A FanOut that delays each host to its start time. When `stop` aborts, hosts that have not started
 * yet are not polled (they are carried over, not given a row); hosts already running finish within
 * their own deadline. As in `poll`, the run log names at most FAILURE_LINES_PER_CYCLE failed hosts a
 * cycle and counts the rest: a site that goes down must not flood the service's log every cycle.
 */
export function spreadFanOut(starts: CycleStarts, stop: AbortSignal): FanOut {
  const now = starts.nowMs ?? Date.now;
  return async (hosts: readonly Host[], options: PollOptions): Promise<FanOutResult> => {
    const gates = pollGates(options);
    const notStarted = new Set<string>();
    const failures = new FailureLines(options.log);
    const polled = await Promise.all(
      hosts.map(async (host): Promise<PollResult | null> => {
        const delay = startDelayMs(starts.tickMs, starts.offsetMs(host), now());
        try {
          if (delay > 0) await sleep(delay, undefined, { signal: stop });
        } catch {
          // Stopped while waiting to start.
        }
        // A connection slot before the deadline starts, as in pollFleet; a stop gives the wait up.
        if (stop.aborted || !(await gates.connections.acquire(stop))) {
          notStarted.add(host.name);
          return null;
        }
        const result = await pollWithGates(host, options, gates, failures);
        options.onResult?.(result);
        return result;
      }),
    );
    failures.flush();
    return { results: polled.filter((r): r is PollResult => r !== null), notStarted };
  };
}
