// The alerts page (/alerts): what is firing (or pending) now, from the alert state, and the firing /
// resolved transitions of the range, newest first. Range in the URL.
import type { AlertsData } from '../shapes.js';
import { csvButton } from './csv.js';
import { el, errorBox, getJson, mainElement, markReady } from './dom.js';
import { num } from './format.js';
import { rangeControls, readRange, setUrl, writeRange } from './range.js';
import { table } from './table.js';

const main = mainElement();
const params = new URLSearchParams(location.search);
const body = el('div');
main.append(el('h1', { text: 'Alerts' }));
void load();

async function load(): Promise<void> {
  const range = readRange(params, '7d');
  let data: AlertsData;
  try {
    data = await getJson<AlertsData>(`/api/v1/dashboard/alerts?from=${range.from}&to=${range.to}`);
  } catch (error) {
    body.replaceChildren(errorBox((error as Error).message));
    main.append(body);
    return;
  }
  const what = (a: { rule: string; mount: string | null }): string => (a.mount === null ? a.rule : `${a.rule} ${a.mount}`);
  const hostLink = (h: string): HTMLElement => el('a', { text: h, attrs: { href: `/host?name=${encodeURIComponent(h)}` } });
  const nowRows = data.now.map((a) => [hostLink(a.host), what(a), a.phase, a.level, num(a.value, 1), num(a.threshold, 1), a.reason ?? '', a.since, a.firedAt ?? '']);
  const nowCsv = data.now.map((a) => [a.host, what(a), a.phase, a.level, a.value, a.threshold, a.reason, a.since, a.firedAt]);
  const tRows = data.transitions.map((t) => [t.at, t.kind, hostLink(t.host), what(t), t.level, num(t.value, 1), num(t.threshold, 1), t.reason ?? '']);
  const tCsv = data.transitions.map((t) => [t.at, t.kind, t.host, what(t), t.level, t.value, t.threshold, t.reason]);
  const nowHeader = ['Host', 'Rule', 'Phase', 'Level', 'Value', 'Threshold', 'Reason', 'Since', 'Fired at'];
  const tHeader = ['At', 'Transition', 'Host', 'Rule', 'Level', 'Value', 'Threshold', 'Reason'];
  body.replaceChildren(
    ...(data.enabled ? [] : [el('p', { class: 'muted', text: 'Alerts are off in the settings (alerts.enabled).' })]),
    ...(data.problem === null ? [] : [errorBox(data.problem)]),
    el('section', { class: 'card', attrs: { 'aria-label': 'Firing now' } }, [
      el('div', { class: 'card-head' }, [el('h2', { text: `Firing or pending now: ${data.now.length}` }), csvButton('alerts firing now', 'alerts-now.csv', () => ({ header: nowHeader, rows: nowCsv }))]),
      data.now.length === 0 ? el('p', { class: 'muted', text: 'Nothing is firing.' }) : table('Alerts now', nowHeader, nowRows, [false, false, false, false, true, true, false, false, false], 'alerts-now'),
      el('p', { class: 'muted', text: `${data.queued} notification(s) waiting for the mail server.` }),
    ]),
    el('section', { class: 'card', attrs: { 'aria-label': 'Transitions' } }, [
      el('div', { class: 'card-head' }, [el('h2', { text: 'Transitions (newest first)' }), csvButton('alert transitions', 'alert-transitions.csv', () => ({ header: tHeader, rows: tCsv }))]),
      rangeControls(range, (r) => {
        writeRange(params, r);
        setUrl(params, false);
        void load();
      }),
      data.transitions.length === 0 ? el('p', { class: 'muted', text: 'No transitions in this range.' }) : table('Transitions', tHeader, tRows, [false, false, false, false, false, true, true, false], 'alert-transitions'),
    ]),
  );
  main.append(body);
  markReady('alerts');
}
