// SSH transport: ssh2 with known_hosts verification; the probe goes on stdin to `sh -s`
// (or, on os=windows hosts, to a fixed PowerShell bootstrap). Waits on the network (DNS, TCP, the
// server's banner, the probe) hold no CPU slot; key exchange and authentication do. One connection
// per host per run, or, in warm mode (`serve`), one kept between runs (ssh-connections.ts).
import { lookup } from 'node:dns/promises';
import { isIP, connect as tcpConnect, type Socket } from 'node:net';
import ssh2 from 'ssh2';
import type { Host, Phase } from '../model.js';
import type { Log } from '../log.js';
import { formatBytes, OutputCollector, StderrTail } from './output.js';
import { SshAuth, type AuthMethod } from './ssh-auth.js';
import { ConnectionPool, type ConnectionStats, type OpenedConnection, type WarmSettings } from './ssh-connections.js';
import type { HostKeyPolicy } from './ssh-host-keys.js';
import { failure, type RunOptions, type RunOutcome, type Transport } from './transport.js';
import { windowsProbeCommand } from '../probes/windows-ssh.js';

// The policy adapter lives in its own file; re-exported for the code that builds transports.
export { knownHostsPolicy, type HostKeyDecision, type HostKeyPolicy } from './ssh-host-keys.js';
export { DEFAULT_WARM_SETTINGS, type ConnectionStats, type WarmSettings } from './ssh-connections.js';

export interface SshOptions {
  readonly hostKeys: HostKeyPolicy;
  /** Key file for rows without an auth column; null = first of ~/.ssh/id_{ed25519,ecdsa,rsa}. */
  readonly identityPath: string | null;
  readonly passphrase: string | undefined;
  readonly env: NodeJS.ProcessEnv;
  /** Resolves an inventory key path (relative to the inventory file, ~ expanded). */
  readonly resolveKeyPath: (path: string) => string;
  readonly log: Log;
  /** Program that runs the probe on os=windows hosts (default `powershell`). */
  readonly windowsPowerShell?: string;
  /** Keep one connection per host open between runs (`serve`); absent or null: connect per run (`poll`). */
  readonly warm?: WarmSettings | null;
}

// curve25519 first: the post-quantum hybrids OpenSSH prefers cost the poller ~6x the CPU.
export const KEX_ALGORITHMS = [
  'curve25519-sha256',
  'curve25519-sha256@libssh.org',
  'ecdh-sha2-nistp256',
  'ecdh-sha2-nistp384',
  'ecdh-sha2-nistp521',
  'diffie-hellman-group-exchange-sha256',
  'diffie-hellman-group14-sha256',
  'diffie-hellman-group16-sha512',
  'diffie-hellman-group18-sha512',
];
// AES-GCM uses the CPU's AES instructions through OpenSSL; ssh2's chacha20 is pure JS without its addon.
export const CIPHERS = ['aes128-gcm@openssh.com', 'aes256-gcm@openssh.com', 'aes128-ctr', 'aes256-ctr'];

// Connect errors worth one more try: the host or its sshd may be restarting.
const TRANSIENT = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ETIMEDOUT', 'EPIPE']);

// How far one run got: the phase a timeout or a failure is reported in.
interface RunState {
  phase: Phase;
}

// A server that sent its banner: the socket (banner unread) and the address it was reached at.
interface ReachedServer {
  readonly sock: Socket;
  readonly address: string;
}

// Polls hosts over SSH; one connection per host per cycle, or kept between cycles in warm mode.
export class SshTransport implements Transport {
  // Key exchange and authentication take options.cpu themselves; the waits around them do not.
  readonly gatesCpu = true;
  private readonly auth: SshAuth;
  // The probe's bytes, encoded once a cycle: ssh2 would encode the string for every host (18 kB of
  // UTF-8 each, all of it garbage the GC then has to deal with).
  private readonly scriptBytes = new Map<string, Buffer>();

  // Warm mode only: the kept connections.
  private readonly pool: ConnectionPool | null;

  constructor(private readonly options: SshOptions) {
    this.auth = new SshAuth(options);
    this.pool = options.warm === undefined || options.warm === null ? null : new ConnectionPool(options.warm, options.log);
  }

  async run(host: Host, run: RunOptions): Promise<RunOutcome> {
    const auth = await this.auth.methodsFor(host);
    if (!Array.isArray(auth)) return auth;
    if (run.signal.aborted) return failure('timeout', 'dns', 'deadline passed before connecting');
    const relay = new AbortRelay(run.signal);
    try {
      if (this.pool !== null) return await this.runWarm(this.pool, host, auth, run, relay);
      // Each step awaited here rather than nested: a host that cannot be reached (most of a
      // dead-host burst) costs only the frames of the steps it gets to, per connection attempt.
      const state: RunState = { phase: 'dns' };
      const reached = await reachServer(host, run, relay, state);
      if ('ok' in reached) return reached;
      const opened = await this.authenticate(host, auth, run, relay, state, reached);
      if ('ok' in opened) return opened;
      return await this.probeOnce(opened, host, run, relay, state);
    } finally {
      relay.dispose();
    }
  }

  // One probe on a connection of its own, closed afterwards (`poll`).
  private async probeOnce(opened: OpenedConnection, host: Host, run: RunOptions, relay: AbortRelay, state: RunState): Promise<RunOutcome> {
    const { client: connection, sock } = opened;
    try {
      return await execProbe(connection, this.bytesOf(run.script), run, relay, state, this.commandFor(host), null);
    } finally {
      connection.end();
      sock.destroy();
    }
  }

  // The host's kept connection (opened, or reopened, as the pool decides); the CPU slot only for opening.
  private runWarm(pool: ConnectionPool, host: Host, auth: AuthMethod[], run: RunOptions, relay: AbortRelay): Promise<RunOutcome> {
    const state: RunState = { phase: 'dns' };
    const { auth: spec } = host;
    const identity = [host.address, host.port, host.user, host.os, spec.kind, spec.kind === 'key' ? spec.path : spec.kind === 'password-env' ? spec.envVar : ''].join('\u0000');
    const channelOpenMs = pool.settings.channelOpenTimeoutMs;
    return pool.run(
      host.name,
      identity,
      run.signal,
      () => this.openConnection(host, auth, run, relay, state),
      async (connection, reused) => {
        state.phase = 'exec';
        const outcome = await execProbe(connection.client, this.bytesOf(run.script), run, relay, state, this.commandFor(host), channelOpenMs);
        if (!outcome.ok && reused) pool.log.debug('kept connection failed', { host: host.name, status: outcome.status, error: outcome.error });
        return outcome;
      },
    );
  }

  /** Warm mode: closes the host's kept connection (a host removed from the inventory). */
  forget(hostName: string): Promise<void> {
    return this.pool?.forget(hostName) ?? Promise.resolve();
  }

  /** Warm mode: closes the kept connections of every host not named (the inventory after a reload). */
  retain(hostNames: Iterable<string>): Promise<void> {
    return this.pool?.retain(hostNames) ?? Promise.resolve();
  }

  /** Warm mode: open connections and (re)connect counts since the transport was built; zeros otherwise. */
  connectionStats(): ConnectionStats {
    return this.pool?.stats() ?? { open: 0, connects: 0, reconnects: 0, recycled: 0, dropped: 0, inBackoff: 0 };
  }

  private commandFor(host: Host): string {
    // The probe always arrives on stdin; only the program reading it depends on the OS.
    return host.os === 'windows' ? windowsProbeCommand(this.options.windowsPowerShell ?? 'powershell') : 'sh -s';
  }

  // DNS, TCP, banner, key exchange (host key checked) and authentication: a connection ready to exec, or why not.
  private async openConnection(host: Host, auth: AuthMethod[], run: RunOptions, relay: AbortRelay, state: RunState): Promise<OpenedConnection | RunOutcome> {
    const reached = await reachServer(host, run, relay, state);
    if ('ok' in reached) return reached;
    return this.authenticate(host, auth, run, relay, state, reached);
  }

  // Key exchange (host key checked) and authentication on a socket whose server sent its banner.
  private async authenticate(host: Host, auth: AuthMethod[], run: RunOptions, relay: AbortRelay, state: RunState, reached: ReachedServer): Promise<OpenedConnection | RunOutcome> {
    const { sock, address } = reached;
    // Key exchange and authentication are the CPU-heavy part: they run inside the concurrency bound.
    const grant = run.cpu === undefined ? { ok: true as const } : await run.cpu.acquire();
    if (!grant.ok) {
      sock.destroy();
      return failure('timeout', 'handshake', grant.error);
    }
    const client = new ssh2.Client();
    let hostKeyRefusal: string | null = null;
    relay.onAbort(() => {
      sock.destroy();
      client.end();
    });
    const ready = awaitReady(client);
    try {
      client.connect({
        sock,
        host: address,
        port: host.port,
        username: host.user,
        // Our deadline governs; ssh2's own timer only as a backstop.
        readyTimeout: 24 * 3600 * 1000,
        // Warm mode: a kept connection whose peer stopped answering is noticed between runs.
        ...(this.options.warm ? { keepaliveInterval: this.options.warm.keepaliveMs, keepaliveCountMax: this.options.warm.keepaliveCountMax } : {}),
        algorithms: {
          kex: KEX_ALGORITHMS as ssh2.KexAlgorithm[],
          cipher: CIPHERS as ssh2.CipherAlgorithm[],
          serverHostKey: this.options.hostKeys.hostKeyAlgorithms(host) as ssh2.ServerHostKeyAlgorithm[],
        },
        hostVerifier: (key: Buffer, verify: (valid: boolean) => void) => {
          this.options.hostKeys.verify(host, key).then(
            (decision) => {
              if (decision.accept) state.phase = 'auth';
              else hostKeyRefusal = decision.error;
              verify(decision.accept);
            },
            (error: unknown) => {
              hostKeyRefusal = `host key check failed: ${(error as Error).message}`;
              verify(false);
            },
          );
        },
        authHandler: auth as unknown as ssh2.AuthenticationType[],
      } as ssh2.ConnectConfig);
      await ready.settled;
      run.cpu?.release();
    } catch (error) {
      run.cpu?.release();
      sock.destroy();
      if (hostKeyRefusal !== null) return failure('host_key_mismatch', 'handshake', hostKeyRefusal, false, error);
      if (run.signal.aborted) return failure('timeout', state.phase, timeoutText(state.phase));
      return translateConnectError(error, state.phase);
    }

    // 'ready' and the end of the connection can arrive together, before this code resumes.
    ready.detach();
    if (ready.closed()) {
      sock.destroy();
      return failure('unreachable', 'handshake', 'connection closed right after authentication');
    }
    relay.onAbort(null);
    state.phase = 'exec';
    return { client, sock };
  }

  async close(): Promise<void> {
    this.pool?.close();
    this.auth.clear();
    this.scriptBytes.clear();
  }

  private bytesOf(script: string): Buffer {
    let bytes = this.scriptBytes.get(script);
    if (bytes === undefined) {
      bytes = Buffer.from(script, 'utf8');
      this.scriptBytes.set(script, bytes);
    }
    return bytes;
  }
}

// DNS, TCP and the server's banner: the waits that hold no CPU slot, and all that a host refusing
// or never answering (thousands at once when a site is down) goes through. The socket comes back
// with the banner unread; authenticate() takes it from there.
async function reachServer(host: Host, run: RunOptions, relay: AbortRelay, state: RunState): Promise<ReachedServer | RunOutcome> {
  let address = host.address;
  if (isIP(address) === 0) {
    try {
      const found = await abortable(lookup(address), relay);
      address = found.address;
    } catch (error) {
      if (run.signal.aborted) return failure('timeout', 'dns', `name lookup of ${host.address} did not finish`);
      const code = (error as NodeJS.ErrnoException).code ?? '';
      return failure('unreachable', 'dns', `cannot resolve ${host.address}: ${code || (error as Error).message}`, code === 'EAI_AGAIN', error);
    }
  }

  state.phase = 'connect';
  // The cycle's pace of new connections (a kept connection reused in warm mode never gets here).
  if (run.start !== undefined) await run.start.wait();
  if (run.signal.aborted) return failure('timeout', 'connect', 'deadline passed before connecting');
  let sock: Socket;
  try {
    sock = await connectTcp(address, host.port, relay);
  } catch (error) {
    if (run.signal.aborted) return failure('timeout', 'connect', `TCP connect to port ${host.port} did not complete`);
    const code = (error as NodeJS.ErrnoException).code ?? '';
    return failure('unreachable', 'connect', describeSocketError(error, host.port), TRANSIENT.has(code), error);
  }

  state.phase = 'handshake';
  // A host that accepts TCP but never speaks (firewall, hung sshd) waits here holding only its socket.
  const banner = await awaitBanner(sock, relay);
  if (banner !== 'spoke') {
    sock.destroy();
    if (run.signal.aborted || banner === 'aborted') return failure('timeout', 'handshake', timeoutText('handshake'));
    if (banner === 'closed') return failure('unreachable', 'handshake', 'the server closed the connection before sending its SSH banner');
    // As before the banner wait: a reset while the host's sshd restarts is worth the retry.
    const code = (banner as NodeJS.ErrnoException).code ?? '';
    return failure('unreachable', 'handshake', `${describeSocketError(banner, host.port)} during handshake`, TRANSIENT.has(code), banner);
  }
  return { sock, address };
}

// Runs the probe command, streams the script, collects stdout up to the cap and the `end` record.
// channelOpenMs (warm mode): a kept connection that does not open a channel in time is given up.
function execProbe(
  connection: ssh2.Client,
  script: Buffer,
  run: RunOptions,
  relay: AbortRelay,
  state: { phase: Phase },
  command: string,
  channelOpenMs: number | null,
): Promise<RunOutcome> {
  return new Promise((resolveExec) => {
    let settled = false;
    const out = new OutputCollector(run.maxOutputBytes);
    const err = new StderrTail();
    let exitCode: number | null = null;
    let channel: ssh2.ClientChannel | null = null;
    let openTimer: ReturnType<typeof setTimeout> | null = null;
    // Warm mode: nothing ran on the host while no channel is open, so the poll may retry on a fresh connection.
    const beforeChannel = (): boolean => channelOpenMs !== null && channel === null && !run.signal.aborted;
    const onClose = (): void => {
      if (out.state === 'ended') return;
      if (beforeChannel()) settle(failure('unreachable', 'exec', 'the connection closed before the probe started', true));
      else settle(failure('unreachable', state.phase, 'connection closed before the probe finished'));
    };
    const settle = (outcome: RunOutcome): void => {
      if (settled) return;
      settled = true;
      relay.onAbort(null);
      if (openTimer !== null) clearTimeout(openTimer);
      // A kept connection outlives this run: its listeners must not pile up.
      connection.off('close', onClose);
      // close(), not destroy(): ssh2's destroy() ends the already-ended writable side again,
      // and Node builds an error with a stack trace for that (~1 ms of CPU per host).
      channel?.close();
      resolveExec(outcome);
    };
    relay.onAbort(() => settle(failure('timeout', state.phase, timeoutText(state.phase))));
    connection.on('close', onClose);
    if (channelOpenMs !== null) {
      openTimer = setTimeout(() => {
        openTimer = null;
        if (channel === null) settle(failure('timeout', 'exec', `the connection did not open a channel and start the probe within ${channelOpenMs / 1000} s`, beforeChannel()));
      }, channelOpenMs);
    }
    const started = (error: Error | undefined, stream: ssh2.ClientChannel): void => {
      if (openTimer !== null) clearTimeout(openTimer);
      openTimer = null;
      if (error !== undefined && error !== null) {
        settle(failure('probe_error', 'exec', `cannot start the probe: ${error.message}`, false, error));
        return;
      }
      channel = stream;
      if (settled) {
        stream.close();
        return;
      }
      stream.on('data', (chunk: Buffer) => {
        state.phase = 'read';
        const collected = out.push(chunk);
        if (collected === 'overflow') {
          settle(failure('probe_error', 'read', `output exceeded ${formatBytes(run.maxOutputBytes)}; stopped reading`));
        } else if (collected === 'ended') {
          settle({ ok: true, stdout: out.text(), stderr: err.firstLine(), exitCode, truncated: false });
        }
      });
      stream.stderr.on('data', (chunk: Buffer) => err.push(chunk));
      stream.on('exit', (code: number | null) => {
        exitCode = code;
      });
      stream.on('close', () => {
        settle({ ok: true, stdout: out.text(), stderr: err.firstLine(), exitCode, truncated: false });
      });
      stream.on('error', () => {});
      stream.end(script);
    };
    try {
      connection.exec(command, started);
    } catch (error) {
      // ssh2 throws when the socket is no longer writable (a kept connection that just died).
      settle(failure('unreachable', 'exec', `connection lost before the probe started: ${(error as Error).message}`, beforeChannel(), error));
    }
  });
}

// Plain listeners removed in one place rather than once(): once() wraps each in a bound function and
// a state object, for every connection attempt of every dead host.
function connectTcp(address: string, port: number, relay: AbortRelay): Promise<Socket> {
  return new Promise((resolveSock, reject) => {
    const sock = tcpConnect({ host: address, port, noDelay: true });
    const onConnect = (): void => {
      relay.onAbort(null);
      sock.off('connect', onConnect);
      sock.off('error', onError);
      // Later socket errors surface through ssh2; keep one listener so none is unhandled.
      sock.on('error', ignoreError);
      resolveSock(sock);
    };
    const onError = (error: Error): void => {
      relay.onAbort(null);
      sock.off('connect', onConnect);
      sock.off('error', onError);
      sock.destroy();
      reject(error);
    };
    relay.onAbort(() => {
      sock.destroy();
      reject(new Error('aborted'));
    });
    sock.on('connect', onConnect);
    sock.on('error', onError);
  });
}

function ignoreError(): void {}

// Resolves once the server sent its first bytes (left in the socket for ssh2 to read), or says why not.
function awaitBanner(sock: Socket, relay: AbortRelay): Promise<'spoke' | 'closed' | 'aborted' | Error> {
  return new Promise((resolveBanner) => {
    const done = (result: 'spoke' | 'closed' | 'aborted' | Error): void => {
      relay.onAbort(null);
      sock.off('data', onData);
      sock.off('end', onEnd);
      sock.off('close', onEnd);
      sock.off('error', onError);
      resolveBanner(result);
    };
    const onData = (chunk: Buffer): void => {
      // Paused with the bytes put back: ssh2 attaches its reader and resumes the socket itself.
      sock.pause();
      sock.unshift(chunk);
      done('spoke');
    };
    const onEnd = (): void => done('closed');
    const onError = (error: Error): void => done(error);
    // on(), not once(): done() removes all four, and once() would wrap each in a bound function.
    sock.on('data', onData);
    sock.on('end', onEnd);
    sock.on('close', onEnd);
    sock.on('error', onError);
    relay.onAbort(() => done('aborted'));
  });
}

// Settles when ssh2 is ready to exec, or rejects with the error (or the close) that came first.
// The 'error' listener stays for the connection's life: ssh2 emits errors after 'ready' too (a
// reset, a missed keepalive), and an EventEmitter with no 'error' listener throws them. The 'end'
// and 'close' listeners go with detach(): the connection's user adds its own, and a close after
// 'ready' must not build an Error (stack trace included) for every host.
function awaitReady(client: ssh2.Client): { settled: Promise<void>; closed: () => boolean; detach: () => void } {
  let closed = false;
  let done = false;
  let rejectReady: (error: Error) => void = () => {};
  const onEnd = (): void => {
    closed = true;
  };
  const onClose = (): void => {
    closed = true;
    if (done) return;
    done = true;
    // A close before 'ready' with no error (the peer hung up): ETIMEDOUT, as node-ssh reported it, keeps it retryable in the handshake.
    rejectReady(Object.assign(new Error('No response from server'), { code: 'ETIMEDOUT' }));
  };
  const settled = new Promise<void>((resolveReady, reject) => {
    rejectReady = reject;
    client.once('ready', () => {
      if (done) return;
      done = true;
      resolveReady();
    });
  });
  // A rejection nobody awaits (connect() threw first) must not become an unhandled one.
  settled.catch(() => {});
  client.on('error', (error: Error) => {
    if (done) return;
    done = true;
    rejectReady(error);
  });
  client.on('end', onEnd);
  client.on('close', onClose);
  return {
    settled,
    closed: () => closed,
    detach: () => {
      client.off('end', onEnd);
      client.off('close', onClose);
    },
  };
}

function abortable<T>(promise: Promise<T>, relay: AbortRelay): Promise<T> {
  return new Promise((resolveValue, reject) => {
    relay.onAbort(() => reject(new Error('aborted')));
    promise.then(
      (value) => {
        relay.onAbort(null);
        resolveValue(value);
      },
      (error: unknown) => {
        relay.onAbort(null);
        reject(error);
      },
    );
  });
}

// One 'abort' listener per host run instead of one added and removed by each phase (EventTarget's
// bookkeeping is several microseconds a pair): a phase says what the deadline means for it, and
// the next phase replaces that.
class AbortRelay {
  private action: (() => void) | null = null;
  private readonly listener = (): void => this.action?.();

  constructor(private readonly signal: AbortSignal) {
    signal.addEventListener('abort', this.listener, { once: true });
  }

  /** What to do when the deadline passes (now, if it already has); null for nothing. */
  onAbort(action: (() => void) | null): void {
    this.action = action;
    if (action !== null && this.signal.aborted) action();
  }

  dispose(): void {
    this.action = null;
    this.signal.removeEventListener('abort', this.listener);
  }
}

function describeSocketError(error: unknown, port: number): string {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ECONNREFUSED':
      return `connection refused on port ${port} (no sshd listening?)`;
    case 'EHOSTUNREACH':
      return 'no route to host';
    case 'ENETUNREACH':
      return 'network unreachable';
    case 'ETIMEDOUT':
      return `TCP connect to port ${port} timed out`;
    case 'ECONNRESET':
      return 'connection reset';
    default:
      return (error as Error).message;
  }
}

// Only this file knows ssh2's error shapes; they become our statuses here.
function translateConnectError(error: unknown, phase: Phase): RunOutcome {
  const e = error as Error & { level?: string; code?: string };
  const message = e.message ?? String(error);
  if (e.level === 'client-authentication' || /authentication methods failed/i.test(message)) {
    return failure('auth_failed', 'auth', 'authentication failed (all offered methods were refused)', false, error);
  }
  if (e.level === 'client-timeout') return failure('timeout', phase, timeoutText(phase), false, error);
  if (e.code !== undefined && TRANSIENT.has(e.code)) {
    return failure('unreachable', phase, `${describeSocketError(error, 0)} during ${phase}`, phase === 'handshake', error);
  }
  if (/handshake failed|no matching/i.test(message)) {
    return failure('unreachable', 'handshake', `SSH handshake failed: ${message}`, false, error);
  }
  return failure('unreachable', phase, `SSH ${phase} failed: ${message}`, false, error);
}

function timeoutText(phase: Phase): string {
  switch (phase) {
    case 'handshake':
      return 'no SSH handshake before the deadline (port open but the server does not answer)';
    case 'auth':
      return 'authentication did not finish before the deadline';
    case 'exec':
      return 'the probe did not start producing output before the deadline';
    case 'read':
      return 'the probe did not finish before the deadline';
    default:
      return `no answer during ${phase} before the deadline`;
  }
}
