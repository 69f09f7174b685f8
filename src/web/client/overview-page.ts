// The fleet overview (/): counts by status, one table of every host (sortable by any column, filtered
// by name glob, tag and status, paged so 10,000 hosts stay quick), 24 h sparklines, and a heatmap of
// CPU or memory, hosts × time. Filters, sort, page and range live in the URL.
import type { HeatmapData, OverviewData, OverviewHost } from '../shapes.js';
import { csvButton, type Cell } from './csv.js';
import { el, errorBox, getJson, labelled, mainElement, markReady, select } from './dom.js';
import { duration, num, pct, utc } from './format.js';
import { rangeControls, readRange, setUrl, writeRange } from './range.js';
import { drawHeatmap, heatmapAt } from './heatmap.js';
import { drawSparkline } from './sparkline.js';

const PAGE_ROWS = 100;
const main = mainElement();
const params = new URLSearchParams(location.search);

// A column of the table: how it reads, sorts, shows and exports.
interface Column {
  readonly key: string;
  readonly label: string;
  readonly numeric: boolean;
  value(h: OverviewHost, nowSec: number): number | string | null;
  cell(h: OverviewHost, nowSec: number): Node | string;
}

const mean = (values: readonly (number | null)[]): number | null => {
  const xs = values.filter((v): v is number => v !== null);
  return xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length;
};
const spark = (values: readonly (number | null)[], label: string): Node => {
  const c = el('canvas', { class: 'spark', attrs: { width: '96', height: '22', role: 'img', 'aria-label': `${label}, 24 h average ${pct(mean(values))}` } });
  pendingSparks.push([c, values]);
  return c;
};
let pendingSparks: [HTMLCanvasElement, readonly (number | null)[]][] = [];

const COLUMNS: readonly Column[] = [
  { key: 'host', label: 'Host', numeric: false, value: (h) => h.host, cell: (h) => el('a', { text: h.host, attrs: { href: `/host?name=${encodeURIComponent(h.host)}` } }) },
  { key: 'tags', label: 'Tags', numeric: false, value: (h) => h.tags.join(' '), cell: (h) => h.tags.join(', ') },
  {
    key: 'status',
    label: 'Status',
    numeric: false,
    value: (h) => h.status,
    cell: (h) => el('span', { class: h.status === 'ok' ? 'status-ok' : 'status-bad', text: h.status }),
  },
  { key: 'error', label: 'Error', numeric: false, value: (h) => h.error ?? '', cell: (h) => h.error ?? '' },
  { key: 'cpu', label: 'CPU', numeric: true, value: (h) => h.cpuPct, cell: (h) => pct(h.cpuPct) },
  { key: 'mem', label: 'Memory', numeric: true, value: (h) => h.memPct, cell: (h) => pct(h.memPct) },
  { key: 'swap', label: 'Swap', numeric: true, value: (h) => h.swapPct, cell: (h) => pct(h.swapPct) },
  { key: 'disk', label: 'Fullest FS', numeric: true, value: (h) => h.diskPct, cell: (h) => pct(h.diskPct) },
  { key: 'load', label: 'Load / core', numeric: true, value: (h) => h.loadPerCore, cell: (h) => num(h.loadPerCore, 2) },
  { key: 'uptime', label: 'Uptime', numeric: true, value: (h) => h.uptimeSec, cell: (h) => duration(h.uptimeSec) },
  { key: 'age', label: 'Last poll', numeric: true, value: (h, now) => now - h.at, cell: (h, now) => `${duration(now - h.at)} ago` },
  { key: 'cpu24', label: 'CPU 24 h', numeric: true, value: (h) => mean(h.cpu24), cell: (h) => spark(h.cpu24, `CPU of ${h.host}`) },
  { key: 'mem24', label: 'Memory 24 h', numeric: true, value: (h) => mean(h.mem24), cell: (h) => spark(h.mem24, `Memory of ${h.host}`) },
];

let data: OverviewData;
let heat: HeatmapData | null = null;
let shown: OverviewHost[] = [];

const nameInput = el('input', { attrs: { type: 'search', placeholder: 'web* or db??', size: '18' } });
nameInput.value = params.get('q') ?? '';
const counts = el('div', { class: 'counts', attrs: { role: 'group', 'aria-label': 'Hosts by status' } });
const summary = el('p', { class: 'muted', attrs: { 'aria-live': 'polite' } });
const tableSlot = el('div', { class: 'table-wrap' });
const pager = el('div', { class: 'pager' });
const heatSlot = el('div');
const heatReadout = el('p', { class: 'readout', attrs: { 'aria-live': 'polite' } });
const heatCanvas = el('canvas', { class: 'heatmap', attrs: { role: 'img', 'aria-label': 'Heatmap of the filtered hosts over the range' } });

void start();

async function start(): Promise<void> {
  try {
    data = await getJson<OverviewData>('/api/v1/dashboard/overview');
  } catch (error) {
    main.append(errorBox((error as Error).message));
    return;
  }
  const tags = [...new Set(data.hosts.flatMap((h) => h.tags))].sort();
  const tagSelect = select([['', 'Any tag'], ...tags.map((t) => [t, t] as const)], params.get('tag') ?? '');
  const statuses = [...new Set(data.hosts.map((h) => h.status))].sort();
  const statusSelect = select([['', 'Any status'], ...statuses.map((s) => [s, s] as const)], params.get('status') ?? '');
  const onFilter = (key: string, value: string): void => {
    if (value === '') params.delete(key);
    else params.set(key, value);
    params.delete('page');
    setUrl(params, false);
    render();
  };
  nameInput.addEventListener('input', () => onFilter('q', nameInput.value.trim()));
  tagSelect.addEventListener('change', () => onFilter('tag', tagSelect.value));
  statusSelect.addEventListener('change', () => onFilter('status', statusSelect.value));
  statusSelectRef = statusSelect;

  const metric = select(
    [
      ['cpu_pct', 'CPU %'],
      ['mem_pct', 'Memory %'],
    ],
    params.get('metric') === 'mem_pct' ? 'mem_pct' : 'cpu_pct',
  );
  metric.addEventListener('change', () => {
    params.set('metric', metric.value);
    setUrl(params, false);
    void loadHeatmap();
  });
  const range = readRange(params);
  const controls = rangeControls(range, (r) => {
    writeRange(params, r);
    setUrl(params, false);
    void loadHeatmap();
  });
  const tableCsv = csvButton('the host table', `fleet-${utc(data.now).slice(0, 10)}.csv`, () => ({
    header: COLUMNS.map((c) => c.label),
    rows: shown.map((h) => COLUMNS.map((c) => c.value(h, data.now) as Cell)),
  }));
  const heatCsv = csvButton('the heatmap', `fleet-heatmap-${utc(data.now).slice(0, 10)}.csv`, () => heatmapCsv());
  heatCanvas.addEventListener('mousemove', (e) => {
    const at = heat === null ? null : heatmapAt(heat, shown, heatCanvas, e);
    heatReadout.textContent = at === null ? '' : `${at.host} · ${utc(at.time)} · ${at.value === null ? 'no successful poll' : `${at.value} %`}`;
  });
  heatCanvas.addEventListener('click', (e) => {
    const at = heat === null ? null : heatmapAt(heat, shown, heatCanvas, e);
    if (at !== null) location.href = `/host?name=${encodeURIComponent(at.host)}&from=${at.time - 3 * 3600}&to=${at.time + 3 * 3600}`;
  });

  main.append(
    el('h1', { text: `Fleet overview · ${data.hosts.length} hosts` }),
    counts,
    el('div', { class: 'controls' }, [labelled('Name (glob)', nameInput), labelled('Tag', tagSelect), labelled('Status', statusSelect), tableCsv]),
    summary,
    tableSlot,
    pager,
    el('section', { class: 'card', attrs: { 'aria-label': 'Heatmap' } }, [
      el('div', { class: 'card-head' }, [el('h2', { text: 'Heatmap (hosts in table order × time)' }), heatCsv]),
      el('div', { class: 'controls' }, [labelled('Metric', metric), controls]),
      el('p', { class: 'muted', text: 'Colour: green 0 % → red 100 %; grey: no successful poll. Click a cell to open that host at that time.' }),
      heatReadout,
      heatSlot,
    ]),
  );
  render();
  markReady('overview');
  void loadHeatmap();
}

let statusSelectRef: HTMLSelectElement | null = null;

function globRegex(text: string): RegExp {
  const escaped = text.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return /[*?]/.test(text) ? new RegExp(`^${escaped}$`, 'i') : new RegExp(escaped, 'i');
}

function render(): void {
  const q = params.get('q') ?? '';
  const tag = params.get('tag') ?? '';
  const status = params.get('status') ?? '';
  const sortKey = params.get('sort') ?? 'host';
  const desc = params.get('dir') === 'desc';
  const re = q === '' ? null : globRegex(q);
  const byTag = data.hosts.filter((h) => (re === null || re.test(h.host)) && (tag === '' || h.tags.includes(tag)));
  shown = byTag.filter((h) => status === '' || h.status === status);
  const column = COLUMNS.find((c) => c.key === sortKey) ?? (COLUMNS[0] as Column);
  const now = data.now;
  shown.sort((a, b) => {
    const x = column.value(a, now);
    const y = column.value(b, now);
    // Empty values last, whichever the direction.
    if (x === null || y === null) return x === y ? 0 : x === null ? 1 : -1;
    const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
    return (desc ? -c : c) || a.host.localeCompare(b.host);
  });

  renderCounts(byTag, status);
  const pages = Math.max(1, Math.ceil(shown.length / PAGE_ROWS));
  const page = Math.min(pages, Math.max(1, Number(params.get('page') ?? '1') || 1));
  summary.textContent = `${shown.length} of ${data.hosts.length} hosts shown · data as of ${utc(data.now)}`;
  pendingSparks = [];
  const head = el(
    'tr',
    {},
    COLUMNS.map((c) => {
      const sorted = c.key === column.key;
      const b = el('button', { text: `${c.label}${sorted ? (desc ? ' ▼' : ' ▲') : ''}`, attrs: { type: 'button', 'data-sort': c.key } });
      b.addEventListener('click', () => {
        params.set('sort', c.key);
        params.set('dir', sorted && !desc ? 'desc' : 'asc');
        setUrl(params, false);
        render();
      });
      return el('th', { class: c.numeric ? 'num' : '', attrs: { scope: 'col', 'aria-sort': sorted ? (desc ? 'descending' : 'ascending') : 'none' } }, [b]);
    }),
  );
  const rows = shown.slice((page - 1) * PAGE_ROWS, page * PAGE_ROWS).map((h) =>
    el(
      'tr',
      { attrs: { 'data-host': h.host } },
      COLUMNS.map((c) => el('td', { class: c.key === 'error' ? 'err' : c.numeric ? 'num' : '', attrs: { 'data-col': c.key } }, [c.cell(h, now)])),
    ),
  );
  tableSlot.replaceChildren(el('table', { attrs: { id: 'hosts' } }, [el('caption', { class: 'muted', text: `Hosts, sorted by ${column.label}${desc ? ', descending' : ''}` }), el('thead', {}, [head]), el('tbody', {}, rows)]));
  for (const [canvas, values] of pendingSparks) drawSparkline(canvas, values);

  const prev = el('button', { text: '← Previous', attrs: { type: 'button' } });
  const next = el('button', { text: 'Next →', attrs: { type: 'button' } });
  prev.disabled = page <= 1;
  next.disabled = page >= pages;
  const go = (p: number): void => {
    params.set('page', String(p));
    setUrl(params, false);
    render();
  };
  prev.addEventListener('click', () => go(page - 1));
  next.addEventListener('click', () => go(page + 1));
  pager.replaceChildren(prev, el('span', { text: `Page ${page} of ${pages}` }), next);
  if (heat !== null) drawHeatmap(heat, shown, heatCanvas);
}

function renderCounts(hosts: readonly OverviewHost[], current: string): void {
  const n = new Map<string, number>();
  for (const h of hosts) n.set(h.status, (n.get(h.status) ?? 0) + 1);
  const button = (value: string, label: string, count: number): HTMLButtonElement => {
    const b = el('button', { attrs: { type: 'button', 'aria-pressed': String(current === value), 'data-status': value } }, [
      el('span', { class: `n ${value === '' ? '' : value === 'ok' ? 'status-ok' : 'status-bad'}`, text: String(count) }),
      label,
    ]);
    b.addEventListener('click', () => {
      if (value === '') params.delete('status');
      else params.set('status', value);
      params.delete('page');
      if (statusSelectRef !== null) statusSelectRef.value = value;
      setUrl(params, false);
      render();
    });
    return b;
  };
  counts.replaceChildren(button('', 'all', hosts.length), ...[...n].sort(([a], [b]) => (a === 'ok' ? -1 : b === 'ok' ? 1 : a.localeCompare(b))).map(([s, c]) => button(s, s, c)));
}

async function loadHeatmap(): Promise<void> {
  const range = readRange(params);
  const metric = params.get('metric') === 'mem_pct' ? 'mem_pct' : 'cpu_pct';
  heatSlot.replaceChildren(el('p', { class: 'loading', text: 'Loading the heatmap…' }));
  // About 150 columns: enough to see when, small enough that 1,000 hosts stay a few hundred KB.
  const width = Math.max(100, Math.min(200, Math.floor(heatSlot.clientWidth / 6)));
  try {
    heat = await getJson<HeatmapData>(`/api/v1/dashboard/heatmap?metric=${metric}&from=${range.from}&to=${range.to}&width=${width}`);
  } catch (error) {
    heatSlot.replaceChildren(errorBox((error as Error).message));
    return;
  }
  heatSlot.replaceChildren(heatCanvas);
  drawHeatmap(heat, shown, heatCanvas);
  markReady('heatmap');
}

function heatmapCsv(): { header: string[]; rows: Cell[][] } {
  if (heat === null) return { header: ['host'], rows: [] };
  const h = heat;
  const index = new Map(h.hosts.map((name, i) => [name, i]));
  const times = (h.values[0] ?? []).map((_, j) => utc(h.first + j * h.stepSec));
  return { header: ['host', ...times], rows: shown.map((s) => [s.host, ...(h.values[index.get(s.host) ?? -1] ?? []).map((v) => v)]) };
}
