// Days until full from a least-squares line through the window's samples. Pure.
// The rollup keeps per-day sums (n, Σt, Σt², Σy, Σty) with t in days since that day's midnight; shifting
// t by the day's index in the window and adding gives the exact sums of the whole window.
import type { Trend } from './rollup.js';

// Growth slower than this (time to fill) counts as flat: "not growing".
export const FLAT_AFTER_DAYS = 3650;
// Fewer samples, or samples spread over less than about an hour, say nothing about a trend.
const MIN_SAMPLES = 3;
const MIN_SPREAD_DAYS = 1 / 24;

// What the trend says about a capacity (a filesystem or memory).
export type Forecast =
  | { readonly kind: 'insufficient-data' }
  | { readonly kind: 'not-growing'; readonly slopePerDay: number }
  | { readonly kind: 'full-in'; readonly days: number; readonly slopePerDay: number; readonly flagged: boolean };

// An empty set of sums.
export function emptyTrend(): Trend {
  return { n: 0, t: 0, tt: 0, y: 0, ty: 0 };
}

// Adds `part` (t measured from its own midnight) to `into`, as if its t were `offsetDays` later.
export function addShifted(into: Trend, part: Trend, offsetDays: number): void {
  const d = offsetDays;
  into.n += part.n;
  into.t += part.t + part.n * d;
  into.tt += part.tt + 2 * d * part.t + part.n * d * d;
  into.y += part.y;
  into.ty += part.ty + d * part.y;
}

// The least-squares line y = intercept + slope·t, or null when the samples cannot define one.
export function fitLine(tr: Trend): { slope: number; intercept: number } | null {
  if (tr.n < MIN_SAMPLES) return null;
  const denominator = tr.n * tr.tt - tr.t * tr.t;
  // n²·variance of t: below that of samples spread evenly over MIN_SPREAD_DAYS, there is no trend to speak of.
  if (!(denominator > (tr.n * tr.n * MIN_SPREAD_DAYS * MIN_SPREAD_DAYS) / 12)) return null;
  const slope = (tr.n * tr.ty - tr.t * tr.y) / denominator;
  return { slope, intercept: (tr.y - slope * tr.t) / tr.n };
}

// When the line reaches `capacity`, counted from `endT` (the time of the last sample, in window days).
export function forecastFull(tr: Trend, capacity: number, endT: number, horizonDays: number): Forecast {
  const line = fitLine(tr);
  if (line === null || !(capacity > 0)) return { kind: 'insufficient-data' };
  const { slope, intercept } = line;
  if (!(slope > 0)) return { kind: 'not-growing', slopePerDay: slope };
  const days = Math.max(0, (capacity - (intercept + slope * endT)) / slope);
  if (days > FLAT_AFTER_DAYS) return { kind: 'not-growing', slopePerDay: slope };
  return { kind: 'full-in', days, slopePerDay: slope, flagged: days < horizonDays };
}
