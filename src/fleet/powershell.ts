// WinRM transport: PowerShell remoting (Invoke-Command) from one long-lived PowerShell process
// per transport, driven with node-powershell; each host is one background job in that process.
// `poll` closes the transport after its cycle; `serve` keeps it, so the process stays warm across
// cycles (only close() ends it; one that died is replaced on the next run).
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import nodePowerShell from 'node-powershell';
import type { FailureStatus, Host, Phase } from '../model.js';
import type { Log } from '../log.js';
import { formatBytes } from './output.js';
import { failure, type RunOptions, type RunOutcome, type Transport } from './transport.js';

const { PowerShell } = nodePowerShell;
type Shell = InstanceType<typeof PowerShell>;

// How the broker reaches hosts. 'ssh' is PowerShell remoting over SSH (Invoke-Command
// -HostName): the same remoting layer as WinRM, which is how the tests drive the real
// thing on Linux, where no WinRM endpoint exists.
export type RemotingMode = { kind: 'wsman' } | { kind: 'ssh'; knownHostsPath: string; keyPath: string };

// Settings of the WinRM transport, from config (and from tests).
export interface PowerShellOptions {
  /** The poller's PowerShell: `powershell` (Windows PowerShell 5.1), `pwsh` or a path. */
  readonly executable: string;
  /** Environment of the PowerShell process; password-env variables are read from it there. */
  readonly env: NodeJS.ProcessEnv;
  readonly log: Log;
  readonly remoting?: RemotingMode;
  /** A broker command not answered within this is a stuck PowerShell: killed and replaced. */
  readonly stuckAfterMs?: number;
  /** Allowance for starting PowerShell and loading the broker (slow on a cold machine). */
  readonly startTimeoutMs?: number;
  /** The per-host deadline (poll.timeoutSeconds), also given to WinRM's own timeouts. */
  readonly timeoutMs?: number;
}

// What the broker reports about a host whose job failed, as PowerShell saw it.
export interface RemotingFailure {
  readonly exceptionType: string;
  /** PSRemotingTransportException.ErrorCode (a Win32 or WS-Management code), or ''. */
  readonly errorCode: string;
  readonly errorId: string;
  readonly message: string;
}

type Classified = { status: FailureStatus; phase: Phase; error: string; retryable: boolean };

// WS-Management and Win32 codes of PSRemotingTransportException, named as in PowerShell's
// WSManNativeApi.cs. Codes do not depend on the poller's language; the messages below do.
const AUTH_CODES = new Set([
  5, // ERROR_WSMAN_ACCESS_DENIED
  1311, // ERROR_WSMAN_AUTHENTICATION_FAILED (no logon servers)
  1326, // ERROR_WSMAN_LOGON_FAILURE
  -2144108274, // ERROR_WSMAN_INVALID_AUTHENTICATION
  -2144108318, // ERROR_WSMAN_CLIENT_KERBEROS_DISABLED
  -2144108276, // ERROR_WSMAN_WORKGROUP_NO_KERBEROS
  -2144108315, // ERROR_WSMAN_EXPLICIT_CREDENTIALS_REQUIRED
  -2146893053, // ERROR_WSMAN_TARGET_UNKNOWN (Kerberos cannot find the host's SPN)
]);
const TRUST_CODES = new Set([
  -2144108316, // ERROR_WSMAN_SERVER_NOTTRUSTED (not in TrustedHosts, no HTTPS)
  -2144108101, // ERROR_WSMAN_CANNOTUSE_IP
]);
const DNS_CODES = new Set([-2144108103]); // ERROR_WSMAN_COMPUTER_NOTFOUND
const TIMEOUT_CODES = new Set([-2144108250]); // ERROR_WSMAN_SENDDATA_CANNOT_COMPLETE
const CONNECT_CODES = new Set([
  53, // network path not found
  1722, // RPC server unavailable
  -2144108526, // ERROR_WSMAN_SENDDATA_CANNOT_CONNECT
  -2144108269, // ERROR_WSMAN_URL_NOTAVAILABLE
  -2144108270, // ERROR_WSMAN_HTTP_SERVICE_UNAVAILABLE
]);
const TRUSTED_HOSTS_HINT =
  'add the host to TrustedHosts on the poller or use winrm_ssl=yes (WinRM allows NTLM to a host it cannot authenticate only then)';

/** Maps a PowerShell remoting failure to a status; the one place that knows WinRM's errors. */
export function classifyRemotingFailure(f: RemotingFailure): Classified {
  const code = /^-?\d+$/.test(f.errorCode) ? Number(f.errorCode) : NaN;
  // "Connecting to remote server X failed with the following error message : " adds nothing to a row.
  const text = clip(f.message.replace(/^.*?failed with the following error message ?: ?/i, '').replace(/ For more information, see the about_Remote_Troubleshooting Help topic\.?/i, '').trim());
  const m = f.message;
  const transport = /PSRemotingTransportException|PSRemotingDataStructureException/.test(f.exceptionType) || code !== 0 && !Number.isNaN(code);
  if (!transport && /RemoteException|RuntimeException|ParseException|ErrorRecord/.test(f.exceptionType)) {
    return { status: 'probe_error', phase: 'exec', error: `the probe failed on the host: ${text}`, retryable: false };
  }
  if (/no supported WSMan client library/i.test(m)) {
    return {
      status: 'unreachable',
      phase: 'connect',
      error: "this poller's PowerShell has no WinRM client: poll Windows hosts from a Windows poller, or use transport=ssh",
      retryable: false,
    };
  }
  if (TRUST_CODES.has(code) || /TrustedHosts/i.test(m)) {
    return { status: 'auth_failed', phase: 'auth', error: `${text.slice(0, 120)}... (${TRUSTED_HOSTS_HINT})`, retryable: false };
  }
  if (code === 12175 || /certificate|\bSSL\b|\bCA\b.*not trusted/i.test(m)) {
    return { status: 'host_key_mismatch', phase: 'handshake', error: `the host's HTTPS certificate was refused: ${text}`, retryable: false };
  }
  if (AUTH_CODES.has(code) || /access is denied|logon failure|user name or password|authentication (failed|error)|logon session does not exist|Permission denied \(/i.test(m)) {
    return { status: 'auth_failed', phase: 'auth', error: text, retryable: false };
  }
  if (DNS_CODES.has(code) || /cannot be resolved|could not resolve hostname|name or service not known|no such host is known/i.test(m)) {
    return { status: 'unreachable', phase: 'dns', error: text, retryable: false };
  }
  if (TIMEOUT_CODES.has(code) || /within the time specified|timed out|OperationTimeout/i.test(m)) {
    return { status: 'timeout', phase: 'connect', error: text, retryable: false };
  }
  if (/total data received from the remote client exceeded/i.test(m)) {
    return { status: 'probe_error', phase: 'read', error: text, retryable: false };
  }
  if (CONNECT_CODES.has(code) || /refused|cannot connect to the destination|verify that the specified computer name is valid|network path was not found|no route to host/i.test(m)) {
    return { status: 'unreachable', phase: 'connect', error: text, retryable: true };
  }
  if (/SSH transport process has abruptly terminated/i.test(m)) {
    // Remoting over SSH keeps the ssh client's own reason to itself.
    return { status: 'unreachable', phase: 'connect', error: 'the SSH client ended before the remoting session opened (connection, login or host key refused)', retryable: false };
  }
  return { status: 'unreachable', phase: 'connect', error: text, retryable: false };
}

function clip(text: string): string {
  return text.length > 300 ? `${text.slice(0, 297)}...` : text;
}

// One finished host, as the broker reported it.
type BrokerResult =
  | { kind: 'ok'; text: string }
  | { kind: 'overflow' }
  | { kind: 'failed'; failure: RemotingFailure }
  | { kind: 'start-error'; failure: RemotingFailure }
  | { kind: 'dead'; reason: string; started: boolean };

// Thrown inside the broker wrapper only; run() turns it into a failure value.
class BrokerDead extends Error {}

let brokerText: string | null = null;
function brokerScript(): string {
  brokerText ??= readFileSync(new URL('./powershell-broker.ps1', import.meta.url), 'utf8');
  return brokerText;
}

// Text is handed to PowerShell only as base64, which cannot end a quoted string.
function b64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

// The long-lived PowerShell process and the commands of the broker loaded into it.
class Broker {
  private readonly shell: Shell;
  private readonly child: ChildProcess;
  private deadReason: string | null = null;
  private loaded = false;
  private readonly pending = new Map<string, (result: BrokerResult) => void>();
  private pumping = false;
  private probe: string | null = null;
  private maxChars = 4 * 1024 * 1024;
  readonly ready: Promise<void>;

  constructor(
    private readonly options: PowerShellOptions,
    private readonly onDeath: (broker: Broker) => void,
  ) {
    this.shell = new PowerShell({
      executable: options.executable,
      executableOptions: { '-NoProfile': true, '-NonInteractive': true },
      spawnOptions: { env: options.env },
      throwOnInvocationError: false,
    });
    // node-powershell keeps these private; only this adapter reaches into them. Without the
    // handlers, a PowerShell that dies between commands would be an unhandled rejection.
    const internals = this.shell as unknown as { process: ChildProcess; exitPromise: Promise<void> };
    this.child = internals.process;
    internals.exitPromise.catch(() => {});
    for (const stream of [this.shell.streams.stdin, this.shell.streams.stdout, this.shell.streams.stderr]) stream.on('error', () => {});
    this.child.on('exit', (code, signal) => this.die(`PowerShell exited (${signal ?? `code ${code}`})`));
    this.child.on('error', (error) => this.die(`cannot start PowerShell "${options.executable}": ${error.message}`));
    // The ssh client of remoting over SSH and PowerShell itself write diagnostics here.
    this.shell.streams.stderr.on('data', (chunk: Buffer | string) => {
      // node-powershell frames every command with 16-character markers on both streams.
      const text = chunk
        .toString()
        .split(/\r?\n/)
        .filter((line) => line.trim() !== '' && !/^[0-9A-Za-z]{16}$/.test(line.trim()))
        .join(' ');
      if (text !== '') options.log.warn('PowerShell wrote to stderr', { text: text.slice(0, 500) });
    });
    this.ready = this.load();
    // Every run() awaits `ready` and sees a failure there; this only keeps it from being "unhandled".
    this.ready.catch(() => {});
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return this.deadReason === null;
  }

  private async load(): Promise<void> {
    const hello = await this.invoke(
      `. ([scriptblock]::Create([System.Text.Encoding]::UTF8.GetString([System.Convert]::FromBase64String('${b64(brokerScript())}'))))`,
      this.options.startTimeoutMs ?? 60_000,
    );
    if (!hello.includes('fleetpoll-broker 1')) {
      this.kill(`PowerShell "${this.options.executable}" did not load the broker: ${JSON.stringify(hello.slice(0, 200))}`);
      throw new BrokerDead(this.deadReason ?? 'broker not loaded');
    }
    this.loaded = true;
    this.options.log.debug('PowerShell broker ready', { pid: this.pid, version: hello.trim() });
  }

  /** Runs one broker command; a command that hangs means PowerShell is stuck: kill it. */
  private async invoke(command: string, limitMs = this.options.stuckAfterMs ?? 20_000): Promise<string> {
    if (this.deadReason !== null) throw new BrokerDead(this.deadReason);
    let timer: NodeJS.Timeout | undefined;
    const watchdog = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.kill(`the local PowerShell process did not answer within ${Math.round(limitMs / 1000)} s and was replaced`);
        reject(new BrokerDead(this.deadReason ?? 'stuck'));
      }, limitMs);
    });
    try {
      const result = await Promise.race([this.shell.invoke(command), watchdog]);
      if (this.deadReason !== null) throw new BrokerDead(this.deadReason);
      // stderr (e.g. an ssh client's message) does not make a broker command fail: stdout is the answer.
      return (result.stdout ?? Buffer.alloc(0)).toString('utf8');
    } catch (error) {
      if (error instanceof BrokerDead) throw error;
      this.kill(`PowerShell failed: ${(error as Error).message}`);
      throw new BrokerDead(this.deadReason ?? 'failed');
    } finally {
      clearTimeout(timer);
    }
  }

  /** Starts a host's job and resolves when it finished (or the broker died). */
  async run(id: string, spec: string, probe: string, maxOutputBytes: number): Promise<BrokerResult> {
    try {
      await this.ready;
      if (this.probe !== probe) {
        await this.invoke(`Set-FpProbe '${b64(probe)}'`);
        this.probe = probe;
      }
      this.maxChars = maxOutputBytes;
      const done = new Promise<BrokerResult>((resolve) => this.pending.set(id, resolve));
      const answer = (await this.invoke(`Start-FpHost '${id}' '${b64(spec)}'`)).trim();
      if (answer.startsWith('error ')) {
        this.pending.delete(id);
        return { kind: 'start-error', failure: parseFailure(answer.slice(6)) };
      }
      void this.pump();
      return await done;
    } catch (error) {
      this.pending.delete(id);
      return { kind: 'dead', reason: error instanceof BrokerDead ? error.message : (error as Error).message, started: this.loaded };
    }
  }

  /** Abandons a host at its deadline; the broker stops its job without waiting for it. */
  stop(id: string): void {
    if (!this.pending.delete(id) || this.deadReason !== null) return;
    this.invoke(`Stop-FpHost '${id}'`).catch(() => {});
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.pending.size > 0 && this.deadReason === null) {
        const answer = await this.invoke(`Receive-FpDone 250 ${this.maxChars}`);
        for (const line of answer.split(/\r?\n/)) {
          const [id, kind, payload] = line.trim().split('\t');
          if (id === undefined || kind === undefined) continue;
          const resolve = this.pending.get(id);
          if (resolve === undefined) continue;
          this.pending.delete(id);
          resolve(parseResult(kind, payload ?? ''));
        }
      }
    } catch {
      // The broker died; die() has answered every pending host.
    } finally {
      this.pumping = false;
    }
  }

  kill(reason: string): void {
    if (this.deadReason !== null) return;
    this.die(reason);
    this.shell.dispose('SIGKILL').catch(() => {});
  }

  private die(reason: string): void {
    if (this.deadReason !== null) return;
    this.deadReason = reason;
    this.options.log.warn('PowerShell broker stopped', { reason, pid: this.pid });
    for (const resolve of this.pending.values()) resolve({ kind: 'dead', reason, started: this.loaded });
    this.pending.clear();
    this.onDeath(this);
  }

  async close(): Promise<void> {
    if (this.deadReason === null) {
      this.deadReason = 'closed';
      for (const resolve of this.pending.values()) resolve({ kind: 'dead', reason: 'closed', started: this.loaded });
      this.pending.clear();
      await this.shell.dispose('SIGKILL').catch(() => {});
    }
  }
}

function parseResult(kind: string, payload: string): BrokerResult {
  const text = Buffer.from(payload, 'base64').toString('utf8');
  if (kind === 'ok') return { kind: 'ok', text };
  if (kind === 'overflow') return { kind: 'overflow' };
  return { kind: 'failed', failure: parseFailure(payload) };
}

function parseFailure(payload: string): RemotingFailure {
  const [exceptionType = '', errorCode = '', errorId = '', message = ''] = Buffer.from(payload, 'base64').toString('utf8').split('\n');
  return { exceptionType, errorCode, errorId, message };
}

// Polls Windows hosts with Invoke-Command; a stuck host or a stuck PowerShell costs one row.
export class PowerShellTransport implements Transport {
  private broker: Broker | null = null;
  private nextId = 0;

  constructor(private readonly options: PowerShellOptions) {}

  /** Process id of the current PowerShell, if one runs (for logs and tests). */
  get processId(): number | undefined {
    return this.broker?.alive === true ? this.broker.pid : undefined;
  }

  async run(host: Host, run: RunOptions): Promise<RunOutcome> {
    const remoting = this.options.remoting ?? { kind: 'wsman' };
    if (host.auth.kind === 'password-env' && this.options.env[host.auth.envVar] === undefined) {
      return failure('auth_failed', 'auth', `environment variable ${host.auth.envVar} is not set`);
    }
    if (remoting.kind === 'wsman' && (host.auth.kind === 'agent' || host.auth.kind === 'key')) {
      return failure('auth_failed', 'auth', `auth ${host.auth.kind} is for SSH; WinRM takes password-env:<VAR> or the poller's own identity`);
    }
    if (run.signal.aborted) return failure('timeout', 'connect', 'deadline passed before connecting');

    this.broker ??= new Broker(this.options, (dead) => {
      if (this.broker === dead) this.broker = null;
    });
    const broker = this.broker;
    this.nextId += 1;
    const id = String(this.nextId);
    const result = await untilAborted(broker.run(id, this.spec(host, remoting), run.script, run.maxOutputBytes), run.signal);
    if (result === 'aborted') {
      broker.stop(id);
      return failure('timeout', 'exec', 'no answer before the deadline (PowerShell remoting reports no progress, so the phase is not known)');
    }
    switch (result.kind) {
      case 'ok':
        if (Buffer.byteLength(result.text) > run.maxOutputBytes) {
          return failure('probe_error', 'read', `output exceeded ${formatBytes(run.maxOutputBytes)}; stopped reading`);
        }
        return { ok: true, stdout: result.text, stderr: '', exitCode: null, truncated: false };
      case 'overflow':
        return failure('probe_error', 'read', `output exceeded ${formatBytes(run.maxOutputBytes)}; stopped reading`);
      case 'failed':
      case 'start-error': {
        const c = classifyRemotingFailure(result.failure);
        return failure(c.status, c.phase, c.error, c.retryable, result.failure);
      }
      case 'dead':
        // PowerShell could not be started at all: every WinRM host gets the same row, no retry.
        if (!result.started) return failure('unreachable', 'connect', `${result.reason} (setting winrm.powershell)`);
        // It died or hung while polling: the poller's trouble, not the host's; one more try on a fresh one.
        return failure('timeout', 'exec', result.reason, true);
    }
  }

  // Inventory fields travel as key=value data; the broker never parses them as PowerShell.
  private spec(host: Host, remoting: RemotingMode): string {
    const fields: Record<string, string> = {
      mode: remoting.kind,
      address: host.address,
      port: String(host.port),
      user: host.user,
      // WinRM's own timeouts, so an abandoned connection does not outlive the poll by long.
      timeoutMs: String(this.options.timeoutMs ?? 30_000),
      ssl: host.winrm?.useSsl === true ? 'yes' : 'no',
      authentication: host.winrm?.authentication ?? 'default',
      passwordEnv: host.auth.kind === 'password-env' ? host.auth.envVar : '',
      keyFile: remoting.kind === 'ssh' ? remoting.keyPath : '',
      knownHosts: remoting.kind === 'ssh' ? remoting.knownHostsPath : '',
    };
    return Object.entries(fields)
      .map(([key, value]) => `${key}=${value.replace(/[\r\n]/g, '')}`)
      .join('\n');
  }

  async close(): Promise<void> {
    const broker = this.broker;
    this.broker = null;
    await broker?.close();
  }
}

function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | 'aborted'> {
  if (signal.aborted) return Promise.resolve('aborted');
  return new Promise((resolve) => {
    const onAbort = (): void => resolve('aborted');
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then((value) => {
      signal.removeEventListener('abort', onAbort);
      resolve(value);
    });
  });
}
