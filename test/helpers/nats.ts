// Starts Debian's nats-server with JetStream on loopback for tests (a temp store dir, stopped by PID).
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canConnect } from './sshd.js';

export const NATS_SERVER = '/usr/sbin/nats-server';

/** Whether a test needing nats-server must fail (CI) or may skip (a developer's machine). */
export function missingNatsServer(): string | null {
  if (existsSync(NATS_SERVER)) return null;
  const message = `${NATS_SERVER} is not installed (apt-get install nats-server)`;
  if (process.env.CI === 'true') throw new Error(`CI requires ${message}`);
  return message;
}

// A running nats-server; stop() and start() again keep its store (JetStream data survives, as in production).
export interface NatsServer {
  readonly url: string;
  readonly storeDir: string;
  pid(): number | null;
  log(): string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Stops it and removes its store. */
  dispose(): Promise<void>;
}

/** Starts nats-server -js on `address`:`port` with a fresh store dir; waits until it accepts TCP. */
export async function startNatsServer(address: string, port: number): Promise<NatsServer> {
  const dir = mkdtempSync(join(tmpdir(), 'fleetpoll-nats-'));
  const logPath = join(dir, 'nats.log');
  let child: ChildProcess | null = null;
  let exited = true;
  const server: NatsServer = {
    url: `nats://${address}:${port}`,
    storeDir: join(dir, 'store'),
    pid: () => (exited ? null : (child?.pid ?? null)),
    log: () => (existsSync(logPath) ? readFileSync(logPath, 'utf8') : ''),
    async start() {
      const fd = openSync(logPath, 'a');
      child = spawn(NATS_SERVER, ['-js', '-sd', join(dir, 'store'), '-a', address, '-p', String(port)], { stdio: ['ignore', fd, fd] });
      closeSync(fd);
      exited = false;
      child.once('exit', () => (exited = true));
      const deadline = Date.now() + 10_000;
      while (!(await canConnect(address, port))) {
        if (exited) throw new Error(`nats-server exited at start; log:\n${server.log()}`);
        if (Date.now() > deadline) throw new Error(`nats-server did not listen on ${address}:${port}; log:\n${server.log()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      // JetStream is ready once the log says the server is.
      while (!/Server is ready/.test(server.log()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    },
    stop: () =>
      new Promise<void>((resolveStop) => {
        const c = child;
        if (c === null || exited || c.pid === undefined) {
          resolveStop();
          return;
        }
        c.once('exit', () => resolveStop());
        process.kill(c.pid, 'SIGTERM');
        // This child's own state: `exited` is the next child's once start() runs again.
        const timer = setTimeout(() => {
          if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
        }, 5000);
        c.once('exit', () => clearTimeout(timer));
      }),
    async dispose() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}
