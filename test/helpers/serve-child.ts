// A real `fleetpoll serve` child process for the tests that drive the service from outside: its
// output so far, how it ended, and a wait that shows that output when it times out.
import { spawn, type ChildProcess } from 'node:child_process';
import { CLI } from './cli.js';

// A running `fleetpoll serve`, its output so far, and how it ended.
export interface ServeChild {
  readonly child: ChildProcess;
  stdout: string;
  stderr: string;
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; atMs: number }>;
}

/** Starts `fleetpoll serve <args>` in `cwd`. */
export function startServe(args: readonly string[], cwd: string): ServeChild {
  const child = spawn(process.execPath, [CLI, 'serve', ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const run: ServeChild = {
    child,
    stdout: '',
    stderr: '',
    exit: new Promise((resolveExit) => child.on('exit', (code, signal) => resolveExit({ code, signal, atMs: Date.now() }))),
  };
  child.stdout?.on('data', (c: Buffer) => (run.stdout += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (run.stderr += c.toString()));
  return run;
}

/** Waits until `check` holds; past `timeoutMs` throws, with the service's output when `run` is given. */
export async function waitFor(what: string, check: () => boolean, timeoutMs: number, run?: ServeChild): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${run === undefined ? '' : `\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The cycles the service has reported on stdout so far. */
export function cycles(run: ServeChild): number {
  return run.stdout.split('\n').filter((l) => l.startsWith('fleetpoll serve: cycle ')).length;
}
