// /healthz (the process answers) and /readyz (the store is open and a cycle has finished).
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../errors.js';
import type { ServiceStatus } from '../service-status.js';
import { getRoute } from './read-only.js';
import { query } from './schemas.js';

/** Registers the health routes. */
export function healthRoutes(app: FastifyInstance, status: ServiceStatus): void {
  getRoute(app, '/healthz', { querystring: query({}) }, async () => ({ status: 'ok' }));
  getRoute(app, '/readyz', { querystring: query({}) }, async () => {
    const readiness = status.readiness();
    if (!readiness.ready) throw new ApiError(503, readiness.reason);
    return { status: 'ready' };
  });
}
