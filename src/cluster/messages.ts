// What travels over NATS, encoded and checked on arrival: a job (a batch of one zone's host rows,
// the cycle, its deadline; never a secret: a Host holds references such as password-env:VAR, not
// values), a batch of results (each the sample, or the failure with status and phase) and a worker's
// heartbeat. Decoders return null for anything malformed; a bad message costs that message, and a
// bad result in a batch costs that result, never the cycle.
import type { AuthSpec, FailureStatus, Host, Phase, PollResult, Sample } from '../model.js';

// The job format this version writes and reads. A worker refuses (terms) a job of any other format
// rather than misread it: coordinator and workers of different formats must not share a cycle.
// Format 1 was one host per job; format 2 carries a batch of hosts.
export const JOB_FORMAT = 2;

// The result format this version writes and reads (format 1 was one result per message).
export const RESULT_FORMAT = 2;

// Hosts per job message, at most. Each job costs the coordinator one acknowledged JetStream publish
// and each result message a delivery, so one message per host kept its per-host cost high; 50 hosts
// make that cost a fiftieth. Larger buys little more, and costs: a job's hosts go to one worker, a
// worker that dies has all of its jobs' hosts polled again by another (duplicates dropped), a job's
// results wait for its slowest host, and a job grows by a host row each (~0.3 KB: 50 are ~15 KB).
// A job holds hosts of one slot (slots.ts), so a slot of a small zone gives a smaller one.
export const MAX_HOSTS_PER_JOB = 50;

// One poll job: poll each of `hosts` (all of one zone) for cycle `cycleId`, none after `deadlineMs` (epoch ms).
export interface Job {
  readonly v: typeof JOB_FORMAT;
  readonly cycleId: string;
  readonly deadlineMs: number;
  readonly hosts: readonly Host[];
}

// Why a job's bytes were refused: said in the worker's log line.
export interface JobRefused {
  readonly refused: string;
}

// One host's outcome as a worker sends it; the coordinator joins it to its own Host row by name.
export type WireResult =
  | { readonly status: 'ok'; readonly sample: Sample; readonly startedAtMs: number; readonly durationMs: number; readonly attempts: number }
  | {
      readonly status: FailureStatus;
      readonly phase: Phase;
      readonly error: string;
      readonly startedAtMs: number;
      readonly durationMs: number;
      readonly attempts: number;
    };

// One host's result in a result message.
export interface ResultEntry {
  readonly host: string;
  readonly result: WireResult;
}

// A result message: which cycle, which worker of which zone, and the results of some of a job's hosts.
export interface ResultBatch {
  readonly v: typeof RESULT_FORMAT;
  readonly cycleId: string;
  readonly zone: string;
  readonly worker: string;
  readonly results: readonly ResultEntry[];
}

// A received result message: its results that passed the checks, and how many did not.
export interface DecodedResults {
  readonly cycleId: string;
  readonly zone: string;
  readonly worker: string;
  readonly entries: readonly ResultEntry[];
  readonly malformed: number;
}

// One encoded result message and which of the results it carries (for its Nats-Msg-Id).
export interface EncodedResults {
  readonly data: Uint8Array;
  readonly firstHost: string;
  readonly lastHost: string;
  readonly count: number;
}

// A worker's heartbeat (also its goodbye, with `stopping`).
export interface Heartbeat {
  readonly v: 1;
  readonly id: string;
  readonly zone: string;
  readonly version: string;
  readonly hostname: string;
  readonly pid: number;
  readonly startedAtSec: number;
  readonly sentAtSec: number;
  /** Hosts in hand now (of the jobs taken, polling or waiting for a slot). */
  readonly inFlight: number;
  /** Hosts finished since the worker started. */
  readonly done: number;
  readonly stopping: boolean;
  /** The slots of its zone it owns now (slots.ts); absent from workers of versions without slots. */
  readonly slots?: number;
}

const FAILURES: readonly string[] = ['timeout', 'unreachable', 'auth_failed', 'host_key_mismatch', 'probe_error'];
const PHASES: readonly string[] = ['dns', 'connect', 'handshake', 'auth', 'exec', 'read', 'parse'];
const TRANSPORTS: readonly string[] = ['ssh', 'local', 'winrm'];
const OSES: readonly string[] = ['linux', 'windows'];
// A result is a sample with a bounded number of processes and disks: far below this.
export const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Bytes of a message for NATS. */
export function encode(message: Job | Heartbeat): Uint8Array {
  return encoder.encode(JSON.stringify(message));
}

/** The wire form of one poll result. */
export function resultEntry(r: PollResult): ResultEntry {
  const common = { startedAtMs: r.startedAt.getTime(), durationMs: r.durationMs, attempts: r.attempts };
  const result: WireResult = r.status === 'ok' ? { status: 'ok', sample: r.sample, ...common } : { status: r.status, phase: r.phase, error: r.error, ...common };
  return { host: r.host.name, result };
}

/**
 * The result messages of a job's poll results, in order: as few as fit, each at most `maxBytes`
 * (the server's max_payload, less room for headers). A result too large for a message of its own
 * (thousands of mounts or warnings) travels as a probe_error saying so: the host gets a row that
 * says why, instead of a result that NATS refuses again at each redelivery.
 */
export function encodeResults(cycleId: string, zone: string, worker: string, results: readonly PollResult[], maxBytes: number): EncodedResults[] {
  // The message's own fields, then its results, each encoded once and joined under the byte budget.
  const empty: ResultBatch = { v: RESULT_FORMAT, cycleId, zone, worker, results: [] };
  const head = JSON.stringify(empty).slice(0, -']}'.length);
  const out: EncodedResults[] = [];
  let parts: string[] = [];
  let names: string[] = [];
  let bytes = 0;
  const flush = (): void => {
    if (parts.length === 0) return;
    out.push({ data: encoder.encode(`${head}${parts.join(',')}]}`), firstHost: names[0] as string, lastHost: names[names.length - 1] as string, count: parts.length });
    parts = [];
    names = [];
    bytes = 0;
  };
  const budget = maxBytes - Buffer.byteLength(head) - 2;
  for (const r of results) {
    let part = JSON.stringify(resultEntry(r));
    let size = Buffer.byteLength(part) + 1;
    if (size > budget) {
      const error = `its result is ${size} bytes, more than one NATS message may carry here (${maxBytes} bytes; the server's max_payload)`;
      part = JSON.stringify(resultEntry({ host: r.host, status: 'probe_error', phase: 'parse', error, startedAt: r.startedAt, durationMs: r.durationMs, attempts: r.attempts }));
      size = Buffer.byteLength(part) + 1;
    }
    if (parts.length > 0 && bytes + size > budget) flush();
    parts.push(part);
    names.push(r.host.name);
    bytes += size;
  }
  flush();
  return out;
}

/** The PollResult of a received result, for the coordinator's own Host row. */
export function toPollResult(host: Host, result: WireResult): PollResult {
  const common = { host, startedAt: new Date(result.startedAtMs), durationMs: result.durationMs, attempts: result.attempts };
  return result.status === 'ok' ? { ...common, status: 'ok', sample: result.sample } : { ...common, status: result.status, phase: result.phase, error: result.error };
}

/** A job, or why the bytes are not one this version can read. */
export function decodeJob(data: Uint8Array): Job | JobRefused {
  const o = parse(data);
  if (o === null) return { refused: `not a JSON object (or larger than ${MAX_MESSAGE_BYTES} bytes)` };
  if (o.v !== JOB_FORMAT) return { refused: `job format v${JSON.stringify(o.v)} is not the one this worker reads (v${JOB_FORMAT}): run the same fleetpoll version on the coordinator and the workers` };
  if (!isToken(o.cycleId)) return { refused: 'no cycle id, or one that is no subject token' };
  if (!isNumber(o.deadlineMs)) return { refused: 'no deadline' };
  if (!Array.isArray(o.hosts) || o.hosts.length === 0) return { refused: 'no list of hosts' };
  const bad = (o.hosts as unknown[]).findIndex((h) => !isHost(h));
  if (bad !== -1) return { refused: `host ${bad + 1} of ${o.hosts.length} is malformed` };
  return o as unknown as Job;
}

/** Whether a decoded job was refused. */
export function isRefused(decoded: Job | JobRefused): decoded is JobRefused {
  return 'refused' in decoded;
}

function isHost(h: unknown): h is Host {
  if (h === null || typeof h !== 'object') return false;
  const host = h as Record<string, unknown>;
  return (
    isString(host.name) &&
    isString(host.address) &&
    TRANSPORTS.includes(host.transport as string) &&
    isNumber(host.port) &&
    isString(host.user) &&
    isAuth(host.auth) &&
    OSES.includes(host.os as string) &&
    Array.isArray(host.tags) &&
    typeof host.enabled === 'boolean' &&
    isNumber(host.line) &&
    typeof host.extra === 'object' &&
    host.extra !== null &&
    (host.zone === undefined || isString(host.zone))
  );
}

/** A result message's checked results, or null when the bytes are not a result message. Each sample's shape is checked, not trusted. */
export function decodeResults(data: Uint8Array): DecodedResults | null {
  const o = parse(data);
  if (o === null || o.v !== RESULT_FORMAT || !isToken(o.cycleId) || !isString(o.zone) || !isString(o.worker) || !Array.isArray(o.results)) return null;
  const entries: ResultEntry[] = [];
  for (const e of o.results as unknown[]) if (isEntry(e)) entries.push(e);
  return { cycleId: o.cycleId, zone: o.zone, worker: o.worker, entries, malformed: o.results.length - entries.length };
}

function isEntry(e: unknown): e is ResultEntry {
  if (e === null || typeof e !== 'object' || !isString((e as Record<string, unknown>).host)) return false;
  const r = (e as Record<string, unknown>).result as Record<string, unknown> | null;
  if (r === null || typeof r !== 'object' || !isNumber(r.startedAtMs) || !isNumber(r.durationMs) || !isNumber(r.attempts)) return false;
  if (r.status === 'ok') return isSample(r.sample);
  return FAILURES.includes(r.status as string) && PHASES.includes(r.phase as string) && isString(r.error);
}

/** A heartbeat, or null. */
export function decodeHeartbeat(data: Uint8Array): Heartbeat | null {
  const o = parse(data);
  if (o === null || o.v !== 1 || !isString(o.id) || !isToken(o.zone) || !isString(o.version) || !isString(o.hostname)) return null;
  return isNumber(o.pid) && isNumber(o.startedAtSec) && isNumber(o.sentAtSec) && isNumber(o.inFlight) && isNumber(o.done) && typeof o.stopping === 'boolean' && (o.slots === undefined || isNumber(o.slots))
    ? (o as unknown as Heartbeat)
    : null;
}

function parse(data: Uint8Array): Record<string, unknown> | null {
  if (data.length > MAX_MESSAGE_BYTES) return null;
  try {
    const o = JSON.parse(decoder.decode(data)) as unknown;
    return o !== null && typeof o === 'object' && !Array.isArray(o) ? (o as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function isSample(s: unknown): s is Sample {
  if (s === null || typeof s !== 'object') return false;
  const o = s as Record<string, unknown>;
  const mem = o.mem as Record<string, unknown> | null;
  return (
    isString(o.hostname) &&
    isString(o.osFamily) &&
    isString(o.osVersion) &&
    isString(o.osPretty) &&
    isNumber(o.uptimeSec) &&
    isNumber(o.cpuCores) &&
    isNumber(o.cpuBusyPct) &&
    mem !== null &&
    typeof mem === 'object' &&
    ['totalKb', 'availableKb', 'freeKb', 'swapTotalKb', 'swapFreeKb'].every((k) => isNumber(mem[k])) &&
    (o.load === null || (typeof o.load === 'object' && ['m1', 'm5', 'm15'].every((k) => isNumber((o.load as Record<string, unknown>)[k])))) &&
    isArrayOf(o.disks, (d) => isString(d.mount) && isString(d.fsType) && isNumber(d.totalKb) && isNumber(d.usedKb) && isNumber(d.availableKb)) &&
    isArrayOf(o.procs, (p) => isNumber(p.pid) && isString(p.user) && isNumber(p.cpuPct) && isNumber(p.rssKb) && isString(p.name)) &&
    isArrayOf(o.users, (u) => isString(u.user) && isNumber(u.cpuPct) && isNumber(u.rssKb) && isNumber(u.processCount)) &&
    isArrayOf(o.sessions, (x) => isString(x.user) && isString(x.terminal) && isString(x.from)) &&
    isArrayOf(o.warnings, () => true) &&
    (o.warnings as unknown[]).every(isString)
  );
}

function isArrayOf(value: unknown, check: (item: Record<string, unknown>) => boolean): boolean {
  return Array.isArray(value) && value.every((item) => item !== null && typeof item === 'object' && check(item as Record<string, unknown>));
}

function isAuth(a: unknown): a is AuthSpec {
  if (a === null || typeof a !== 'object') return false;
  const o = a as Record<string, unknown>;
  return o.kind === 'default' || o.kind === 'agent' || (o.kind === 'key' && isString(o.path)) || (o.kind === 'password-env' && isString(o.envVar));
}

function isString(v: unknown): v is string {
  return typeof v === 'string';
}

function isNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

// One NATS subject token (cycle ids, zones).
function isToken(v: unknown): v is string {
  return typeof v === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(v);
}
