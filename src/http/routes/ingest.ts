// POST /api/v1/ingest/:name: a transport=push host sends its probe output (docs/push.md). The route
// checks its own per-host token (not the API token or users: the global auth hook lets it through, see
// hasOwnAuth), then the per-host rate limit, all before the body is read; then the size cap
// (poll.maxOutputMB), the strict protocol parser, the sample's time; only when every check passes is
// the push written to the spool, which the next cycle reads like a polled answer.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { formatBytes } from '../../fleet/output.js';
import type { Log } from '../../log.js';
import { judgePush, utc } from '../../push/judge.js';
import { readSpool, SpoolError, writeSpool } from '../../push/spool.js';
import { readTokens, tokenMatches } from '../../push/tokens.js';
import type { IngestView } from '../../push/view.js';
import { ApiError } from '../errors.js';
import { HOST_PARAMS } from './schemas.js';

// What the ingest route needs.
export interface IngestOptions {
  /** Where push-tokens.json and the spool are. */
  readonly dataDir: string;
  /** poll.maxOutputMB at start: a bigger body is refused (413) before it is read whole. */
  readonly bodyLimitBytes: number;
  /** The push hosts and settings in force now (the service's inventory and settings, reloads included). */
  readonly current: () => IngestView;
  /** Epoch milliseconds now (tests pin it). */
  readonly nowMs?: () => number;
}

/** True for routes that check credentials themselves (push ingest): the global auth hook skips them. */
export function hasOwnAuth(request: FastifyRequest): boolean {
  return (request.routeOptions.config as { ownAuth?: unknown } | undefined)?.ownAuth === true;
}

const CHALLENGE = 'Bearer realm="fleetpoll push"';
const URL = '/api/v1/ingest/:name';

/** Registers the ingest route (its own scope: a body parser for any content type, its own size limit). */
export function ingestRoutes(app: FastifyInstance, options: IngestOptions, log: Log): void {
  const nowMs = options.nowMs ?? Date.now;
  // Per host: when its last authenticated push came (the rate limit), and the push being handled (one at a time).
  const lastAttemptMs = new Map<string, number>();
  const queue = new Map<string, Promise<unknown>>();

  const admit = async (request: FastifyRequest): Promise<void> => {
    const name = (request.params as { name?: string }).name ?? '';
    const key = name.toLowerCase();
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
    if (match === null) throw new ApiError(401, `a push token is required: send "Authorization: Bearer <token>" (fleetpoll token create ${clip(name)})`, { 'www-authenticate': CHALLENGE });
    // The token before anything about the host: an unauthenticated client cannot learn which hosts push.
    if (!tokenMatches(await readTokens(options.dataDir), key, match[1] ?? '')) {
      log.warn('push refused: token not accepted', { ip: request.ip, host: clip(name) });
      throw new ApiError(401, `the push token was not accepted for host "${clip(name)}" (check the name in the URL, and "fleetpoll token list")`, { 'www-authenticate': CHALLENGE });
    }
    const host = options.current().hosts.get(key);
    if (host === undefined) throw new ApiError(404, `no push host named "${clip(name)}": servers.csv has no transport=push row of that name (removed? then revoke its token)`);
    const spacingMs = options.current().settings.minSpacingSeconds * 1000;
    const now = nowMs();
    const last = lastAttemptMs.get(key);
    if (last !== undefined && now - last < spacingMs) {
      const retrySec = Math.max(1, Math.ceil((spacingMs - (now - last)) / 1000));
      log.warn('push refused: too often', { host: host.name, spacing_s: spacingMs / 1000 });
      throw new ApiError(429, `pushes of ${host.name} must be at least ${spacingMs / 1000} s apart (push.minSpacingSeconds): retry in ${retrySec} s`, { 'retry-after': String(retrySec) });
    }
    lastAttemptMs.set(key, now);
  };

  const accept = async (name: string, body: Buffer | undefined): Promise<{ status: 'accepted'; host: string; sampleAt: number }> => {
    const view = options.current();
    const host = view.hosts.get(name.toLowerCase());
    if (host === undefined) throw new ApiError(404, `no push host named "${clip(name)}"`);
    let last = null;
    try {
      last = await readSpool(options.dataDir, host.name);
    } catch (error) {
      if (!(error instanceof SpoolError)) throw error;
      log.warn(`${error.message}: replaced by this push`);
    }
    const nowSec = Math.floor(nowMs() / 1000);
    const verdict = judgePush(body?.toString('utf8') ?? '', {
      nowSec,
      intervalSeconds: host.intervalSeconds,
      graceSeconds: view.settings.graceSeconds,
      maxClockSkewSeconds: view.settings.maxClockSkewSeconds,
      lastSampleAtSec: last?.sampleAtSec ?? null,
    });
    if (!verdict.ok) {
      log.warn('push refused', { host: host.name, status: verdict.statusCode, reason: verdict.detail });
      throw new ApiError(verdict.statusCode, verdict.detail);
    }
    await writeSpool(options.dataDir, { host: host.name, sampleAtSec: verdict.sampleAtSec, receivedAtMs: nowMs(), body: body?.toString('utf8') ?? '' });
    log.debug('push accepted', { host: host.name, sample_at: utc(verdict.sampleAtSec) });
    return { status: 'accepted', host: host.name, sampleAt: verdict.sampleAtSec };
  };

  void app.register(async (scope) => {
    // Any content type (curl --data-binary sends x-www-form-urlencoded), kept as bytes; capped.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: options.bodyLimitBytes }, (_request, body, done) => done(null, body));
    scope.setErrorHandler((error: Error & { code?: string }) => {
      if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
        throw new ApiError(413, `the body is larger than ${formatBytes(options.bodyLimitBytes)} (poll.maxOutputMB): nothing was recorded`);
      }
      throw error;
    });
    scope.route<{ Params: { name: string } }>({
      method: 'POST',
      url: URL,
      config: { ownAuth: true },
      schema: { params: HOST_PARAMS },
      bodyLimit: options.bodyLimitBytes,
      onRequest: async (request) => admit(request),
      handler: async (request, reply) => {
        // One push of a host at a time: "newer than the last one" must hold between concurrent pushes too.
        const key = request.params.name.toLowerCase();
        const previous = queue.get(key) ?? Promise.resolve();
        const mine = previous.then(() => accept(request.params.name, request.body as Buffer | undefined));
        const settled = mine.catch(() => undefined);
        queue.set(key, settled);
        try {
          const answer = await mine;
          return await reply.code(202).send(answer);
        } finally {
          if (queue.get(key) === settled) queue.delete(key);
        }
      },
    });
    scope.route({
      method: ['GET', 'HEAD', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
      url: URL,
      onRequest: async (request) => {
        throw new ApiError(405, `${request.method} is not allowed here: push ingest takes POST`, { allow: 'POST' });
      },
      handler: async () => undefined,
    });
  });
}

function clip(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
