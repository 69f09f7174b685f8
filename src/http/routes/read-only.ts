// How every read-only route is declared: GET (HEAD comes with it) with its input schema, and
// 405 with `Allow` for any other method on the same path, instead of a misleading 404.
import type { FastifyInstance, FastifySchema, RouteHandlerMethod, RouteGenericInterface } from 'fastify';
import { ApiError } from '../errors.js';

const OTHER_METHODS = ['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/** Registers GET `url` with its schema and a 405 for the other methods. */
export function getRoute<T extends RouteGenericInterface>(
  app: FastifyInstance,
  url: string,
  schema: FastifySchema,
  handler: RouteHandlerMethod<never, never, never, T>,
): void {
  app.route<T>({ method: 'GET', url, schema, handler: handler as never });
  app.route({
    method: [...OTHER_METHODS],
    url,
    // No body parsing for a request that is refused anyway (a body is not read, so no 413 here).
    onRequest: async (request) => {
      throw new ApiError(405, `${request.method} is not allowed here: this endpoint is read-only (GET or HEAD)`, { allow: 'GET, HEAD' });
    },
    handler: async () => undefined,
  });
}
