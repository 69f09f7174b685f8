// The dashboard under `fleetpoll serve`: the pages (/, /host, /alerts, /workers), their static files (/assets/...)
// and their JSON (/api/v1/dashboard/...), behind the same authentication as the API (the server's
// onRequest hook runs first). Pages and files carry a Content-Security-Policy that allows scripts,
// styles and requests from fleetpoll itself only: no inline script, no CDN, no frames.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { ApiError } from '../http/errors.js';
import type { HistoryReader } from '../http/history-reader.js';
import { getRoute } from '../http/routes/read-only.js';
import { dashboardApi } from './api.js';
import { loadAssets, type Asset } from './assets.js';
import { pageHtml, type PageName } from './pages.js';
import type { DashboardSource } from './reader.js';

/** The policy of every page and file of the dashboard. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

// A page's query string (range, filters) is read by the page's own script, never by the server.
const PAGE_QUERY = { type: 'object', additionalProperties: { type: 'string', maxLength: 2000 } } as const;

/** Registers the pages, their files and their JSON; `assets` defaults to the build output (dist/web). */
export function webRoutes(app: FastifyInstance, reader: HistoryReader, source: DashboardSource, nowSec: () => number, assets: ReadonlyMap<string, Asset> = loadAssets()): void {
  const pages: readonly [string, PageName][] = [
    ['/', 'overview'],
    ['/host', 'host'],
    ['/alerts', 'alerts'],
    ['/workers', 'workers'],
  ];
  for (const [url, page] of pages) {
    const html = pageHtml(page);
    getRoute(app, url, { querystring: PAGE_QUERY }, async (_request, reply) => secured(reply).type('text/html; charset=utf-8').send(html));
  }
  getRoute<{ Params: { '*': string } }>(app, '/assets/*', {}, async (request, reply) => {
    const asset = assets.get(request.params['*']);
    if (asset === undefined) throw new ApiError(404, `no such dashboard file: ${JSON.stringify(request.params['*'].slice(0, 100))}`);
    return secured(reply).type(asset.type).send(asset.body);
  });
  dashboardApi(app, reader, source, nowSec);
}

function secured(reply: FastifyReply): FastifyReply {
  return reply.header('content-security-policy', CONTENT_SECURITY_POLICY).header('referrer-policy', 'no-referrer');
}
