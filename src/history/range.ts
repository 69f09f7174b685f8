// Ranges and steps of the store's queries, and the error for a request it cannot answer as asked.

// A request the store cannot answer as asked (bad range, unknown metric): the API's 400, with the reason.
export class QueryError extends Error {
  override readonly name = 'QueryError';
}

const HOUR = 3600;
// A default step gives about this many points; a request may not ask for more than MAX_POINTS.
const DEFAULT_POINTS = 500;
const MAX_POINTS = 20_000;
const NICE_STEPS = [300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400, 7 * 86_400];

/** The default step for a range: a round step giving about DEFAULT_POINTS points. */
export function defaultStep(from: number, to: number): number {
  const wanted = (to - from) / DEFAULT_POINTS;
  return NICE_STEPS.find((s) => s >= wanted) ?? Math.ceil(wanted / 86_400) * 86_400;
}

// The step a range is bucketed by, and where its buckets come from.
export interface BucketStep {
  readonly step: number;
  /** Whole hours: from the hourly rollups (plus raw samples for hours not rolled up yet). */
  readonly hourly: boolean;
}

/** The step of a range (default: about 500 points); an hour or more is rounded up to whole hours. QueryError when bad. */
export function bucketStep(from: number, to: number, stepSec: number | undefined): BucketStep {
  let step = stepSec ?? defaultStep(from, to);
  if (!Number.isInteger(step) || step < 1) throw new QueryError(`step must be a whole number of seconds ≥ 1 (got ${step})`);
  const hourly = step >= HOUR;
  if (hourly) step = Math.ceil(step / HOUR) * HOUR;
  if ((to - from) / step > MAX_POINTS) throw new QueryError(`the range holds more than ${MAX_POINTS} steps of ${step} s: ask for a larger step`);
  return { step, hourly };
}

/** Throws QueryError unless [from, to) is a non-empty range of whole epoch seconds. */
export function checkRange(from: number, to: number): void {
  if (!Number.isInteger(from) || !Number.isInteger(to) || from < 0 || to < 0) {
    throw new QueryError(`from and to must be whole epoch seconds ≥ 0 (got ${from}, ${to})`);
  }
  if (to <= from) throw new QueryError(`to (${to}) must be after from (${from})`);
}
