// Simulated SSH hosts for bench/zones.ts, in a process of their own so that their CPU is nobody
// else's: ssh2's own Server behind one TCP listener per loopback address. A host checks the client's
// public key (and its signature), accepts one exec per session, reads the streamed probe to its end
// (as `sh -s` does), then answers with the canned probe output of the other benchmarks
// (bench/lib/sshd-fleet.ts) and exit status 0.
// Usage: node ssh2-hosts-child.js <job.json>; prints "ready <n>" once every address listens, and
// stops on SIGTERM or when its parent goes away (stdin closes).
import { readFileSync } from 'node:fs';
import { createServer, type Server as NetServer } from 'node:net';
import ssh2 from 'ssh2';
import { CANNED_ANSWER } from './lib/sshd-fleet.js';

/** What the parent hands over. */
export interface SimulatedHostsJob {
  readonly addresses: readonly string[];
  readonly port: number;
  /** OpenSSH private host key, shared by every simulated host (the poller's known_hosts names it for each address). */
  readonly hostKeyPath: string;
  /** The one client public key accepted (OpenSSH authorized_keys line). */
  readonly clientPublicKey: string;
}

function parsed(key: string | Buffer): ssh2.ParsedKey {
  const k = ssh2.utils.parseKey(key);
  if (k instanceof Error) throw k;
  return Array.isArray(k) ? (k[0] as ssh2.ParsedKey) : k;
}

async function main(): Promise<void> {
  const job = JSON.parse(readFileSync(process.argv[2] ?? '', 'utf8')) as SimulatedHostsJob;
  const allowed = parsed(job.clientPublicKey);
  const allowedBlob = allowed.getPublicSSH();
  const answer = Buffer.from(CANNED_ANSWER, 'utf8');
  const ssh = new ssh2.Server({ hostKeys: [readFileSync(job.hostKeyPath)] }, (client) => {
    client.on('error', () => {});
    client.on('authentication', (ctx) => {
      if (ctx.method !== 'publickey' || ctx.key.algo !== allowed.type || !ctx.key.data.equals(allowedBlob)) return ctx.reject(['publickey']);
      // Without a signature the client only asks whether the key would do; with one, it must verify.
      if (ctx.signature !== undefined && allowed.verify(ctx.blob as Buffer, ctx.signature, ctx.hashAlgo) !== true) return ctx.reject(['publickey']);
      ctx.accept();
    });
    client.on('ready', () => {
      client.on('session', (acceptSession) => {
        const session = acceptSession();
        session.on('exec', (acceptExec) => {
          const stream = acceptExec();
          stream.on('error', () => {});
          // The probe arrives on stdin; the answer goes out once all of it was read (EOF).
          stream.on('data', () => {});
          stream.once('end', () => {
            stream.write(answer);
            stream.exit(0);
            stream.end();
          });
        });
      });
    });
  });
  const listeners: NetServer[] = [];
  for (const address of job.addresses) {
    const listener = createServer((socket) => ssh.injectSocket(socket));
    await new Promise<void>((resolveListen, reject) => {
      listener.once('error', reject);
      listener.listen({ host: address, port: job.port, backlog: 1024 }, () => resolveListen());
    });
    listeners.push(listener);
  }
  const stop = (): void => process.exit(0);
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdin.on('end', stop);
  process.stdin.resume();
  process.stdout.write(`ready ${listeners.length}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`simulated hosts: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
