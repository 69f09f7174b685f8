// Starts real OpenSSH sshd processes on loopback addresses for tests and benchmarks.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, closeSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SSHD = '/usr/sbin/sshd';
/** The unprivileged account the tests log in as (created on demand; tests run as root). */
export const TEST_USER = 'fpoll';

/** Whether a test needing `tool` must fail (CI) or may skip (a developer's machine). */
export function missingTool(path: string, debianPackages = 'openssh-server busybox'): string | null {
  if (existsSync(path)) return null;
  const message = `${path} is not installed (apt-get install ${debianPackages})`;
  if (process.env.CI === 'true') throw new Error(`CI requires ${message}`);
  return message;
}

/** Creates the login account used by the tests, with a usable (non-'!') password field. */
export function ensureTestUser(): void {
  try {
    execFileSync('id', [TEST_USER], { stdio: 'ignore' });
  } catch {
    execFileSync('useradd', ['-m', '-s', '/bin/sh', TEST_USER], { stdio: 'ignore' });
  }
  // With UsePAM no, sshd refuses an account whose password field is '!' as locked.
  execFileSync('usermod', ['-p', '*', TEST_USER], { stdio: 'ignore' });
}

export interface SshdKeys {
  readonly dir: string;
  readonly hostKeyPath: string;
  readonly hostPublicKey: string;
  readonly clientKeyPath: string;
  readonly clientPublicKey: string;
}

/** Generates a host key and a client key pair in a fresh temp dir. */
export function makeKeys(prefix = 'fleetpoll-sshd-'): SshdKeys {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  // sshd reads authorized_keys as the logged-in (unprivileged) user.
  chmodSync(dir, 0o755);
  const hostKeyPath = join(dir, 'host_ed25519');
  const clientKeyPath = join(dir, 'client_ed25519');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKeyPath]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', clientKeyPath]);
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(`${clientKeyPath}.pub`), { mode: 0o644 });
  return {
    dir,
    hostKeyPath,
    hostPublicKey: readFileSync(`${hostKeyPath}.pub`, 'utf8').trim(),
    clientKeyPath,
    clientPublicKey: readFileSync(`${clientKeyPath}.pub`, 'utf8').trim(),
  };
}

export interface Sshd {
  readonly addresses: readonly string[];
  readonly port: number;
  readonly keys: SshdKeys;
  readonly logPath: string;
  readonly pid: number;
  /** known_hosts lines for every address this sshd serves. */
  knownHostsLines(): string[];
  /** Log lines mentioning a connection from any client to `address` (for counting attempts). */
  log(): string;
  stop(): Promise<void>;
}

export interface SshdOptions {
  readonly addresses: readonly string[];
  readonly port: number;
  readonly keys: SshdKeys;
  /** Appended to sshd_config, e.g. `Match LocalAddress ...` blocks. */
  readonly extraConfig?: string;
  /** sshd -r: serve each connection from a plain fork, without re-executing sshd (less CPU per connection). */
  readonly noReexec?: boolean;
}

/** Starts one sshd (at most 16 addresses) and waits until every address accepts TCP. */
export async function startSshd(options: SshdOptions): Promise<Sshd> {
  if (options.addresses.length > 16) throw new Error('one sshd binds at most 16 addresses');
  mkdirSync('/run/sshd', { recursive: true });
  const { keys, port } = options;
  const tag = `${options.addresses[0]}-${port}`;
  const configPath = join(keys.dir, `sshd-${tag}.conf`);
  const logPath = join(keys.dir, `sshd-${tag}.log`);
  const config = [
    ...options.addresses.map((a) => `ListenAddress ${a}:${port}`),
    `HostKey ${keys.hostKeyPath}`,
    `PidFile none`,
    `AuthorizedKeysFile ${join(keys.dir, 'authorized_keys')}`,
    'StrictModes no',
    'UsePAM no',
    'PermitRootLogin yes',
    'PasswordAuthentication yes',
    'KbdInteractiveAuthentication no',
    'UseDNS no',
    'LogLevel VERBOSE',
    // Many handshakes at once from one poller: the default 10:30:100 would drop some.
    'MaxStartups 2000',
    'MaxSessions 100',
    'X11Forwarding no',
    'PrintMotd no',
    options.extraConfig ?? '',
  ].join('\n');
  writeFileSync(configPath, `${config}\n`);
  const logFd = openSync(logPath, 'a');
  const child: ChildProcess = spawn(SSHD, ['-D', '-e', ...(options.noReexec === true ? ['-r'] : []), '-f', configPath], { stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  const pid = child.pid;
  if (pid === undefined) throw new Error('sshd did not start');
  let exited = false;
  child.on('exit', () => {
    exited = true;
  });

  const deadline = Date.now() + 10_000;
  for (const address of options.addresses) {
    for (;;) {
      if (exited) throw new Error(`sshd exited at start; log:\n${readFileSync(logPath, 'utf8')}`);
      if (await canConnect(address, port)) break;
      if (Date.now() > deadline) {
        process.kill(pid, 'SIGKILL');
        throw new Error(`sshd did not listen on ${address}:${port}; log:\n${readFileSync(logPath, 'utf8')}`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  const hostKeyFields = keys.hostPublicKey.split(/\s+/);
  return {
    addresses: options.addresses,
    port,
    keys,
    logPath,
    pid,
    knownHostsLines: () => options.addresses.map((a) => `[${a}]:${port} ${hostKeyFields[0]} ${hostKeyFields[1]}`),
    log: () => readFileSync(logPath, 'utf8'),
    stop: () =>
      new Promise<void>((resolveStop) => {
        if (exited) {
          resolveStop();
          return;
        }
        child.once('exit', () => resolveStop());
        process.kill(pid, 'SIGTERM');
        setTimeout(() => {
          if (!exited) process.kill(pid, 'SIGKILL');
        }, 3000).unref();
      }),
  };
}

/** Starts as many sshd processes as needed (16 addresses each) for `addresses`. */
export async function startSshdFleet(addresses: readonly string[], port: number, keys: SshdKeys, extraConfig?: string, noReexec = false): Promise<Sshd[]> {
  const started: Sshd[] = [];
  try {
    for (let i = 0; i < addresses.length; i += 16) {
      started.push(await startSshd({ addresses: addresses.slice(i, i + 16), port, keys, extraConfig, noReexec }));
    }
  } catch (error) {
    await Promise.all(started.map((s) => s.stop()));
    throw error;
  }
  return started;
}

/** `count` distinct loopback addresses in 127.<a>.<b>.x, avoiding 127.0.0.1. */
export function loopbackAddresses(count: number, second = 77, third = 0): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const n = third * 250 + i;
    out.push(`127.${second}.${Math.floor(n / 250)}.${(n % 250) + 1}`);
  }
  return out;
}

/** A TCP port that was free a moment ago on all loopback addresses (best effort). */
export function pickPort(seed: number): number {
  return 20000 + ((process.pid * 7 + seed * 131) % 30000);
}

/** Removes a temp dir made by makeKeys. */
export function removeKeys(keys: SshdKeys): void {
  rmSync(keys.dir, { recursive: true, force: true });
}

/** Whether something accepts a TCP connection on host:port right now (a server started by a test is listening). */
export function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolveConnect) => {
    const sock = connect({ host, port });
    sock.once('connect', () => {
      sock.destroy();
      resolveConnect(true);
    });
    sock.once('error', () => resolveConnect(false));
  });
}
