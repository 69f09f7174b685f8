// The dashboard's JSON, shaped on the server so the charts stay dumb (as Prometheus's UI and Netdata
// do): the overview table with its sparklines, the heatmap, a host page's series downsampled to the
// chart's pixel width, and the alerts. Read-only; every input is declared and checked.
import type { FastifyInstance } from 'fastify';
import { forecastFull } from '../report/forecast.js';
import { ApiError } from '../http/errors.js';
import type { HistoryReader, SeriesPoint } from '../http/history-reader.js';
import { getRoute } from '../http/routes/read-only.js';
import { HOST_PARAMS, query, TIME } from '../http/routes/schemas.js';
import { parseRange } from '../http/time-range.js';
import { readAlerts } from './alert-files.js';
import type { DashboardSource } from './reader.js';
import type { DiskForecast, HeatmapData, HostData, OverviewData, OverviewHost } from './shapes.js';

const HOUR = 3600;
const KB_PER_GB = 1024 * 1024;
// Bucket sizes a chart may use; a step of an hour or more reads the hourly rollups.
const NICE_STEPS = [60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400, 172_800, 604_800];
/** Chart width in pixels when the page does not say (and the most it may ask for). */
export const DEFAULT_WIDTH_PX = 1000;
export const MAX_WIDTH_PX = 4000;
const WIDTH = { type: 'string', pattern: '^[0-9]{1,4}$', description: `a chart width in pixels, 100 to ${MAX_WIDTH_PX}` } as const;
const HEAT_METRIC = { type: 'string', enum: ['cpu_pct', 'mem_pct'], description: 'cpu_pct or mem_pct' } as const;

/** The smallest nice step that keeps [from, to) within `widthPx` buckets and is not finer than the poll interval. */
export function chartStep(fromSec: number, toSec: number, widthPx: number, intervalSec: number): number {
  const wanted = Math.max((toSec - fromSec) / widthPx, intervalSec);
  return NICE_STEPS.find((s) => s >= wanted) ?? Math.ceil(wanted / 86_400) * 86_400;
}

/** Registers the dashboard's JSON routes. */
export function dashboardApi(app: FastifyInstance, reader: HistoryReader, source: DashboardSource, nowSec: () => number): void {
  getRoute(app, '/api/v1/dashboard/overview', { querystring: query({}) }, async () => overview(reader, source, nowSec()));

  getRoute<{ Querystring: { metric?: 'cpu_pct' | 'mem_pct'; from?: string; to?: string; width?: string } }>(
    app,
    '/api/v1/dashboard/heatmap',
    { querystring: query({ metric: HEAT_METRIC, from: TIME, to: TIME, width: WIDTH }) },
    async (request) => {
      const { fromSec, toSec } = parseRange(request.query, nowSec());
      const width = parseWidth(request.query.width, 120);
      return heatmap(reader, source, request.query.metric ?? 'cpu_pct', fromSec, toSec, chartStep(fromSec, toSec, width, pollIntervalSec(reader, toSec)));
    },
  );

  getRoute<{ Params: { name: string }; Querystring: { from?: string; to?: string; width?: string } }>(
    app,
    '/api/v1/dashboard/hosts/:name',
    { params: HOST_PARAMS, querystring: query({ from: TIME, to: TIME, width: WIDTH }) },
    async (request) => {
      const { fromSec, toSec } = parseRange(request.query, nowSec());
      const width = parseWidth(request.query.width, DEFAULT_WIDTH_PX);
      const data = hostData(reader, source, request.params.name, fromSec, toSec, chartStep(fromSec, toSec, width, pollIntervalSec(reader, toSec)));
      if (data === null) throw new ApiError(404, `no host named ${JSON.stringify(request.params.name)} in the history`);
      return data;
    },
  );

  getRoute<{ Querystring: { from?: string; to?: string } }>(app, '/api/v1/dashboard/alerts', { querystring: query({ from: TIME, to: TIME }) }, async (request) => {
    const { fromSec, toSec } = parseRange(request.query, nowSec());
    return readAlerts(source.alertStateFile, source.alertLogFile, fromSec, toSec);
  });
}

function parseWidth(text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const px = Number(text);
  if (px < 100 || px > MAX_WIDTH_PX) throw new ApiError(400, `query parameter "width" must be a chart width in pixels, 100 to ${MAX_WIDTH_PX} (got ${px})`);
  return px;
}

/** The poll interval, as the median gap between the cycles of the last day (300 s when unknown). */
export function pollIntervalSec(reader: HistoryReader, toSec: number): number {
  const starts = reader.cycles(toSec - 86_400, toSec + 1).map((c) => c.startedAt);
  const gaps = starts.slice(1).map((s, i) => s - (starts[i] as number)).sort((a, b) => a - b);
  return gaps.length === 0 ? 300 : Math.max(1, gaps[Math.floor(gaps.length / 2)] as number);
}

function overview(reader: HistoryReader, source: DashboardSource, now: number): OverviewData {
  const fullest = source.disks.fullestByHost();
  const sparkTo = Math.floor(now / HOUR) * HOUR + HOUR;
  const sparkFrom = sparkTo - 24 * HOUR;
  const sparks = new Map(source.fleet.averages(sparkFrom, sparkTo, HOUR).map((r) => [r.host, r]));
  const hosts: OverviewHost[] = reader.latest().map((h) => {
    const spark = sparks.get(h.host);
    return {
      host: h.host,
      tags: h.tags,
      status: h.status,
      error: h.error,
      at: h.at,
      cpuPct: round1(h.cpuPct),
      memPct: round1(h.memPct),
      swapPct: round1(h.swapPct),
      diskPct: round1(fullest.get(h.host) ?? null),
      loadPerCore: h.load1m === null || h.cpuCores === null || h.cpuCores <= 0 ? null : Math.round((h.load1m / h.cpuCores) * 100) / 100,
      uptimeSec: h.uptimeSec,
      cpu24: (spark?.cpuPct ?? []).map(round1),
      mem24: (spark?.memPct ?? []).map(round1),
    };
  });
  return { now, sparkFrom, sparkStepSec: HOUR, hosts };
}

function heatmap(reader: HistoryReader, source: DashboardSource, metric: 'cpu_pct' | 'mem_pct', from: number, to: number, step: number): HeatmapData {
  // Whole hours from the rollup, as the host series do.
  const stepSec = step >= HOUR ? Math.ceil(step / HOUR) * HOUR : step;
  const first = Math.floor(from / stepSec) * stepSec;
  const rows = new Map(source.fleet.averages(first, to, stepSec).map((r) => [r.host, metric === 'cpu_pct' ? r.cpuPct : r.memPct]));
  const hosts = reader.latest().map((h) => h.host);
  const values = hosts.map((host) => (rows.get(host) ?? []).map((v) => (v === null ? null : Math.round(v))));
  return { metric, from, to, first, stepSec, hosts, values };
}

function hostData(reader: HistoryReader, source: DashboardSource, host: string, from: number, to: number, step: number): HostData | null {
  const series = reader.series(host, ['cpu_pct', 'load_1m', 'load_5m', 'load_15m', 'mem_used_kb', 'mem_pct', 'swap_pct'], from, to, step);
  if (series === null) return null;
  const latest = reader.latest().find((h) => h.host === host);
  const points = series.points;
  const avg = (m: string, scale = 1, digits = 1): (number | null)[] =>
    points.map((p) => {
      const v = p.values[m]?.avg;
      return v === undefined ? null : round(v / scale, digits);
    });
  const first = points[0]?.t ?? from;
  const disks = source.disks.series(host, first, to, series.stepSec) ?? [];
  const forecastFrom = to - source.forecastDays * 86_400;
  const trends = new Map((source.disks.trends(host, forecastFrom, to) ?? []).map((t) => [t.mount, t]));
  return {
    host,
    from,
    to,
    stepSec: series.stepSec,
    tags: latest?.tags ?? [],
    status: latest?.status ?? null,
    error: latest?.error ?? null,
    os: latest?.os ?? null,
    cores: latest?.cpuCores ?? null,
    memTotalKb: latest?.memTotalKb ?? null,
    times: points.map((p) => p.t),
    polls: points.map((p) => p.status),
    cpuPct: avg('cpu_pct'),
    load1m: avg('load_1m', 1, 2),
    load5m: avg('load_5m', 1, 2),
    load15m: avg('load_15m', 1, 2),
    memUsedGb: avg('mem_used_kb', KB_PER_GB, 2),
    memAvailableGb: points.map((p) => memAvailableGb(p)),
    swapPct: avg('swap_pct'),
    disks: disks.map((d) => {
      const trend = trends.get(d.mount);
      return {
        mount: d.mount,
        usedPct: d.usedPct.map((v) => round1(v)),
        lastUsedPct: round1(trend?.usedPct ?? null),
        forecast: trend === undefined ? { kind: 'insufficient-data' } : forecast(trend.sums, trend.capacityGb, trend.lastT, source.horizonDays),
      };
    }),
    forecastDays: source.forecastDays,
    horizonDays: source.horizonDays,
  };
}

// The weekly report's forecast (src/report/forecast.ts), reduced to what the page shows.
function forecast(sums: { n: number; t: number; tt: number; y: number; ty: number }, capacityGb: number, lastT: number, horizonDays: number): DiskForecast {
  const f = forecastFull({ ...sums }, capacityGb, lastT, horizonDays);
  if (f.kind === 'full-in') return { kind: 'full-in', days: Math.round(f.days * 10) / 10, flagged: f.flagged };
  return { kind: f.kind };
}

// Available memory of a bucket, from its average used kB and used % (the total is used / share).
function memAvailableGb(p: SeriesPoint): number | null {
  const used = p.values.mem_used_kb?.avg;
  const pct = p.values.mem_pct?.avg;
  if (used === undefined || pct === undefined || !(pct > 0)) return null;
  return round((used * (100 / pct - 1)) / KB_PER_GB, 2);
}

function round1(v: number | null): number | null {
  return v === null ? null : round(v, 1);
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
