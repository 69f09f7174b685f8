// What the ingest route needs to know of the inventory and settings in force: the transport=push hosts
// with their intervals, and the push settings. The service rebuilds it at every (re)load.
import type { Host } from '../model.js';
import { DEFAULT_PUSH_SETTINGS, type PushSettings } from './settings.js';

// A push host as the ingest route needs it.
export interface IngestHost {
  readonly name: string;
  readonly intervalSeconds: number;
}

// The push hosts and settings in force now.
export interface IngestView {
  /** transport=push hosts by lower-cased name. */
  readonly hosts: ReadonlyMap<string, IngestHost>;
  readonly settings: PushSettings;
}

/** The view of an inventory's enabled hosts under the given settings. */
export function ingestView(hosts: readonly Host[], settings: PushSettings): IngestView {
  const pushHosts = new Map<string, IngestHost>();
  for (const host of hosts) {
    if (host.transport === 'push') pushHosts.set(host.name.toLowerCase(), { name: host.name, intervalSeconds: host.push?.intervalSeconds ?? settings.intervalSeconds });
  }
  return { hosts: pushHosts, settings };
}

/** No push host (before the service has loaded its inventory). */
export const EMPTY_INGEST_VIEW: IngestView = { hosts: new Map(), settings: DEFAULT_PUSH_SETTINGS };
