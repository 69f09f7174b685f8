// /api/v1/hosts and each host's series, per-user totals and processes: read from the history only.
import type { FastifyInstance } from 'fastify';
import type { ProcessesData } from '../../web/shapes.js';
import { ApiError } from '../errors.js';
import { SERIES_METRICS, type HistoryReader, type SeriesMetric } from '../history-reader.js';
import { iso, parseRange, parseSteppedRange, parseTime } from '../time-range.js';
import { getRoute } from './read-only.js';
import { HOST_PARAMS, METRICS, query, STEP, TIME } from './schemas.js';

/** The metrics of a series when the query names none. */
export const DEFAULT_METRICS: readonly SeriesMetric[] = ['cpu_pct', 'mem_pct'];

type HostParams = { name: string };

/** Registers the host routes. */
export function hostRoutes(app: FastifyInstance, reader: HistoryReader, nowSec: () => number): void {
  const unknownHost = (name: string): ApiError => new ApiError(404, `no host named ${JSON.stringify(name)} in the history`);

  getRoute(app, '/api/v1/hosts', { querystring: query({}) }, async () => ({ hosts: reader.latest() }));

  getRoute<{ Params: HostParams; Querystring: { metrics?: string; from?: string; to?: string; step?: string } }>(
    app,
    '/api/v1/hosts/:name/series',
    { params: HOST_PARAMS, querystring: query({ metrics: METRICS, from: TIME, to: TIME, step: STEP }) },
    async (request) => {
      const metrics = parseMetrics(request.query.metrics);
      const { fromSec, toSec, stepSec } = parseSteppedRange(request.query, nowSec());
      const series = reader.series(request.params.name, metrics, fromSec, toSec, stepSec);
      if (series === null) throw unknownHost(request.params.name);
      return series;
    },
  );

  getRoute<{ Params: HostParams; Querystring: { from?: string; to?: string } }>(
    app,
    '/api/v1/hosts/:name/users',
    { params: HOST_PARAMS, querystring: query({ from: TIME, to: TIME }) },
    async (request) => {
      const { fromSec, toSec } = parseRange(request.query, nowSec());
      const users = reader.users(request.params.name, fromSec, toSec);
      if (users === null) throw unknownHost(request.params.name);
      return { host: request.params.name, from: fromSec, to: toSec, users };
    },
  );

  getRoute<{ Params: HostParams; Querystring: { at?: string } }>(
    app,
    '/api/v1/hosts/:name/processes',
    { params: HOST_PARAMS, querystring: query({ at: TIME }) },
    // Typed as the dashboard reads it (src/web/shapes.ts): the compiler keeps the two in step.
    async (request): Promise<ProcessesData> => {
      const host = request.params.name;
      const at = request.query.at === undefined ? nowSec() : parseTime(request.query.at, 'at');
      if (!reader.hasHost(host)) throw unknownHost(host);
      const snapshot = reader.processes(host, at);
      if (snapshot === null) throw new ApiError(404, `no poll of ${JSON.stringify(host)} is recorded (asked for the one nearest ${iso(at)})`);
      return { host, ...snapshot };
    },
  );
}

/** The metric names of a query, each known, without repeats; a 400 lists every unknown one. */
export function parseMetrics(text: string | undefined): SeriesMetric[] {
  if (text === undefined) return [...DEFAULT_METRICS];
  const names = [...new Set(text.split(','))];
  const unknown = names.filter((n) => !(SERIES_METRICS as readonly string[]).includes(n));
  if (unknown.length > 0) {
    throw new ApiError(400, `unknown metric${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => JSON.stringify(n)).join(', ')} (known: ${SERIES_METRICS.join(', ')})`);
  }
  return names as SeriesMetric[];
}
