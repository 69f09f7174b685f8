// /api/v1/workers: the worker pollers the coordinator hears from (zones, docs/zones.md): their zone,
// version, last heartbeat and whether they count as live. Standalone (no nats settings): an empty list.
import type { FastifyInstance } from 'fastify';
import type { WorkersData } from '../../web/shapes.js';
import type { ServiceStatus } from '../service-status.js';
import { getRoute } from './read-only.js';
import { query } from './schemas.js';

/** Registers the workers route. */
export function workerRoutes(app: FastifyInstance, status: ServiceStatus): void {
  getRoute(app, '/api/v1/workers', { querystring: query({}) }, async (): Promise<WorkersData> => {
    const workers = status.workers?.() ?? null;
    return { mode: workers === null ? 'standalone' : 'coordinator', workers: workers ?? [] };
  });
}
