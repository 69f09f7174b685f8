// /api/v1/hosts/:name/users/series: each user's CPU and memory over time (the dashboard's stacked areas),
// from raw rows or hourly rollups as the range needs; failed polls are nulls, never interpolated.
import type { FastifyInstance } from 'fastify';
import type { UserSeriesData } from '../../web/shapes.js';
import { ApiError } from '../errors.js';
import type { HistoryReader } from '../history-reader.js';
import { parseSteppedRange } from '../time-range.js';
import { getRoute } from './read-only.js';
import { HOST_PARAMS, query, STEP, TIME } from './schemas.js';

/** The `exclude` list: user names (as the probe reports them) separated by commas, none empty. */
export const EXCLUDE = {
  type: 'string',
  maxLength: 4000,
  pattern: '^[^,]+(,[^,]+)*$',
  description: 'a comma-separated list of user names (none empty), such as syslog,cups-pk-helper',
} as const;

type Params = { name: string };
type Query = { from?: string; to?: string; step?: string; exclude?: string };

/** Registers the per-user series route. */
export function userSeriesRoutes(app: FastifyInstance, reader: HistoryReader, nowSec: () => number): void {
  getRoute<{ Params: Params; Querystring: Query }>(
    app,
    '/api/v1/hosts/:name/users/series',
    { params: HOST_PARAMS, querystring: query({ from: TIME, to: TIME, step: STEP, exclude: EXCLUDE }) },
    // Typed as the dashboard reads it (src/web/shapes.ts): the compiler keeps the two in step.
    async (request): Promise<UserSeriesData> => {
      const { fromSec, toSec, stepSec } = parseSteppedRange(request.query, nowSec());
      const exclude = request.query.exclude === undefined ? [] : [...new Set(request.query.exclude.split(','))];
      const series = reader.usersSeries(request.params.name, fromSec, toSec, stepSec, exclude);
      if (series === null) throw new ApiError(404, `no host named ${JSON.stringify(request.params.name)} in the history`);
      return series;
    },
  );
}
