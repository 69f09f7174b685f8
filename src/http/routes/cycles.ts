// /api/v1/cycles: each recorded cycle (start, duration, hosts ok/failed, coverage, latency, reconnects).
import type { FastifyInstance } from 'fastify';
import type { HistoryReader } from '../history-reader.js';
import { parseRange } from '../time-range.js';
import { getRoute } from './read-only.js';
import { query, TIME } from './schemas.js';

/** Registers the cycles route. */
export function cycleRoutes(app: FastifyInstance, reader: HistoryReader, nowSec: () => number): void {
  getRoute<{ Querystring: { from?: string; to?: string } }>(app, '/api/v1/cycles', { querystring: query({ from: TIME, to: TIME }) }, async (request) => {
    const { fromSec, toSec } = parseRange(request.query, nowSec());
    return { from: fromSec, to: toSec, cycles: reader.cycles(fromSec, toSec) };
  });
}
