// Runs the probe on this machine with `sh -s`: no network, same script, same result shape.
import { spawn } from 'node:child_process';
import type { Host } from '../model.js';
import { formatBytes, OutputCollector, StderrTail } from './output.js';
import { failure, type RunOptions, type RunOutcome, type Transport } from './transport.js';

// The out-of-the-box transport for the shipped one-row inventory.
export class LocalTransport implements Transport {
  run(_host: Host, options: RunOptions): Promise<RunOutcome> {
    return new Promise((resolveRun) => {
      if (options.signal.aborted) {
        resolveRun(failure('timeout', 'exec', 'deadline passed before the probe started'));
        return;
      }
      // Own process group, so a deadline kills the probe's children (df, sleep) too.
      const child = spawn('sh', ['-s'], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
      const out = new OutputCollector(options.maxOutputBytes);
      const err = new StderrTail();
      let settled = false;

      const killGroup = (): void => {
        if (child.pid === undefined) return;
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      };
      const settle = (outcome: RunOutcome): void => {
        if (settled) return;
        settled = true;
        options.signal.removeEventListener('abort', onAbort);
        killGroup();
        resolveRun(outcome);
      };
      const onAbort = (): void => {
        settle(failure('timeout', out.size > 0 ? 'read' : 'exec', 'probe did not finish before the deadline'));
      };
      options.signal.addEventListener('abort', onAbort, { once: true });

      child.on('error', (error) => settle(failure('probe_error', 'exec', `cannot start sh: ${error.message}`, false, error)));
      child.stdout.on('data', (chunk: Buffer) => {
        const state = out.push(chunk);
        if (state === 'overflow') {
          settle(failure('probe_error', 'read', `output exceeded ${formatBytes(options.maxOutputBytes)}; stopped reading`));
        } else if (state === 'ended') {
          settle({ ok: true, stdout: out.text(), stderr: '', exitCode: null, truncated: false });
        }
      });
      child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
      child.on('close', (code) => {
        settle({ ok: true, stdout: out.text(), stderr: err.firstLine(), exitCode: code, truncated: false });
      });
      child.stdin.on('error', () => {
        // The probe may exit before reading all of stdin; its output decides.
      });
      child.stdin.end(options.script);
    });
  }

  async close(): Promise<void> {}
}

