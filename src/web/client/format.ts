// How numbers and times read on the pages. Times are UTC, as in fleetpoll's files.

const DASH = '–';

/** A percentage with one decimal, or a dash. */
export function pct(v: number | null | undefined): string {
  return v === null || v === undefined ? DASH : `${v.toFixed(1)} %`;
}

/** A number with `digits` decimals, or a dash. */
export function num(v: number | null | undefined, digits: number): string {
  return v === null || v === undefined ? DASH : v.toFixed(digits);
}

/** `YYYY-MM-DD HH:MM UTC` of epoch seconds. */
export function utc(sec: number, seconds = false): string {
  return `${new Date(sec * 1000).toISOString().slice(0, seconds ? 19 : 16).replace('T', ' ')} UTC`;
}

/** A duration in seconds as the largest two units: `3 d 4 h`, `5 min`, `40 s`. */
export function duration(sec: number | null | undefined): string {
  if (sec === null || sec === undefined) return DASH;
  const s = Math.max(0, Math.round(sec));
  if (s < 90) return `${s} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86_400)} d ${Math.round((s % 86_400) / 3600)} h`;
}
