// Every error the API sends has one shape, `{ "error": "<kind>", "detail": "<sentence>" }`, with
// the status that fits; schema validation errors become readable sentences; a failure inside
// fleetpoll is a 500 that names nothing internal (the log has the details).
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Log } from '../log.js';

// The body of every error response.
export interface ErrorBody {
  readonly error: string;
  readonly detail: string;
}

// The `error` word for each status the API uses.
const KINDS: Readonly<Record<number, string>> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  409: 'conflict',
  408: 'request_timeout',
  413: 'payload_too_large',
  414: 'uri_too_long',
  415: 'unsupported_media_type',
  422: 'unprocessable_entity',
  429: 'too_many_requests',
  500: 'internal_error',
  503: 'unavailable',
};

// An error a handler or hook throws on purpose: its status and detail go to the client as they are.
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly detail: string,
    readonly headers: Readonly<Record<string, string | readonly string[]>> = {},
  ) {
    super(detail);
    this.name = 'ApiError';
  }
}

/** The body for a status and a detail. */
export function errorBody(statusCode: number, detail: string): ErrorBody {
  return { error: KINDS[statusCode] ?? (statusCode >= 500 ? 'internal_error' : 'bad_request'), detail };
}

// What Fastify's own 4xx errors mean, in our words (their messages are not written for users).
const FRAMEWORK_DETAILS: Readonly<Record<string, string>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'the request body is larger than this endpoint accepts',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'this endpoint does not accept a body of that content type',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'the body is empty but the content type says JSON',
  FST_ERR_CTP_INVALID_JSON_BODY: 'the body is not valid JSON',
  FST_ERR_BAD_URL: 'the URL is not valid (bad percent-encoding?)',
  FST_ERR_MAX_PARAM_LENGTH: 'a path parameter is too long',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'the Content-Length header does not match the body',
};

/** Installs the error handler, the not-found handler and the Fastify options that feed them. */
export function installErrorHandlers(app: FastifyInstance, log: Log): void {
  app.setErrorHandler((error: FastifyError | ApiError, request, reply) => {
    if (error instanceof ApiError) {
      for (const [name, value] of Object.entries(error.headers)) void reply.header(name, value);
      return sendError(reply, error.statusCode, error.detail);
    }
    if (error.validation !== undefined) return sendError(reply, 400, error.message);
    // The history store's own refusal of a request (see HistoryReader): its message is the reason.
    if (error.name === 'QueryError') return sendError(reply, 400, error.message);
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      return sendError(reply, status, FRAMEWORK_DETAILS[error.code] ?? `the request was refused (${error.code ?? status})`);
    }
    log.error('http request failed', { method: request.method, url: pathOf(request), error: error.message, stack: error.stack });
    return sendError(reply, 500, 'fleetpoll could not answer this request; the service log has the details');
  });
  app.setNotFoundHandler((request, reply) => sendError(reply, 404, `no such endpoint: ${request.method} ${clip(pathOf(request))}`));
}

/** For Fastify's `frameworkErrors` option: errors raised before routing, in our shape. */
export function frameworkError(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  void sendError(reply, error.statusCode ?? 400, FRAMEWORK_DETAILS[error.code] ?? 'the request is not valid');
}

/** For Fastify's `schemaErrorFormatter`: the first validation problem as one sentence. */
export function formatSchemaErrors(errors: readonly SchemaIssue[], dataVar: string): Error {
  const first = errors[0];
  return new Error(first === undefined ? `the ${dataVar} is not valid` : describeIssue(first, dataVar));
}

// The parts of an Ajv error (with the `verbose` option) this module reads.
export interface SchemaIssue {
  readonly instancePath: string;
  readonly keyword: string;
  readonly params: Record<string, unknown>;
  readonly message?: string;
  readonly data?: unknown;
  readonly parentSchema?: { readonly description?: string };
}

function describeIssue(issue: SchemaIssue, dataVar: string): string {
  const where = dataVar === 'querystring' ? 'query parameter' : dataVar === 'params' ? 'path parameter' : dataVar;
  const name = issue.instancePath.replace(/^\//, '').replace(/\//g, '.');
  switch (issue.keyword) {
    case 'required':
      return `${where} "${String(issue.params.missingProperty)}" is required`;
    case 'additionalProperties':
      return `unknown ${where} "${clip(String(issue.params.additionalProperty))}"`;
    default: {
      const what = issue.parentSchema?.description ?? issue.message ?? 'valid';
      const got = issue.data === undefined ? '' : ` (got ${clip(JSON.stringify(issue.data) ?? '')})`;
      return `${where} "${name}" must be ${what}${got}`;
    }
  }
}

function sendError(reply: FastifyReply, statusCode: number, detail: string): FastifyReply {
  return reply.code(statusCode).type('application/json; charset=utf-8').send(errorBody(statusCode, detail));
}

function pathOf(request: FastifyRequest): string {
  const q = request.url.indexOf('?');
  return q < 0 ? request.url : request.url.slice(0, q);
}

function clip(text: string): string {
  return text.length > 100 ? `${text.slice(0, 97)}...` : text;
}
