// /api/v1/cycles: each recorded cycle (start, duration, hosts ok/failed, coverage, latency, reconnects).
import type { FastifyInstance } from 'fastify';
import type { HistoryReader } from '../history-reader.js';
import { parseRange } from '../time-range.js';
import { getRoute } from './read-only.js';
import { query, TIME } from './schemas.js';

/** Cycles returned when the query gives no limit. */
export const DEFAULT_CYCLES_LIMIT = 1000;

/** Registers the cycles route. */
export function cycleRoutes(app: FastifyInstance, reader: HistoryReader, nowSec: () => number): void {
  getRoute<{ Querystring: { from?: string; to?: string; limit?: number } }>(
    app,
    '/api/v1/cycles',
    { querystring: query({ from: TIME, to: TIME, limit: { type: 'integer', minimum: 1, maximum: 10000, description: 'a whole number from 1 to 10000' } }) },
    async (request) => {
      const range = parseRange(request.query, nowSec());
      const limit = request.query.limit ?? DEFAULT_CYCLES_LIMIT;
      return { ...range, cycles: await reader.cycles({ ...range, limit }) };
    },
  );
}
