// The workers page (/workers): with zones (docs/zones.md), the worker pollers the coordinator hears
// from, by zone: how many are live, and each one's version, heartbeat and jobs. Standalone, it says
// that this service polls every host itself. Heartbeats move, so the page reloads its data every
// REFRESH_MS while it is open.
import type { WorkersData, WorkerStatus } from '../shapes.js';
import { csvButton } from './csv.js';
import { el, errorBox, getJson, mainElement, markReady } from './dom.js';
import { duration, utc } from './format.js';
import { table } from './table.js';

const REFRESH_MS = 15_000;

const main = mainElement();
const body = el('div');
main.append(el('h1', { text: 'Workers' }), body);
void load();
setInterval(() => void load(), REFRESH_MS);

async function load(): Promise<void> {
  let data: WorkersData;
  try {
    data = await getJson<WorkersData>('/api/v1/workers');
  } catch (error) {
    body.replaceChildren(errorBox((error as Error).message));
    return;
  }
  const nowSec = Date.now() / 1000;
  if (data.mode === 'standalone') {
    body.replaceChildren(
      el('p', { class: 'muted', text: 'This service polls every host itself: it has no nats settings, so there are no worker pollers (see docs/zones.md).' }),
    );
    markReady('workers');
    return;
  }
  body.replaceChildren(zonesCard(data.workers), workersCard(data.workers, nowSec));
  markReady('workers');
}

// One row per zone: a zone whose workers are all gone gives its hosts "no poller in zone" rows.
function zonesCard(workers: readonly WorkerStatus[]): HTMLElement {
  const zones = new Map<string, { live: number; all: number; inFlight: number }>();
  for (const w of workers) {
    const z = zones.get(w.zone) ?? { live: 0, all: 0, inFlight: 0 };
    z.all += 1;
    if (w.live) {
      z.live += 1;
      z.inFlight += w.inFlight;
    }
    zones.set(w.zone, z);
  }
  const names = [...zones.keys()].sort();
  const header = ['Zone', 'Live workers', 'Workers heard of', 'Hosts in hand'];
  const rows = names.map((name) => {
    const z = zones.get(name) as { live: number; all: number; inFlight: number };
    return [name, z.live === 0 ? el('strong', { class: 'status-bad', text: '0 (no poller)' }) : String(z.live), String(z.all), String(z.inFlight)];
  });
  return el('section', { class: 'card', attrs: { 'aria-label': 'Zones' } }, [
    el('div', { class: 'card-head' }, [el('h2', { text: `Zones: ${names.length}` })]),
    names.length === 0
      ? el('p', { class: 'muted', text: 'No worker has been heard from yet: every host of a zone without a live worker gets an "unreachable" row.' })
      : table('Zones', header, rows, [false, true, true, true], 'zones'),
  ]);
}

function workersCard(workers: readonly WorkerStatus[], nowSec: number): HTMLElement {
  const sorted = [...workers].sort((a, b) => a.zone.localeCompare(b.zone) || a.id.localeCompare(b.id));
  const header = ['Zone', 'Worker', 'Machine', 'PID', 'Version', 'Started', 'Last heartbeat', 'Slots', 'Hosts in hand', 'Hosts done', 'State'];
  const rows = sorted.map((w) => [
    w.zone,
    w.id,
    w.hostname,
    String(w.pid),
    w.version,
    utc(w.startedAtSec),
    `${duration(nowSec - w.lastSeenSec)} ago`,
    w.slots === null ? '–' : String(w.slots),
    String(w.inFlight),
    String(w.done),
    w.live ? 'live' : el('strong', { class: 'status-bad', text: 'silent' }),
  ]);
  const csv = sorted.map((w) => [w.zone, w.id, w.hostname, w.pid, w.version, utc(w.startedAtSec, true), utc(w.lastSeenSec, true), w.slots ?? '', w.inFlight, w.done, w.live ? 'live' : 'silent']);
  return el('section', { class: 'card', attrs: { 'aria-label': 'Workers' } }, [
    el('div', { class: 'card-head' }, [el('h2', { text: `Workers: ${workers.length}` }), csvButton('workers', 'workers.csv', () => ({ header, rows: csv }))]),
    sorted.length === 0 ? el('p', { class: 'muted', text: 'None yet.' }) : table('Workers', header, rows, [false, false, false, true, false, false, false, true, true, true, false], 'workers'),
  ]);
}
