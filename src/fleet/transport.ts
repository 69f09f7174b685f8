// The contract every transport implements, and the failure value they all return.
import type { FailureStatus, Host, Phase } from '../model.js';

// What a probe run produced: the raw text, or a typed failure with its phase.
export type RunOutcome =
  | { ok: true; stdout: string; stderr: string; exitCode: number | null; truncated: false }
  | { ok: false; status: FailureStatus; phase: Phase; error: string; retryable: boolean; cause?: unknown };

export interface RunOptions {
  /** The probe script, streamed to the host on stdin; never put on a command line. */
  readonly script: string;
  /** Aborts every phase of this host's run when the deadline passes. */
  readonly signal: AbortSignal;
  /** Stop reading and fail once stdout exceeds this many bytes. */
  readonly maxOutputBytes: number;
  /**
   * This host's share of the poller's CPU budget (`concurrency`). A transport that sets
   * `gatesCpu` holds it only around its CPU-heavy phases (key exchange, authentication) and
   * waits on the network without it; absent: the caller holds a slot for the whole run.
   */
  readonly cpu?: CpuSlot;
  /** The cycle's pace of new connections: awaited right before opening one (absent: no pacing). */
  readonly start?: StartTurn;
}

// Waits for this attempt's turn to open a connection (the cycle's start rate); the host's deadline
// stops meanwhile: the wait is the poller's own, not the host's slowness.
export interface StartTurn {
  wait(): Promise<void>;
}

// The outcome of asking for a CPU slot: granted, or the reason it was not (a `timeout` row's text).
export type SlotGrant = { ok: true } | { ok: false; error: string };

// One host's way to take and give back a slot of the CPU budget; release() is safe to repeat.
export interface CpuSlot {
  acquire(): Promise<SlotGrant>;
  release(): void;
}

// A way of running the probe on a host; one implementation per file.
export interface Transport {
  run(host: Host, options: RunOptions): Promise<RunOutcome>;
  /** True when run() takes `options.cpu` itself around its CPU-heavy phases only. */
  readonly gatesCpu?: boolean;
  /** Releases shared resources (agents, pools) at the end of a cycle. */
  close(): Promise<void>;
}

/** Builds a failure outcome; keeps the original error as `cause`. */
export function failure(
  status: FailureStatus,
  phase: Phase,
  error: string,
  retryable = false,
  cause?: unknown,
): RunOutcome {
  return { ok: false, status, phase, error, retryable, cause };
}

// Probe output ends with this record; reading stops there, so a stray child on the
// host that keeps stdout open cannot hold the poll until the deadline.
export const END_MARKER = '\nend\n';
