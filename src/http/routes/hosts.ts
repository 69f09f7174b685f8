// /api/v1/hosts and each host's series, per-user totals and processes: read from the history only.
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../errors.js';
import { SERIES_METRICS, type HistoryReader, type SeriesMetric } from '../history-reader.js';
import { iso, parseSteppedRange, parseTime } from '../time-range.js';
import { getRoute } from './read-only.js';
import { HOST_PARAMS, METRICS, query, STEP, TIME } from './schemas.js';

/** The metrics of a series when the query names none. */
export const DEFAULT_METRICS: readonly SeriesMetric[] = ['cpu_pct', 'mem_pct'];

type HostParams = { name: string };

/** Registers the host routes. */
export function hostRoutes(app: FastifyInstance, reader: HistoryReader, nowSec: () => number): void {
  const knownHost = async (name: string): Promise<string> => {
    if (!(await reader.hostExists(name))) throw new ApiError(404, `no host named ${JSON.stringify(name)} in the history`);
    return name;
  };

  getRoute(app, '/api/v1/hosts', { querystring: query({}) }, async () => ({ hosts: await reader.latest() }));

  getRoute<{ Params: HostParams; Querystring: { metrics?: string; from?: string; to?: string; step?: string } }>(
    app,
    '/api/v1/hosts/:name/series',
    { params: HOST_PARAMS, querystring: query({ metrics: METRICS, from: TIME, to: TIME, step: STEP }) },
    async (request) => {
      const metrics = parseMetrics(request.query.metrics);
      const range = parseSteppedRange(request.query, nowSec());
      const host = await knownHost(request.params.name);
      return reader.series({ host, metrics, ...range });
    },
  );

  getRoute<{ Params: HostParams; Querystring: { from?: string; to?: string; step?: string } }>(
    app,
    '/api/v1/hosts/:name/users',
    { params: HOST_PARAMS, querystring: query({ from: TIME, to: TIME, step: STEP }) },
    async (request) => {
      const range = parseSteppedRange(request.query, nowSec());
      const host = await knownHost(request.params.name);
      return reader.users({ host, ...range });
    },
  );

  getRoute<{ Params: HostParams; Querystring: { at?: string } }>(
    app,
    '/api/v1/hosts/:name/processes',
    { params: HOST_PARAMS, querystring: query({ at: TIME }) },
    async (request) => {
      const atSec = request.query.at === undefined ? nowSec() : parseTime(request.query.at, 'at');
      const host = await knownHost(request.params.name);
      const snapshot = await reader.processesAt({ host, atSec });
      if (snapshot === null) throw new ApiError(404, `no poll of ${JSON.stringify(host)} is recorded at or before ${iso(atSec)}`);
      return snapshot;
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
