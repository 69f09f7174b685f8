// A chart card of the host page: uPlot over server-shaped series, with the page's one range. Failed
// polls are gaps (null, never interpolated) under a shaded band labelled with their status; dragging
// selects a range to zoom to; a click picks a moment; the CSV button saves the series drawn.
import type uPlotT from 'uplot';
import { csvButton, type Cell } from './csv.js';
import { el } from './dom.js';
import { utc } from './format.js';

// uPlot is loaded by its own <script> (its IIFE build) before the page's module.
const UPlot = (globalThis as unknown as { uPlot: typeof uPlotT }).uPlot;

/** Series colours, distinguishable in light and dark mode. */
export const PALETTE = ['#2f6fdf', '#e07b00', '#2a9d55', '#c62828', '#8e44ad', '#00838f', '#b8860b', '#d81b60', '#795548', '#607d8b'];

// One line (or stacked area) of a chart.
export interface ChartSeries {
  readonly label: string;
  readonly values: readonly (number | null)[];
}

// What a chart shows.
export interface ChartSpec {
  readonly id: string;
  readonly title: string;
  readonly unit: string;
  readonly digits: number;
  readonly times: readonly number[];
  readonly stepSec: number;
  /** Per bucket: 'ok', a failure status, or null (no poll). */
  readonly polls: readonly (string | null)[];
  readonly series: readonly ChartSeries[];
  /** Areas stacked on each other (per-user shares, memory used + available). */
  readonly stacked?: boolean;
  readonly yRange?: readonly [number, number];
  readonly fileName: string;
  /** Extra content under the chart (a forecast table). */
  readonly footer?: HTMLElement;
}

// What the page does with a chart's gestures.
export interface ChartEvents {
  onZoom(fromSec: number, toSec: number): void;
  onPick(atSec: number): void;
  onCursor(text: string): void;
}

/** The card of a chart; call mount() once it is in the document (uPlot measures its width). */
export function chartCard(spec: ChartSpec, events: ChartEvents): { card: HTMLElement; mount(): uPlotT } {
  const target = el('div', { class: 'chart', attrs: { id: `chart-${spec.id}` } });
  const csv = csvButton(spec.title, `${spec.fileName}.csv`, () => ({
    header: ['time', ...spec.series.map((s) => s.label), 'poll'],
    rows: spec.times.map((t, i) => [{ time: t }, ...spec.series.map((s) => s.values[i] ?? null), spec.polls[i] ?? null] as Cell[]),
  }));
  const head = el('div', { class: 'card-head' }, [el('h2', { text: spec.title }), csv]);
  const card = el('section', { class: 'card', attrs: { 'aria-label': spec.title, 'data-chart': spec.id } }, [head, target]);
  if (spec.footer !== undefined) card.append(spec.footer);
  return { card, mount: () => draw(spec, events, target) };
}

function draw(spec: ChartSpec, events: ChartEvents, target: HTMLElement): uPlotT {
  const style = getComputedStyle(document.documentElement);
  const fg = style.getPropertyValue('--fg').trim() || '#1b1f24';
  const grid = style.getPropertyValue('--line').trim() || '#d5dae0';
  const gap = style.getPropertyValue('--gap').trim() || 'rgba(198,40,40,0.16)';
  const bad = style.getPropertyValue('--bad').trim() || '#c62828';

  // Stacked: each area is drawn from 0 up to the running total, the largest first, so lower ones paint over it.
  const raw = spec.series.map((s) => s.values);
  let ys: (number | null)[][] = raw.map((v) => [...v]);
  let order = spec.series.map((_, i) => i);
  if (spec.stacked === true) {
    const running = spec.times.map(() => 0);
    // A bucket with no value for anyone stays a gap in every area.
    const empty = spec.times.map((_, i) => raw.every((r) => r[i] === null || r[i] === undefined));
    ys = raw.map((values) => values.map((v, i) => (empty[i] === true ? null : (running[i] = (running[i] as number) + (v ?? 0)))));
    order = order.reverse();
  }
  const fmt = (v: number | null | undefined): string => (v === null || v === undefined ? '–' : `${v.toFixed(spec.digits)}${spec.unit === '' ? '' : ` ${spec.unit}`}`);
  const series: uPlotT.Series[] = [
    { label: 'Time (UTC)', value: (_u, v) => (v === null ? '–' : utc(v)) },
    ...order.map((k) => {
      const color = PALETTE[k % PALETTE.length] as string;
      return {
        label: spec.series[k]!.label,
        stroke: color,
        width: 1.5,
        spanGaps: false,
        points: { show: false },
        value: (_u: uPlotT, _v: number | null, _si: number, idx: number | null) => fmt(idx === null ? null : raw[k]![idx]),
        ...(spec.stacked === true ? { fill: color } : {}),
      } satisfies uPlotT.Series;
    }),
  ];
  const data = [spec.times as number[], ...order.map((k) => ys[k] as (number | null)[])] as uPlotT.AlignedData;
  const axis = { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };

  let downX = 0;
  const opts: uPlotT.Options = {
    width: Math.max(300, target.clientWidth),
    // Axes in UTC, like every time fleetpoll writes (the legend says so).
    tzDate: (ts) => UPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
    height: 220,
    series,
    // Fixed ranges for percentages; areas start at 0 (a stack cut off at its minimum misleads).
    scales: {
      x: { time: true },
      ...(spec.yRange !== undefined
        ? { y: { range: [spec.yRange[0], spec.yRange[1]] as uPlotT.Range.MinMax } }
        : spec.stacked === true
          ? { y: { range: (_u: uPlotT, _min: number, max: number): uPlotT.Range.MinMax => [0, max > 0 ? max * 1.05 : 1] } }
          : {}),
    },
    axes: [{ ...axis }, { ...axis, size: 60, values: (_u, ticks) => ticks.map((v) => `${v}${spec.unit === '%' ? ' %' : ''}`) }],
    cursor: { drag: { x: true, y: false, setScale: false }, sync: { key: 'host' } },
    legend: { live: true },
    hooks: {
      draw: [
        (u) => {
          // Failed polls: a shaded band over the bucket, with the status written in it where it fits.
          const ctx = u.ctx;
          ctx.save();
          ctx.font = `${11 * devicePixelRatio}px system-ui, sans-serif`;
          for (let i = 0; i < spec.times.length; i += 1) {
            const status = spec.polls[i];
            if (status === null || status === undefined || status === 'ok') continue;
            const t = spec.times[i] as number;
            const x0 = u.valToPos(t, 'x', true);
            const x1 = Math.max(x0 + 2, u.valToPos(t + spec.stepSec, 'x', true));
            ctx.fillStyle = gap;
            ctx.fillRect(x0, u.bbox.top, x1 - x0, u.bbox.height);
            if (x1 - x0 > ctx.measureText(status).width + 4) {
              ctx.fillStyle = bad;
              ctx.fillText(status, x0 + 2, u.bbox.top + 12 * devicePixelRatio);
            }
          }
          ctx.restore();
        },
      ],
      setSelect: [
        (u) => {
          if (u.select.width < 3) return;
          const from = u.posToVal(u.select.left, 'x');
          const to = u.posToVal(u.select.left + u.select.width, 'x');
          u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
          events.onZoom(Math.floor(from), Math.ceil(to));
        },
      ],
      setCursor: [
        (u) => {
          const idx = u.cursor.idx;
          if (idx === null || idx === undefined) return;
          const status = spec.polls[idx];
          events.onCursor(`${utc(spec.times[idx] as number)} · poll: ${status ?? 'none in this interval'} · click for its processes`);
        },
      ],
    },
  };
  const u = new UPlot(opts, data, target);
  u.over.addEventListener('mousedown', (e) => {
    downX = e.clientX;
  });
  u.over.addEventListener('click', (e) => {
    if (Math.abs(e.clientX - downX) > 3 || u.cursor.left === undefined || u.cursor.left < 0) return;
    events.onPick(Math.round(u.posToVal(u.cursor.left, 'x')));
  });
  return u;
}
