// The floor of the poll benchmark: the least a Node process must do to poll the fleet with
// ssh2 alone (no fleetpoll code), so that fleetpoll's cost can be read as a ratio to it.
// Usage: node floor-child.js <job.json>; prints one JSON line {ok, failed, failures}.
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import ssh2 from 'ssh2';

/** The work the parent hands over: every value fleetpoll would derive from its own config. */
export interface FloorJob {
  readonly hosts: readonly { readonly address: string; readonly port: number }[];
  readonly user: string;
  readonly keyPath: string;
  /** Base64 host key blobs accepted (stands in for known_hosts at the lowest possible cost). */
  readonly knownKeysBase64: readonly string[];
  /** The exact bytes fleetpoll streams (buildProbeScript output). */
  readonly scriptPath: string;
  readonly concurrency: number;
  readonly kex: readonly string[];
  readonly ciphers: readonly string[];
  readonly serverHostKey: readonly string[];
}

/** The floor child's report on stdout. */
export interface FloorReport {
  readonly ok: number;
  readonly failed: number;
  readonly failures: readonly string[];
}

const jobPath = process.argv[2];
if (jobPath === undefined) throw new Error('usage: floor-child.js <job.json>');
const job = JSON.parse(readFileSync(jobPath, 'utf8')) as FloorJob;
const script = readFileSync(job.scriptPath);
const parsed = ssh2.utils.parseKey(readFileSync(job.keyPath));
if (parsed instanceof Error) throw parsed;
// Parsed once, as fleetpoll caches it: per-connection parsing is not part of the floor.
const key: ssh2.ParsedKey = parsed;
const auth: ssh2.PublicKeyAuthMethod[] = [{ type: 'publickey', username: job.user, key }];
const known = new Set(job.knownKeysBase64);
const END = Buffer.from('\nend\n');

// Resolves with null when the host answered with a complete probe output, else the reason.
function pollOne(host: { address: string; port: number }): Promise<string | null> {
  return new Promise((resolveHost) => {
    const client = new ssh2.Client();
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (error: string | null): void => {
      if (done) return;
      done = true;
      client.end();
      resolveHost(error);
    };
    client.on('error', (error) => finish(`${host.address}: ${error.message}`));
    client.on('close', () => finish(`${host.address}: connection closed before the probe finished`));
    client.on('ready', () => {
      client.exec('sh -s', (error, stream) => {
        if (error !== undefined && error !== null) {
          finish(`${host.address}: exec: ${error.message}`);
          return;
        }
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.stderr.resume();
        stream.on('close', () => {
          const out = Buffer.concat(chunks);
          finish(out.subarray(-END.length).equals(END) ? null : `${host.address}: output (${out.length} bytes) does not end with "end"`);
        });
        stream.end(script);
      });
    });
    client.connect({
      // Same TCP set-up as fleetpoll's transport, so only the layers above differ.
      sock: connect({ host: host.address, port: host.port, noDelay: true }),
      username: job.user,
      authHandler: auth,
      algorithms: {
        kex: job.kex as ssh2.KexAlgorithm[],
        cipher: job.ciphers as ssh2.CipherAlgorithm[],
        serverHostKey: job.serverHostKey as ssh2.ServerHostKeyAlgorithm[],
      },
      hostVerifier: (blob: Buffer) => known.has(blob.toString('base64')),
      // ssh2's default 20 s would fail hosts that merely queue behind 500 sshd forks.
      readyTimeout: 0,
    });
  });
}

// A bare counter-based limiter: p-limit would be library code the floor should not carry.
function pollAll(): Promise<FloorReport> {
  return new Promise((resolveAll) => {
    let next = 0;
    let active = 0;
    let ok = 0;
    const failures: string[] = [];
    const launch = (): void => {
      while (active < job.concurrency && next < job.hosts.length) {
        const host = job.hosts[next];
        next += 1;
        if (host === undefined) continue;
        active += 1;
        void pollOne(host).then((error) => {
          active -= 1;
          if (error === null) ok += 1;
          else failures.push(error);
          if (next >= job.hosts.length && active === 0) resolveAll({ ok, failed: failures.length, failures: failures.slice(0, 10) });
          else launch();
        });
      }
    };
    launch();
  });
}

const report = await pollAll();
process.stdout.write(`${JSON.stringify(report)}\n`);
