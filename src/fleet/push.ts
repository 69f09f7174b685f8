// The push transport: a transport=push host is never contacted; its "run" is reading the last push the
// ingest route accepted (src/push/spool.ts). A push within the host's interval (plus push.graceSeconds)
// is handed to the cycle as probe output, so it is parsed and recorded exactly like a polled answer; a
// host quiet for longer is a `timeout` row, so it alerts like a host that is down.
import type { Host } from '../model.js';
import { readSpool, SpoolError } from '../push/spool.js';
import { utc } from '../push/judge.js';
import { failure, type RunOptions, type RunOutcome, type Transport } from './transport.js';

// What the push transport reads.
export interface PushTransportOptions {
  readonly dataDir: string;
  readonly graceSeconds: number;
  /** Epoch milliseconds now (tests pin it). */
  readonly nowMs?: () => number;
}

// Reads pushes from the spool; opens no connection.
export class PushTransport implements Transport {
  constructor(private readonly options: PushTransportOptions) {}

  async run(host: Host, options: RunOptions): Promise<RunOutcome> {
    if (options.signal.aborted) return failure('timeout', 'read', 'deadline passed before the last push was read');
    let push;
    try {
      push = await readSpool(this.options.dataDir, host.name);
    } catch (error) {
      const message = error instanceof SpoolError ? error.message : (error as Error).message;
      return failure('probe_error', 'read', `the last push cannot be read: ${message}`, false, error);
    }
    if (push === null) return failure('timeout', 'read', 'never pushed: no push received from this host yet (docs/push.md)');
    const intervalSeconds = host.push?.intervalSeconds ?? 0;
    const ageMs = (this.options.nowMs ?? Date.now)() - push.receivedAtMs;
    if (ageMs > (intervalSeconds + this.options.graceSeconds) * 1000) {
      return failure('timeout', 'read', `no push since ${utc(Math.floor(push.receivedAtMs / 1000))} (interval ${intervalSeconds} s)`);
    }
    if (Buffer.byteLength(push.body, 'utf8') > options.maxOutputBytes) {
      // Accepted under a larger poll.maxOutputMB than the one now in force.
      return failure('probe_error', 'read', `the last push is larger than poll.maxOutputMB allows now`);
    }
    return { ok: true, stdout: push.body, stderr: '', exitCode: 0, truncated: false };
  }

  async close(): Promise<void> {}
}
