// One poll cycle: every host's network waits run side by side, CPU-heavy phases are bounded by
// `concurrency`, one deadline per host, capped retries; -> PollResult[].
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Host, OsKind, PollResult, TransportKind } from '../model.js';
import type { Log } from '../log.js';
import { parseProbeOutput } from '../probes/protocol.js';
import { FailureLines } from './failure-lines.js';
import { Gate } from './gate.js';
import { DEFAULT_STARTS_PER_SECOND, StartRate } from './start-rate.js';
import type { CpuSlot, RunOutcome, SlotGrant, StartTurn, Transport } from './transport.js';

export interface PollOptions {
  readonly transports: Readonly<Record<TransportKind, Transport>>;
  /** The exact probe bytes per OS, built once per cycle. */
  readonly scripts: Readonly<Record<OsKind, string>>;
  /** Hosts at once in a CPU-heavy phase (SSH key exchange + auth, parsing; a whole local/WinRM run). */
  readonly concurrency: number;
  /**
   * Hosts at once with a connection open or being opened (waiting on DNS, TCP, a banner, the probe);
   * undefined or null: defaultMaxConnections(), from the open-files limit.
   */
  readonly maxConnections?: number | null;
  /**
   * Hosts at once past the server's banner (key exchange, auth, the probe running): what bounds
   * the memory of open sessions and the probes' load when hosts share a machine (loopback, VMs on
   * one hypervisor). undefined or null: SESSIONS_PER_CPU_SLOT x concurrency.
   */
  readonly maxSessions?: number | null;
  /** New connections opened per second at most (DEFAULT_STARTS_PER_SECOND when undefined or null). */
  readonly startsPerSecond?: number | null;
  readonly timeoutMs: number;
  readonly maxOutputBytes: number;
  readonly retries: number;
  readonly retryBackoffMs: number;
  /** The backoff doubles per attempt up to this; default MAX_BACKOFF_MS. */
  readonly maxRetryBackoffMs?: number;
  readonly log: Log;
  /** Called as each host finishes (progress, streaming consumers). */
  readonly onResult?: (result: PollResult) => void;
}

// The two budgets of one cycle, shared by its hosts.
export interface PollGates {
  /** CPU-heavy phases; `concurrency` slots. */
  readonly cpu: Gate;
  /** Open connections; `maxConnections` slots. */
  readonly connections: Gate;
  /** Hosts past their banner (key exchange, auth, the probe running); `maxSessions` slots. */
  readonly sessions: Gate;
  /** The pace of new connections: `startsPerSecond`. */
  readonly starts: StartRate;
}

// The backoff between attempts never grows past this.
export const MAX_BACKOFF_MS = 30_000;
// Waiting for a CPU slot pauses the host's deadline (the queue is the poller's, not the host's
// slowness), but never for longer than this: the host's sshd drops a connection that has not
// authenticated within its LoginGraceTime (OpenSSH default 120 s).
export const MIN_CPU_WAIT_LIMIT_MS = 60_000;
// A probe's window is waiting, not poller CPU: several sessions per CPU slot.
export const SESSIONS_PER_CPU_SLOT = 4;
// How long before its booked first connection the fan-out starts a host: time for its name
// lookup and key loading, so that connections still start at the full pace.
export const START_LEAD_MS = 100;
// File handles kept back from the open-files limit for logs, CSV files, pipes and agent sockets.
const RESERVED_FILES = 256;
// Past this, more connections waiting at once buy nothing and cost memory.
const MAX_DEFAULT_CONNECTIONS = 2048;

/** The default limit on open connections: the process's open-files soft limit minus a reserve, at most 2048. */
export function defaultMaxConnections(concurrency: number, softLimit = openFilesSoftLimit()): number {
  // An authenticating host may hold a second handle (its ssh-agent socket).
  return Math.max(concurrency, Math.min(MAX_DEFAULT_CONNECTIONS, softLimit - RESERVED_FILES - concurrency));
}

/** The RLIMIT_NOFILE soft limit (Linux: /proc/self/limits); 1024 where it cannot be read. */
export function openFilesSoftLimit(): number {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
    if (soft === 'unlimited') return Number.MAX_SAFE_INTEGER;
    const value = Number(soft);
    return Number.isInteger(value) && value > 0 ? value : 1024;
  } catch {
    return 1024;
  }
}

/** Polls every host; resolves with one result per host, in inventory order. Never rejects. */
export async function pollFleet(hosts: readonly Host[], options: PollOptions): Promise<PollResult[]> {
  const gates = pollGates(options);
  // Hundreds of hosts down at once: the run log names the first ones and counts the rest.
  const failures = new FailureLines(options.log);
  const running: Promise<PollResult>[] = [];
  for (const host of hosts) {
    // A connection slot before the deadline starts: a fleet larger than the limit waits its turn.
    await gates.connections.acquire();
    // The host's first connection is booked here and the host starts just before it: started
    // seconds ahead (a site down: thousands of hosts at once), each would hold its deadline,
    // attempt and async frames all that time, and every retry would queue behind them all.
    const firstStartAtMs = gates.starts.reserveAt();
    const earlyMs = gates.starts.untilMs(firstStartAtMs) - START_LEAD_MS;
    if (earlyMs > 0) await sleep(earlyMs);
    const polled = pollWithGates(host, options, gates, failures, firstStartAtMs).then((result) => {
      options.onResult?.(result);
      return result;
    });
    // An onResult that throws rejects the poll (through Promise.all below) instead of crashing
    // the process as an unhandled rejection while later hosts are still starting.
    polled.catch(() => {});
    running.push(polled);
  }
  const results = await Promise.all(running);
  failures.flush();
  return results;
}

/** The gates of one cycle, sized from the options. */
export function pollGates(options: Pick<PollOptions, 'concurrency' | 'maxConnections' | 'maxSessions' | 'startsPerSecond'>): PollGates {
  const maxConnections = options.maxConnections ?? defaultMaxConnections(options.concurrency);
  const maxSessions = options.maxSessions ?? options.concurrency * SESSIONS_PER_CPU_SLOT;
  return { cpu: new Gate(options.concurrency), connections: new Gate(Math.max(maxConnections, 1)), sessions: new Gate(Math.max(maxSessions, options.concurrency)), starts: new StartRate(options.startsPerSecond ?? DEFAULT_STARTS_PER_SECOND) };
}

/** Polls one host within its deadline; every failure is a value. */
export async function pollHost(host: Host, options: PollOptions): Promise<PollResult> {
  const gates = pollGates(options);
  await gates.connections.acquire();
  return pollWithGates(host, options, gates);
}

/**
 * Polls one host that holds a connection slot (released here). Exported for the fan-out of
 * `serve`, which shares one PollGates across its schedule. `failures` bounds the cycle's
 * per-host failure lines in the run log; without it every failed host gets its line.
 * `firstStartAtMs`: the first connection's start time, already reserved from `gates.starts`.
 */
export async function pollWithGates(host: Host, options: PollOptions, gates: PollGates, failures?: FailureLines, firstStartAtMs?: number): Promise<PollResult> {
  const deadline = new HostDeadline(options.timeoutMs);
  const connection = { held: true };
  try {
    return await pollWithin(host, options, gates, deadline, connection, failures, firstStartAtMs);
  } finally {
    deadline.clear();
    if (connection.held) gates.connections.release();
  }
}

async function pollWithin(host: Host, options: PollOptions, gates: PollGates, deadline: HostDeadline, connection: { held: boolean }, failures: FailureLines | undefined, firstStartAtMs: number | undefined): Promise<PollResult> {
  const startedAt = new Date();
  const started = performance.now();
  const transport = options.transports[host.transport];
  const script = options.scripts[host.os];
  const { signal } = deadline;
  let attempts = 0;
  let outcome: RunOutcome;

  for (;;) {
    attempts += 1;
    const cpu = new AttemptSlots(gates, deadline, Math.max(options.timeoutMs, MIN_CPU_WAIT_LIMIT_MS), attempts === 1 ? firstStartAtMs : undefined);
    try {
      outcome = await runAttempt(transport, host, { script, signal, maxOutputBytes: options.maxOutputBytes, cpu, start: cpu });
    } catch (error) {
      // A transport bug must cost this host, not the cycle.
      outcome = { ok: false, status: 'probe_error', phase: 'exec', error: `internal error: ${(error as Error).message}`, retryable: false, cause: error };
    } finally {
      cpu.finish();
    }
    if (outcome.ok || !outcome.retryable || attempts > options.retries) break;
    const backoff = Math.min(options.retryBackoffMs * 2 ** (attempts - 1), options.maxRetryBackoffMs ?? MAX_BACKOFF_MS);
    // A retry that cannot finish inside the deadline only delays the timeout row.
    if (deadline.remainingMs() < backoff + 1000) break;
    // The host in the fields, not a child logger: a debug line is usually filtered out, and the line is the same.
    options.log.debug('retrying after transient error', { host: host.name, error: outcome.error, backoff_ms: backoff });
    // The backoff holds nothing: neither a CPU slot nor a connection slot.
    gates.connections.release();
    connection.held = false;
    // No signal on the sleep (a listener on the deadline per retry): the check above leaves the
    // deadline at least a second past the backoff, and an aborted deadline fails the acquire below.
    await sleep(backoff);
    // Ahead of hosts that have not started: this one's deadline is already running.
    if (!(await gates.connections.acquire(signal, true))) break;
    connection.held = true;
  }

  if (!outcome.ok) {
    const durationMs = Math.round(performance.now() - started);
    const meta = { error: outcome.error, attempts, ms: durationMs };
    if (failures === undefined) options.log.child({ host: host.name }).warn(`${outcome.status} during ${outcome.phase}`, meta);
    else failures.failed(host.name, `${outcome.status} during ${outcome.phase}`, meta);
    return { host, status: outcome.status, phase: outcome.phase, error: outcome.error, startedAt, durationMs, attempts, cause: outcome.cause };
  }
  // The answer is here and the connection closed: parsing only needs the CPU, first in line.
  gates.connections.release();
  connection.held = false;
  deadline.clear();
  await gates.cpu.acquire(undefined, true);
  let parsed;
  try {
    parsed = parseProbeOutput(outcome.stdout);
  } finally {
    gates.cpu.release();
  }
  const durationMs = Math.round(performance.now() - started);
  if (!parsed.ok) {
    const exit = outcome.exitCode !== null && outcome.exitCode !== 0 ? ` (exit ${outcome.exitCode}${outcome.stderr === '' ? '' : `: ${outcome.stderr}`})` : '';
    const error = `${parsed.error}${exit}`;
    if (failures === undefined) options.log.child({ host: host.name }).warn('probe_error', { error, ms: durationMs });
    else failures.failed(host.name, 'probe_error', { error, ms: durationMs });
    return { host, status: 'probe_error', phase: 'parse', error, startedAt, durationMs, attempts };
  }
  options.log.debug('ok', { host: host.name, ms: durationMs, cpu_pct: parsed.sample.cpuBusyPct });
  return { host, status: 'ok', sample: parsed.sample, startedAt, durationMs, attempts };
}

// A transport that does not gate its own phases holds a CPU slot for its whole run. Not async: a
// transport that gates itself (SSH, every attempt of a dead host) gets the call without a wrapper.
function runAttempt(transport: Transport, host: Host, run: { script: string; signal: AbortSignal; maxOutputBytes: number; cpu: CpuSlot; start: StartTurn }): Promise<RunOutcome> {
  if (transport.gatesCpu === true) return transport.run(host, run);
  return runHoldingCpu(transport, host, run);
}

async function runHoldingCpu(transport: Transport, host: Host, run: { script: string; signal: AbortSignal; maxOutputBytes: number; cpu: CpuSlot; start: StartTurn }): Promise<RunOutcome> {
  const grant = await run.cpu.acquire();
  if (!grant.ok) return { ok: false, status: 'timeout', phase: 'exec', error: grant.error, retryable: false };
  return transport.run(host, { script: run.script, signal: run.signal, maxOutputBytes: run.maxOutputBytes });
}

// One attempt's handles on the poller's own budgets: its turn to open a connection (the start
// rate, or the start time the fan-out reserved for a first attempt), the CPU gate and, from its
// first acquire until finish(), a session slot. The host's deadline stops while it waits for any
// of them. A class, not closures: every connection attempt makes one, and a refused or silent
// host uses little of it.
class AttemptSlots implements CpuSlot, StartTurn {
  private held = false;
  private session = false;

  constructor(
    private readonly gates: PollGates,
    private readonly deadline: HostDeadline,
    private readonly waitLimitMs: number,
    private readonly startAtMs: number | undefined,
  ) {}

  async acquire(): Promise<SlotGrant> {
    if (this.held) return { ok: true };
    if (this.deadline.signal.aborted) return { ok: false, error: 'deadline passed before a CPU slot was free' };
    if (!this.session) {
      if (!(await this.waitFor(this.gates.sessions))) return this.overloaded();
      this.session = true;
    }
    if (!(await this.waitFor(this.gates.cpu))) return this.overloaded();
    this.held = true;
    return { ok: true };
  }

  async wait(): Promise<void> {
    const waitMs = this.startAtMs === undefined ? this.gates.starts.reserve() : this.gates.starts.untilMs(this.startAtMs);
    if (waitMs <= 0) return;
    this.deadline.pause();
    await sleep(waitMs);
    this.deadline.resume();
  }

  release(): void {
    if (!this.held) return;
    this.held = false;
    this.gates.cpu.release();
  }

  finish(): void {
    this.release();
    if (this.session) {
      this.session = false;
      this.gates.sessions.release();
    }
  }

  private async waitFor(gate: Gate): Promise<boolean> {
    if (gate.tryAcquire()) return true;
    this.deadline.pause();
    const gaveUp = new AbortController();
    const timer = setTimeout(() => gaveUp.abort(), this.waitLimitMs);
    const granted = await gate.acquire(gaveUp.signal);
    clearTimeout(timer);
    this.deadline.resume();
    return granted;
  }

  private overloaded(): SlotGrant {
    return { ok: false, error: `no CPU slot free within ${Math.round(this.waitLimitMs / 1000)} s: the poller is overloaded (lower poll.maxConnections or raise poll.concurrency)` };
  }
}

// One AbortSignal per host whose timer can stop while the host waits for the poller itself.
class HostDeadline {
  private readonly controller = new AbortController();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private leftMs: number;
  private armedAt = 0;

  constructor(timeoutMs: number) {
    this.leftMs = timeoutMs;
    this.resume();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Milliseconds left before the deadline. */
  remainingMs(): number {
    return this.timer === null ? this.leftMs : this.leftMs - (performance.now() - this.armedAt);
  }

  pause(): void {
    if (this.timer === null) return;
    this.leftMs = this.remainingMs();
    clearTimeout(this.timer);
    this.timer = null;
  }

  resume(): void {
    if (this.timer !== null || this.controller.signal.aborted) return;
    this.armedAt = performance.now();
    // A plain timer, cleared as soon as the host is done: AbortSignal.timeout's weak timer costs more per host.
    this.timer = setTimeout(() => this.controller.abort(), Math.max(0, this.leftMs));
  }

  clear(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
