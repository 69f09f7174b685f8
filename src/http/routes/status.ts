// /api/v1/status: the service's own state (last cycle, next one, reload problems).
import type { FastifyInstance } from 'fastify';
import type { ServiceStatus } from '../service-status.js';
import { getRoute } from './read-only.js';
import { query } from './schemas.js';

/** Registers the status route. */
export function statusRoutes(app: FastifyInstance, status: ServiceStatus): void {
  getRoute(app, '/api/v1/status', { querystring: query({}) }, async () => status.snapshot());
}
