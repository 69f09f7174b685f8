// One poll cycle: bounded fan-out, one deadline per host, one retry for transient errors.
import { setTimeout as sleep } from 'node:timers/promises';
import pLimit from 'p-limit';
import type { Host, OsKind, PollResult, TransportKind } from '../model.js';
import type { Log } from '../log.js';
import { parseProbeOutput } from '../probes/protocol.js';
import type { RunOutcome, Transport } from './transport.js';

export interface PollOptions {
  readonly transports: Readonly<Record<TransportKind, Transport>>;
  /** The exact probe bytes per OS, built once per cycle. */
  readonly scripts: Readonly<Record<OsKind, string>>;
  readonly concurrency: number;
  readonly timeoutMs: number;
  readonly maxOutputBytes: number;
  readonly retries: number;
  readonly retryBackoffMs: number;
  readonly log: Log;
  /** Called as each host finishes (progress, streaming consumers). */
  readonly onResult?: (result: PollResult) => void;
}

/** Polls every host; resolves with one result per host, in inventory order. Never rejects. */
export async function pollFleet(hosts: readonly Host[], options: PollOptions): Promise<PollResult[]> {
  const limit = pLimit(options.concurrency);
  return Promise.all(
    hosts.map((host) =>
      limit(async () => {
        const result = await pollHost(host, options);
        options.onResult?.(result);
        return result;
      }),
    ),
  );
}

/** Polls one host within its deadline; every failure is a value. */
export async function pollHost(host: Host, options: PollOptions): Promise<PollResult> {
  // A plain timer, cleared as soon as the host is done: AbortSignal.timeout's weak timer costs more per host.
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), options.timeoutMs);
  try {
    return await pollWithin(host, options, deadline.signal);
  } finally {
    clearTimeout(timer);
  }
}

async function pollWithin(host: Host, options: PollOptions, signal: AbortSignal): Promise<PollResult> {
  const startedAt = new Date();
  const started = performance.now();
  const log = options.log.child({ host: host.name });
  const transport = options.transports[host.transport];
  const script = options.scripts[host.os];
  let attempts = 0;
  let outcome: RunOutcome;

  for (;;) {
    attempts += 1;
    try {
      outcome = await transport.run(host, { script, signal, maxOutputBytes: options.maxOutputBytes });
    } catch (error) {
      // A transport bug must cost this host, not the cycle.
      outcome = { ok: false, status: 'probe_error', phase: 'exec', error: `internal error: ${(error as Error).message}`, retryable: false, cause: error };
    }
    if (outcome.ok || !outcome.retryable || attempts > options.retries) break;
    const backoff = Math.min(options.retryBackoffMs * 2 ** (attempts - 1), 30_000);
    const remaining = options.timeoutMs - (performance.now() - started);
    // A retry that cannot finish inside the deadline only delays the timeout row.
    if (remaining < backoff + 1000) break;
    log.debug('retrying after transient error', { error: outcome.error, backoff_ms: backoff });
    try {
      await sleep(backoff, undefined, { signal });
    } catch {
      break;
    }
  }

  const durationMs = Math.round(performance.now() - started);
  if (!outcome.ok) {
    log.warn(`${outcome.status} during ${outcome.phase}`, { error: outcome.error, attempts, ms: durationMs });
    return {
      host,
      status: outcome.status,
      phase: outcome.phase,
      error: outcome.error,
      startedAt,
      durationMs,
      attempts,
      cause: outcome.cause,
    };
  }
  const parsed = parseProbeOutput(outcome.stdout);
  if (!parsed.ok) {
    const exit = outcome.exitCode !== null && outcome.exitCode !== 0 ? ` (exit ${outcome.exitCode}${outcome.stderr === '' ? '' : `: ${outcome.stderr}`})` : '';
    const error = `${parsed.error}${exit}`;
    log.warn('probe_error', { error, ms: durationMs });
    return { host, status: 'probe_error', phase: 'parse', error, startedAt, durationMs, attempts };
  }
  log.debug('ok', { ms: durationMs, cpu_pct: parsed.sample.cpuBusyPct });
  return { host, status: 'ok', sample: parsed.sample, startedAt, durationMs, attempts };
}
