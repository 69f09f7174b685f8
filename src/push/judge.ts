// Whether a pushed probe output may be recorded: it parses with the probe protocol's strict parser, it
// carries exactly one `time` record (when the host took the sample), that time is not ahead of the
// poller's clock beyond the skew allowed, not older than the host's interval, and newer than the last
// push accepted. Pure: the route supplies the clock and the last push.
import { parseProbeOutput, PROTOCOL_HEADER } from '../probes/protocol.js';

/** The record a push probe adds after its header: `time<TAB><epoch seconds UTC>` (ignored by the parser). */
export const TIME_RECORD = 'time';

// What the judge needs besides the body.
export interface PushContext {
  readonly nowSec: number;
  /** The host's push interval (servers.csv push_interval or push.intervalSeconds). */
  readonly intervalSeconds: number;
  readonly graceSeconds: number;
  readonly maxClockSkewSeconds: number;
  /** `time` of the last accepted push; null when none. */
  readonly lastSampleAtSec: number | null;
}

// The verdict: accepted with the sample's time, or refused with the status and the reason.
export type PushVerdict = { ok: true; sampleAtSec: number } | { ok: false; statusCode: 409 | 422; detail: string };

/** Judges one pushed body (already within the size limit). */
export function judgePush(body: string, ctx: PushContext): PushVerdict {
  const parsed = parseProbeOutput(body);
  if (!parsed.ok) return { ok: false, statusCode: 422, detail: `not a valid probe output: ${parsed.error}` };
  const time = readTimeRecord(body);
  if (typeof time === 'string') return { ok: false, statusCode: 422, detail: time };
  if (time > ctx.nowSec + ctx.maxClockSkewSeconds) {
    return {
      ok: false,
      statusCode: 422,
      detail: `the sample is from the future: its time record says ${utc(time)}, ${time - ctx.nowSec} s ahead of the poller's clock (${utc(ctx.nowSec)}; at most ${ctx.maxClockSkewSeconds} s allowed): set the host's clock (NTP)`,
    };
  }
  const oldestSec = ctx.nowSec - ctx.intervalSeconds - ctx.graceSeconds;
  if (time < oldestSec) {
    return {
      ok: false,
      statusCode: 422,
      detail: `the sample is too old to be current: its time record says ${utc(time)}, ${ctx.nowSec - time} s ago, more than the host's interval (${ctx.intervalSeconds} s) plus push.graceSeconds (${ctx.graceSeconds} s): set the host's clock (NTP), or do not send stored output`,
    };
  }
  if (ctx.lastSampleAtSec !== null && time <= ctx.lastSampleAtSec) {
    return {
      ok: false,
      statusCode: 409,
      detail: `the sample is not newer than the last one accepted: its time record says ${utc(time)}, the last accepted push was taken at ${utc(ctx.lastSampleAtSec)} (a replay, or pushes sent out of order)`,
    };
  }
  return { ok: true, sampleAtSec: time };
}

/**
 * The `time` record of a probe output between its header and `end`: epoch seconds, or why it is
 * missing or bad. The protocol parser ignores unknown records, so this reads it on its own.
 */
export function readTimeRecord(body: string): number | string {
  const lines = body.split('\n');
  const start = lines.findIndex((l) => l.replace(/\r$/, '').startsWith(`${PROTOCOL_HEADER}\t`));
  let found: number | null = null;
  for (let i = start + 1; start >= 0 && i < lines.length; i += 1) {
    const line = (lines[i] ?? '').replace(/\r$/, '');
    if (line === 'end') break;
    const fields = line.split('\t');
    if (fields[0] !== TIME_RECORD) continue;
    if (found !== null) return `line ${i + 1}: a second '${TIME_RECORD}' record: a push carries exactly one`;
    const value = fields[1] ?? '';
    if (fields.length !== 2 || !/^\d{1,12}$/.test(value)) {
      return `line ${i + 1}: the '${TIME_RECORD}' record must be "${TIME_RECORD}<TAB><epoch seconds UTC>" (got ${JSON.stringify(line.slice(0, 60))})`;
    }
    found = Number(value);
  }
  if (found === null) {
    return `no '${TIME_RECORD}' record: a push must say when its sample was taken ("${TIME_RECORD}<TAB><epoch seconds UTC>" after the header); the probe from "fleetpoll push-script" sends one`;
  }
  return found;
}

/** `YYYY-MM-DD HH:MM:SS UTC`, as the CSV files write times. */
export function utc(epochSec: number): string {
  return `${new Date(epochSec * 1000).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}
