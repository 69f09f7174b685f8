// Builds the Fastify instance of `fleetpoll serve` from the `http` settings: TLS, the exposure
// rule, authentication, the one error shape and the read-only routes. Nothing listens until
// `listenHttp`; nothing here polls or writes: handlers read the history and the service status.
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Log } from '../log.js';
import { createAuthCheck, hasCredentials, HttpStartError, loadCredentials } from './auth.js';
import { frameworkError, formatSchemaErrors, installErrorHandlers, type SchemaIssue } from './errors.js';
import { exposureProblems } from './exposure.js';
import type { HistoryReader } from './history-reader.js';
import { metricsRoutes } from './metrics/routes.js';
import { NO_METRICS, type MetricsSource } from './metrics/source.js';
import { cycleRoutes } from './routes/cycles.js';
import { healthRoutes } from './routes/health.js';
import { hostRoutes } from './routes/hosts.js';
import { hasOwnAuth, ingestRoutes, type IngestOptions } from './routes/ingest.js';
import { statusRoutes } from './routes/status.js';
import { userSeriesRoutes } from './routes/users-series.js';
import { workerRoutes } from './routes/workers.js';
import type { ServiceStatus } from './service-status.js';
import type { HttpSettings } from './settings.js';
import type { DashboardSource } from '../web/reader.js';
import { webRoutes } from '../web/routes.js';

/** Bodies are refused above this (the API is read-only; push ingest sets its own limit per route). */
export const BODY_LIMIT_BYTES = 1024 * 1024;
/** A request must arrive whole within this (a slow client cannot hold a connection forever). */
export const REQUEST_TIMEOUT_MS = 30_000;

// What the server needs: its settings, the environment (for the token), what it reads, and a log.
export interface HttpServerOptions {
  readonly settings: HttpSettings;
  readonly env: NodeJS.ProcessEnv;
  readonly reader: HistoryReader;
  readonly status: ServiceStatus;
  readonly log: Log;
  /** The last cycle and the service's figures, for the Prometheus routes (none: they have nothing to show). */
  readonly metrics?: MetricsSource;
  /** Epoch seconds now (tests pin it). */
  readonly nowSec?: () => number;
  /** Push ingest (POST /api/v1/ingest/:name); absent: no ingest route. */
  readonly ingest?: IngestOptions;
  /** The dashboard's other sources (filesystems, alert files); without it there is no dashboard. */
  readonly dashboard?: DashboardSource;
}

/** Builds the server, or throws HttpStartError with every reason it cannot start as configured. */
export function buildHttpServer(options: HttpServerOptions): FastifyInstance {
  const { settings, log } = options;
  const credentials = loadCredentials(settings, options.env);
  const problems = exposureProblems(settings, hasCredentials(credentials));
  const https = settings.tls === null ? null : readTls(settings.tls, problems);
  if (problems.length > 0) throw new HttpStartError(problems);

  const app = Fastify({
    logger: false,
    bodyLimit: BODY_LIMIT_BYTES,
    requestTimeout: REQUEST_TIMEOUT_MS,
    ...(https === null ? {} : { https }),
    // Unknown query parameters are errors (a typo such as `form=` must not be silently ignored);
    // `verbose` gives the error formatter the schema's description and the offending value.
    ajv: { customOptions: { removeAdditional: false, verbose: true, allErrors: false } },
    schemaErrorFormatter: (errors, dataVar) => formatSchemaErrors(errors as unknown as SchemaIssue[], dataVar),
    frameworkErrors: frameworkError,
  }) as unknown as FastifyInstance;

  installErrorHandlers(app, log);
  if (hasCredentials(credentials)) {
    const check = createAuthCheck(credentials, log);
    // Push ingest checks its per-host tokens itself (routes/ingest.ts).
    app.addHook('onRequest', async (request) => (hasOwnAuth(request) ? undefined : check(request)));
  }
  app.addHook('onSend', async (_request, reply, payload) => {
    // Fleet data is for the asker only: no shared caches; and no content sniffing of JSON.
    void reply.header('cache-control', 'no-store').header('x-content-type-options', 'nosniff');
    return payload;
  });

  const nowSec = options.nowSec ?? (() => Math.floor(Date.now() / 1000));
  healthRoutes(app, options.status);
  statusRoutes(app, options.status);
  workerRoutes(app, options.status);
  hostRoutes(app, options.reader, nowSec);
  userSeriesRoutes(app, options.reader, nowSec);
  cycleRoutes(app, options.reader, nowSec);
  if (options.ingest !== undefined) ingestRoutes(app, options.ingest, log);
  metricsRoutes(app, options.metrics ?? NO_METRICS);
  if (options.dashboard !== undefined) webRoutes(app, options.reader, options.dashboard, nowSec);
  return app;
}

/** Listens on the configured address and port; resolves to the URL it serves. */
export async function listenHttp(app: FastifyInstance, settings: HttpSettings): Promise<string> {
  await app.listen({ host: settings.bind, port: settings.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : settings.port;
  const host = settings.bind.includes(':') ? `[${settings.bind}]` : settings.bind;
  return `${settings.tls === null ? 'http' : 'https'}://${host}:${port}`;
}

function readTls(tls: NonNullable<HttpSettings['tls']>, problems: string[]): { key: string; cert: string } | null {
  const read = (path: string, setting: string): string | null => {
    try {
      return readFileSync(path, 'utf8');
    } catch (error) {
      problems.push(`http.tls.${setting} ${path} cannot be read: ${(error as Error).message}`);
      return null;
    }
  };
  const cert = read(tls.certFile, 'certFile');
  const key = read(tls.keyFile, 'keyFile');
  if (cert === null || key === null) return null;
  try {
    // The same check Node does when the server is created, done here to name the files.
    createSecureContext({ cert, key });
  } catch (error) {
    problems.push(`http.tls: ${tls.certFile} and ${tls.keyFile} are not a usable certificate and private key (PEM): ${(error as Error).message}`);
    return null;
  }
  return { cert, key };
}
