// The pieces of route schemas the routes share. Each `description` says what a value must be:
// the error handler turns a failed check into "query parameter "x" must be <description>".
import { SERIES_METRICS } from '../history-reader.js';
import { STEP_DESCRIPTION, TIME_DESCRIPTION } from '../time-range.js';

/** A time in a query string (parsed by time-range.ts). */
export const TIME = { type: 'string', minLength: 1, maxLength: 40, description: TIME_DESCRIPTION } as const;

/** A step in a query string. */
export const STEP = { type: 'string', minLength: 1, maxLength: 12, description: STEP_DESCRIPTION } as const;

/** The `:name` path parameter: a server name as servers.csv allows it. */
export const HOST_PARAMS = {
  type: 'object',
  required: ['name'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', pattern: '^[A-Za-z0-9_][A-Za-z0-9_.@:-]{0,252}$', description: 'a server name as in servers.csv (letters, digits and _ . @ : -)' },
  },
} as const;

/** The `metrics` list of a series query. */
export const METRICS = {
  type: 'string',
  maxLength: 500,
  pattern: '^[A-Za-z0-9_]+(,[A-Za-z0-9_]+)*$',
  description: `a comma-separated list of metric names (${SERIES_METRICS.join(', ')})`,
} as const;

/** A query string with these properties and no others. */
export function query(properties: Record<string, unknown>): Record<string, unknown> {
  return { type: 'object', additionalProperties: false, properties };
}
