// Which hosts' warm connections a worker keeps: the hosts of the slots it owns that it polled in the
// latest two cycles it has seen. A host that went to another worker (the zone's workers changed) or
// left the inventory has its connection closed instead of kept for ever.
import { slotOf } from './slots.js';

// Hosts polled, by the last cycle each was polled in.
export class RecentHosts {
  private readonly lastCycle = new Map<string, string>();
  // The latest two cycles seen, oldest first.
  private cycles: string[] = [];

  /** Notes the hosts of a job about to be polled; true when its cycle is one not seen before. */
  polled(cycleId: string, hostNames: readonly string[]): boolean {
    for (const name of hostNames) this.lastCycle.set(name, cycleId);
    if (this.cycles.includes(cycleId)) return false;
    this.cycles = [...this.cycles, cycleId].slice(-2);
    return true;
  }

  /** The hosts whose connections stay, with `owned` the slots owned now; the others are forgotten here. */
  keep(owned: ReadonlySet<number>): string[] {
    const kept: string[] = [];
    for (const [name, cycleId] of this.lastCycle) {
      if (this.cycles.includes(cycleId) && owned.has(slotOf(name))) kept.push(name);
      else this.lastCycle.delete(name);
    }
    return kept;
  }
}
