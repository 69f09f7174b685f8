// Hosts a coordinator answers for itself even with workers in zones: transport=push hosts send
// their samples to the coordinator's own ingest route (docs/push.md), so no worker could read them.
import type { Host } from '../model.js';
import type { FanOut, FanOutResult } from '../run-poll.js';

/** Whether the coordinator polls this host itself rather than sending it to its zone's workers. */
export function polledByCoordinator(host: Host): boolean {
  return host.transport === 'push';
}

/** One fan-out over both kinds of host; results in the inventory's order. */
export function splitFanOut(local: FanOut, remote: FanOut): FanOut {
  return async (hosts, options): Promise<FanOutResult> => {
    const mine = hosts.filter(polledByCoordinator);
    const theirs = hosts.filter((h) => !polledByCoordinator(h));
    const none: FanOutResult = { results: [], notStarted: new Set() };
    const [a, b] = await Promise.all([mine.length > 0 ? local(mine, options) : none, theirs.length > 0 ? remote(theirs, options) : none]);
    const byName = new Map([...a.results, ...b.results].map((r) => [r.host.name, r]));
    const results = hosts.flatMap((h) => byName.get(h.name) ?? []);
    return { results, notStarted: new Set([...a.notStarted, ...b.notStarted]) };
  };
}
