// The host page (/host?name=…): every chart over one range (presets, custom, drag to zoom, Back to
// undo), the filesystems with their forecast, per-user CPU and memory as stacked shares, and the top
// processes and sessions of the poll nearest a picked moment ("which application was it?").
import type uPlotT from 'uplot';
import type { HostData, ProcessesData, UserSeriesData } from '../shapes.js';
import { chartCard, type ChartEvents, type ChartSpec } from './chart.js';
import { csvButton } from './csv.js';
import { el, errorBox, getJson, HttpError, labelled, mainElement, markReady } from './dom.js';
import { duration, num, pct, utc } from './format.js';
import { rangeControls, readRange, setUrl, writeRange } from './range.js';
import { table } from './table.js';

const main = mainElement();
const params = (): URLSearchParams => new URLSearchParams(location.search);
const host = params().get('name') ?? '';
let charts: uPlotT[] = [];
let zoomSteps = 0;

const title = el('h1', { text: host === '' ? 'No host named' : host });
const info = el('p', { class: 'muted' });
const controlsSlot = el('div');
const undo = el('button', { text: 'Undo zoom', attrs: { type: 'button' } });
undo.hidden = true;
undo.addEventListener('click', () => history.back());
const readout = el('p', { class: 'readout', attrs: { 'aria-live': 'polite' } });
const failures = el('p', { class: 'muted' });
const hostCharts = el('div', { class: 'grid2' });
const userControls = el('div', { class: 'controls' });
const userCharts = el('div', { class: 'grid2' });
const picked = el('section', { class: 'card', attrs: { 'aria-label': 'Processes and sessions of a poll', id: 'poll' } });
const pickAt = el('input', { attrs: { type: 'datetime-local', step: '60' } });
const pickButton = el('button', { text: 'Show processes', attrs: { type: 'button' } });
pickButton.addEventListener('click', () => {
  const at = Date.parse(`${pickAt.value}Z`) / 1000;
  if (Number.isFinite(at)) void showPoll(at);
});
picked.append(el('p', { class: 'muted', text: 'Click a moment on any chart (or give a time above) for the top processes and logged-in users of the poll nearest to it.' }));
main.append(
  title,
  info,
  el('div', { class: 'controls' }, [controlsSlot, undo, labelled('Processes of the poll nearest to (UTC)', pickAt), pickButton]),
  readout,
  failures,
  hostCharts,
  el('h2', { text: 'Per user' }),
  userControls,
  userCharts,
  picked,
);

const events: ChartEvents = {
  onZoom(from, to) {
    const p = params();
    writeRange(p, { preset: null, from, to });
    setUrl(p, true);
    zoomSteps += 1;
    void load();
  },
  onPick(at) {
    void showPoll(at);
  },
  onCursor(text) {
    readout.textContent = text;
  },
};

window.addEventListener('popstate', () => {
  zoomSteps = Math.max(0, zoomSteps - 1);
  void load();
});

if (host === '') main.append(errorBox('Name a host: /host?name=<server name as in servers.csv>.'));
else void load();

async function load(): Promise<void> {
  const p = params();
  const range = readRange(p);
  undo.hidden = zoomSteps === 0;
  controlsSlot.replaceChildren(
    rangeControls(range, (r) => {
      const q = params();
      writeRange(q, r);
      setUrl(q, false);
      void load();
    }),
  );
  for (const c of charts) c.destroy();
  charts = [];
  hostCharts.replaceChildren(el('p', { class: 'loading', text: 'Loading…' }));
  userCharts.replaceChildren();
  const width = Math.max(100, Math.min(4000, Math.round(hostCharts.clientWidth / (window.innerWidth > 1100 ? 2 : 1))));
  let data: HostData;
  try {
    data = await getJson<HostData>(`/api/v1/dashboard/hosts/${encodeURIComponent(host)}?from=${range.from}&to=${range.to}&width=${width}`);
  } catch (error) {
    hostCharts.replaceChildren(errorBox((error as Error).message));
    return;
  }
  showInfo(data);
  drawHost(data);
  markReady('host');
  const at = Number(p.get('at'));
  if (p.has('at') && Number.isFinite(at)) void showPoll(at);
  await loadUsers(data);
  markReady('users');
}

function showInfo(d: HostData): void {
  const status = el('span', { class: d.status === 'ok' ? 'status-ok' : 'status-bad', text: d.status ?? 'never polled' });
  info.replaceChildren(
    'Latest poll: ',
    status,
    d.error === null ? '' : ` (${d.error})`,
    ` · ${d.os ?? 'OS unknown'} · ${d.cores ?? '?'} cores · ${num(d.memTotalKb === null ? null : d.memTotalKb / 1048576, 1)} GB RAM`,
    d.tags.length > 0 ? ` · tags: ${d.tags.join(', ')}` : '',
    ` · buckets of ${duration(d.stepSec)}`,
  );
  const counts = new Map<string, number>();
  for (const s of d.polls) if (s !== null && s !== 'ok') counts.set(s, (counts.get(s) ?? 0) + 1);
  failures.textContent =
    counts.size === 0
      ? 'No failed polls in this range.'
      : `Intervals whose polls all failed (shaded, drawn as gaps): ${[...counts].map(([s, n]) => `${s} × ${n}`).join(', ')}.`;
}

function drawHost(d: HostData): void {
  const base = { times: d.times, stepSec: d.stepSec, polls: d.polls };
  const file = (what: string): string => `${d.host}-${what}-${utc(d.from).slice(0, 10)}`;
  const specs: ChartSpec[] = [
    { ...base, id: 'cpu', title: 'CPU busy', unit: '%', digits: 1, yRange: [0, 100], series: [{ label: 'CPU %', values: d.cpuPct }], fileName: file('cpu') },
    {
      ...base,
      id: 'load',
      title: 'Load',
      unit: '',
      digits: 2,
      series: [
        { label: '1 min', values: d.load1m },
        { label: '5 min', values: d.load5m },
        { label: '15 min', values: d.load15m },
      ],
      fileName: file('load'),
    },
    {
      ...base,
      id: 'memory',
      title: 'Memory',
      unit: 'GB',
      digits: 2,
      stacked: true,
      series: [
        { label: 'Used', values: d.memUsedGb },
        { label: 'Available', values: d.memAvailableGb },
      ],
      fileName: file('memory'),
    },
    { ...base, id: 'swap', title: 'Swap used', unit: '%', digits: 1, yRange: [0, 100], series: [{ label: 'Swap %', values: d.swapPct }], fileName: file('swap') },
    {
      ...base,
      id: 'disks',
      title: 'Filesystems used',
      unit: '%',
      digits: 1,
      yRange: [0, 100],
      series: d.disks.map((disk) => ({ label: disk.mount, values: disk.usedPct })),
      fileName: file('filesystems'),
      footer: forecastTable(d),
    },
  ];
  mountAll(hostCharts, specs);
}

// All cards go in first, then the charts are drawn: each measures its card's width once the grid has laid them out.
function mountAll(into: HTMLElement, specs: readonly ChartSpec[]): void {
  const made = specs.map((spec) => chartCard(spec, events));
  into.replaceChildren(...made.map((m) => m.card));
  for (const m of made) charts.push(m.mount());
}

function forecastTable(d: HostData): HTMLElement {
  const rows = d.disks.map((disk) => {
    const f = disk.forecast;
    const text = f.kind === 'full-in' ? `full in ${f.days.toFixed(1)} days` : f.kind === 'not-growing' ? 'not growing' : 'not enough data';
    return [disk.mount, pct(disk.lastUsedPct), f.kind === 'full-in' && f.flagged ? el('span', { class: 'warn', text }) : text];
  });
  const caption = `Forecast from the last ${d.forecastDays} days of the range (as the weekly report computes it; flagged when full within ${d.horizonDays} days)`;
  return table(caption, ['Mount', 'Used now', 'Forecast'], rows, [false, true, false], 'forecasts');
}

async function loadUsers(d: HostData): Promise<void> {
  const p = params();
  const exclude = el('input', { attrs: { type: 'text', placeholder: 'syslog, cups-pk-helper', size: '40' } });
  exclude.value = p.get('exclude') ?? '';
  const apply = el('button', { text: 'Apply', attrs: { type: 'button' } });
  apply.addEventListener('click', () => {
    const q = params();
    const list = exclude.value.split(',').map((s) => s.trim()).filter((s) => s !== '');
    if (list.length > 0) q.set('exclude', list.join(','));
    else q.delete('exclude');
    setUrl(q, false);
    void load();
  });
  userControls.replaceChildren(labelled('Leave out users (comma-separated)', exclude), apply);
  const list = (p.get('exclude') ?? '').trim();
  let users: UserSeriesData;
  try {
    const q = `from=${d.from}&to=${d.to}&step=${d.stepSec}${list === '' ? '' : `&exclude=${encodeURIComponent(list)}`}`;
    users = await getJson<UserSeriesData>(`/api/v1/hosts/${encodeURIComponent(d.host)}/users/series?${q}`);
  } catch (error) {
    const missing = error instanceof HttpError && error.status === 404;
    userCharts.replaceChildren(errorBox(missing ? `Per-user series are not available from this fleetpoll: ${(error as Error).message}` : (error as Error).message));
    return;
  }
  const cores = users.cores ?? d.cores;
  const memKb = users.memTotalKb ?? d.memTotalKb;
  // The user series have their own buckets; polls are matched to them by time.
  const pollAt = new Map(d.times.map((t, i) => [t, d.polls[i] ?? null]));
  const base = { times: users.times, stepSec: users.step, polls: users.times.map((t) => pollAt.get(t) ?? null), stacked: true, unit: '%', digits: 1 };
  const file = (what: string): string => `${d.host}-${what}-${utc(d.from).slice(0, 10)}`;
  const specs: ChartSpec[] = [
    {
      ...base,
      id: 'user-cpu',
      title: `CPU by user (share of ${cores ?? '?'} cores)`,
      series: users.users.map((u) => ({ label: u.user, values: u.cpuPct.map((v) => (v === null || cores === null || cores <= 0 ? null : v / cores)) })),
      fileName: file('user-cpu'),
    },
    {
      ...base,
      id: 'user-memory',
      title: 'Memory by user (share of RAM)',
      series: users.users.map((u) => ({ label: u.user, values: u.rssKb.map((v) => (v === null || memKb === null || memKb <= 0 ? null : (v * 100) / memKb)) })),
      fileName: file('user-memory'),
    },
  ];
  mountAll(userCharts, specs);
}

async function showPoll(at: number): Promise<void> {
  const p = params();
  p.set('at', String(at));
  setUrl(p, false);
  picked.replaceChildren(el('p', { class: 'loading', text: `Loading the poll nearest ${utc(at)}…` }));
  let snap: ProcessesData;
  try {
    snap = await getJson<ProcessesData>(`/api/v1/hosts/${encodeURIComponent(host)}/processes?at=${Math.round(at)}`);
  } catch (error) {
    picked.replaceChildren(errorBox((error as Error).message));
    return;
  }
  const procRows = snap.processes.map((x) => [String(x.pid), x.user, x.cpuPct.toFixed(1), (x.rssKb / 1024).toFixed(1), x.name]);
  const sessionRows = snap.sessions.map((s) => [s.user, s.terminal, s.from]);
  const stamp = utc(snap.at, true).replace(/[: ]/g, '-');
  picked.replaceChildren(
    el('div', { class: 'card-head' }, [
      el('h2', { text: `Poll at ${utc(snap.at, true)}: ${snap.status}` }),
      el('span', {}, [
        csvButton('processes', `${host}-processes-${stamp}.csv`, () => ({ header: ['pid', 'user', 'cpu_pct', 'mem_mb', 'process'], rows: procRows })),
        ' ',
        csvButton('sessions', `${host}-sessions-${stamp}.csv`, () => ({ header: ['user', 'terminal', 'from'], rows: sessionRows })),
      ]),
    ]),
    table('Top processes (CPU % of one core)', ['PID', 'User', 'CPU %', 'Memory (MB)', 'Process'], procRows, [true, false, true, true, false], 'processes'),
    table('Logged-in users', ['User', 'Terminal', 'From'], sessionRows, [false, false, false], 'sessions'),
  );
  markReady('poll');
}
