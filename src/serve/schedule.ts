// The schedule of `fleetpoll serve` as pure functions of the clock: ticks on multiples of the interval
// (UTC), each host's start offset inside a tick, and what an overrunning cycle skips.
import { createHash } from 'node:crypto';

/** The first tick strictly after `nowMs`: a multiple of the interval since the epoch, so on the clock (…:00, :05, :10). */
export function nextTickMs(nowMs: number, intervalMs: number): number {
  return (Math.floor(nowMs / intervalMs) + 1) * intervalMs;
}

/**
 * A host's start offset inside a cycle: a stable hash of its name placed over `spreadFraction` of the
 * interval, so 10,000 hosts do not connect at the same instant and each host keeps its place from one
 * cycle (and one restart) to the next.
 */
export function hostOffsetMs(name: string, intervalMs: number, spreadFraction: number): number {
  if (spreadFraction <= 0) return 0;
  // The first 32 bits of SHA-256: stable across versions and platforms, evenly spread.
  const unit = createHash('sha256').update(name, 'utf8').digest().readUInt32BE(0) / 2 ** 32;
  return Math.floor(unit * spreadFraction * intervalMs);
}

// When the next cycle starts after one that began at a tick, and how many ticks it overran.
export interface AfterCycle {
  readonly nextTickMs: number;
  /** Ticks that passed while the cycle ran: their cycles are skipped, never run late or twice at once. */
  readonly skippedTicks: number;
}

/** The next cycle after one that started at `tickMs` (a tick, or the service's start) and ended at `endMs`. */
export function afterCycle(tickMs: number, endMs: number, intervalMs: number): AfterCycle {
  // Ticks in (tickMs, endMs] came while the cycle ran; the next one is the first after its end.
  return { nextTickMs: nextTickMs(endMs, intervalMs), skippedTicks: Math.max(0, Math.floor(endMs / intervalMs) - Math.floor(tickMs / intervalMs)) };
}

/** How long a host waits after its cycle's start before it connects (0 when it is already late). */
export function startDelayMs(tickMs: number, offsetMs: number, nowMs: number): number {
  return Math.max(0, tickMs + offsetMs - nowMs);
}
