// What travels over NATS, encoded and checked on arrival: a job (the host's row, the cycle, its
// deadline; never a secret: a Host holds references such as password-env:VAR, not values), a result
// (the sample, or the failure with status and phase) and a worker's heartbeat. Decoders return
// null for anything malformed; a bad message costs that message, never the cycle.
import type { AuthSpec, FailureStatus, Host, Phase, PollResult, Sample } from '../model.js';

// One poll job: poll `host` for cycle `cycleId`, and not after `deadlineMs` (epoch ms).
export interface Job {
  readonly v: 1;
  readonly cycleId: string;
  readonly deadlineMs: number;
  readonly host: Host;
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

// A result message: which cycle and host, which worker, and the outcome.
export interface ResultMessage {
  readonly v: 1;
  readonly cycleId: string;
  readonly host: string;
  readonly zone: string;
  readonly worker: string;
  readonly result: WireResult;
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
  /** Jobs being polled now. */
  readonly inFlight: number;
  /** Jobs finished since the worker started. */
  readonly done: number;
  readonly stopping: boolean;
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
export function encode(message: Job | ResultMessage | Heartbeat): Uint8Array {
  return encoder.encode(JSON.stringify(message));
}

/** The result message of a poll result. */
export function resultMessage(cycleId: string, zone: string, worker: string, r: PollResult): ResultMessage {
  const common = { startedAtMs: r.startedAt.getTime(), durationMs: r.durationMs, attempts: r.attempts };
  const result: WireResult = r.status === 'ok' ? { status: 'ok', sample: r.sample, ...common } : { status: r.status, phase: r.phase, error: r.error, ...common };
  return { v: 1, cycleId, host: r.host.name, zone, worker, result };
}

/** The PollResult of a received result, for the coordinator's own Host row. */
export function toPollResult(host: Host, result: WireResult): PollResult {
  const common = { host, startedAt: new Date(result.startedAtMs), durationMs: result.durationMs, attempts: result.attempts };
  return result.status === 'ok' ? { ...common, status: 'ok', sample: result.sample } : { ...common, status: result.status, phase: result.phase, error: result.error };
}

/** A job, or null when the bytes are not one. */
export function decodeJob(data: Uint8Array): Job | null {
  const o = parse(data);
  if (o === null || o.v !== 1 || !isToken(o.cycleId) || !isNumber(o.deadlineMs)) return null;
  const host = o.host as Record<string, unknown> | null;
  if (host === null || typeof host !== 'object') return null;
  const ok =
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
    (host.zone === undefined || isString(host.zone));
  return ok ? (o as unknown as Job) : null;
}

/** A result message, or null when the bytes are not one. The sample's shape is checked, not trusted. */
export function decodeResult(data: Uint8Array): ResultMessage | null {
  const o = parse(data);
  if (o === null || o.v !== 1 || !isToken(o.cycleId) || !isString(o.host) || !isString(o.zone) || !isString(o.worker)) return null;
  const r = o.result as Record<string, unknown> | null;
  if (r === null || typeof r !== 'object' || !isNumber(r.startedAtMs) || !isNumber(r.durationMs) || !isNumber(r.attempts)) return null;
  if (r.status === 'ok') return isSample(r.sample) ? (o as unknown as ResultMessage) : null;
  return FAILURES.includes(r.status as string) && PHASES.includes(r.phase as string) && isString(r.error) ? (o as unknown as ResultMessage) : null;
}

/** A heartbeat, or null. */
export function decodeHeartbeat(data: Uint8Array): Heartbeat | null {
  const o = parse(data);
  if (o === null || o.v !== 1 || !isString(o.id) || !isToken(o.zone) || !isString(o.version) || !isString(o.hostname)) return null;
  return isNumber(o.pid) && isNumber(o.startedAtSec) && isNumber(o.sentAtSec) && isNumber(o.inFlight) && isNumber(o.done) && typeof o.stopping === 'boolean'
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
