// Times and ranges in query strings: ISO 8601 or epoch seconds in, epoch seconds out, and the
// checks that give a bad range its reason (from after to, too many points for the step).
import { ApiError } from './errors.js';

/** A range asks for at most this many points (as Prometheus does: 11,000). */
export const MAX_POINTS = 11_000;
/** Ranges default to the last day. */
export const DEFAULT_RANGE_SEC = 24 * 3600;
const MAX_STEP_SEC = 31 * 24 * 3600;

// ISO 8601 as people type it: a date, optionally a time, optionally a zone (none = UTC, like fleetpoll's files).
const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(Z|[+-]\d{2}:?\d{2})?$/i;
const UNIT_SEC: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86400 };

/** The schema description of a time parameter (also used in error sentences). */
export const TIME_DESCRIPTION = 'an ISO 8601 time such as 2026-12-04T10:00:00Z (UTC when no zone is given) or epoch seconds';
/** The schema description of a step parameter. */
export const STEP_DESCRIPTION = 'a duration in seconds, or with a unit: 90, 5m, 1h, 1d';

/** Epoch seconds of a query-string time; throws a 400 naming the parameter. */
export function parseTime(text: string, name: string): number {
  const t = text.trim();
  if (/^\d{1,11}(\.\d+)?$/.test(t)) return Math.floor(Number(t));
  const m = ISO.exec(t);
  if (m !== null) {
    const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone = 'Z'] = m;
    const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), Number(frac.padEnd(3, '0').slice(0, 3)));
    const check = new Date(ms);
    // Date.UTC rolls 2026-02-30 over to March: a date that does not exist is refused, not moved.
    if (check.getUTCDate() === Number(d) && check.getUTCMonth() === Number(mo) - 1 && Number(h) < 24 && Number(mi) < 60 && Number(s) < 60) {
      return Math.floor((ms - zoneOffsetMs(zone)) / 1000);
    }
  }
  throw new ApiError(400, `query parameter "${name}" must be ${TIME_DESCRIPTION} (got ${JSON.stringify(clip(text))})`);
}

/** Seconds of a step such as `300`, `5m`, `1h`; throws a 400. */
export function parseStep(text: string, name = 'step'): number {
  const m = /^(\d{1,9})([smhd])?$/i.exec(text.trim());
  const sec = m === null ? NaN : Number(m[1]) * (UNIT_SEC[(m[2] ?? 's').toLowerCase()] ?? NaN);
  if (!Number.isFinite(sec) || sec < 1 || sec > MAX_STEP_SEC) {
    throw new ApiError(400, `query parameter "${name}" must be ${STEP_DESCRIPTION}, from 1 s to 31 d (got ${JSON.stringify(clip(text))})`);
  }
  return sec;
}

// A validated range.
export interface TimeRange {
  readonly fromSec: number;
  readonly toSec: number;
}

// A validated range and its step; undefined = the store picks one (about 500 round steps).
export interface SteppedRange extends TimeRange {
  readonly stepSec: number | undefined;
}

/** from/to with defaults (to = now, from = to - 24 h); throws a 400 when from is not before to. */
export function parseRange(query: { readonly from?: string; readonly to?: string }, nowSec: number): TimeRange {
  const toSec = query.to === undefined ? nowSec : parseTime(query.to, 'to');
  const fromSec = query.from === undefined ? toSec - DEFAULT_RANGE_SEC : parseTime(query.from, 'from');
  if (fromSec >= toSec) {
    throw new ApiError(400, `the range is empty: from (${iso(fromSec)}) must be before to (${iso(toSec)})`);
  }
  return { fromSec, toSec };
}

/** A range and its step (undefined when not given: the store's default); throws a 400 for too many points. */
export function parseSteppedRange(query: { readonly from?: string; readonly to?: string; readonly step?: string }, nowSec: number): SteppedRange {
  const range = parseRange(query, nowSec);
  const spanSec = range.toSec - range.fromSec;
  if (query.step === undefined) return { ...range, stepSec: undefined };
  const stepSec = parseStep(query.step);
  const points = Math.ceil(spanSec / stepSec);
  if (points > MAX_POINTS) {
    throw new ApiError(
      400,
      `the range is too long for the step: ${iso(range.fromSec)} to ${iso(range.toSec)} at a step of ${stepSec} s is ${points} points, at most ${MAX_POINTS}: use a step of at least ${Math.ceil(spanSec / MAX_POINTS)} s or a shorter range`,
    );
  }
  return { ...range, stepSec };
}

/** ISO 8601 (UTC, whole seconds) of epoch seconds, for messages. */
export function iso(sec: number): string {
  return new Date(sec * 1000).toISOString().replace('.000Z', 'Z');
}

function zoneOffsetMs(zone: string): number {
  if (zone.toUpperCase() === 'Z') return 0;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  return sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4))) * 60_000;
}

function clip(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
