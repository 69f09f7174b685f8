// Warm SSH connections for `serve`: one kept connection per host between runs, one exec at a time
// per host, recycling after a maximum age, capped backoff after failures, and the counts the
// service reports. Knows nothing of how a connection is opened or a probe run: ssh.ts passes both in.
import type { Socket } from 'node:net';
import type ssh2 from 'ssh2';
import type { FailureStatus, Phase } from '../model.js';
import type { Log } from '../log.js';
import { failure, type RunOutcome } from './transport.js';

// How long connections live and how failures are spaced; from the settings (ssh.*).
export interface WarmSettings {
  /** ssh2 keepalive interval; a connection that misses keepaliveCountMax answers in a row is dropped. */
  readonly keepaliveMs: number;
  readonly keepaliveCountMax: number;
  /** A kept connection older than this is closed and reopened before its next run (never during one). */
  readonly maxAgeMs: number;
  /** Opening a channel on a kept connection must not take longer than this (and stays within the deadline). */
  readonly channelOpenTimeoutMs: number;
  /** After the n-th failure in a row, the host's next connect waits min(base x 2^(n-1), cap). */
  readonly backoffBaseMs: number;
  readonly backoffCapMs: number;
}

// Defaults of the warm settings; the settings file changes keepalive and max age.
export const DEFAULT_WARM_SETTINGS: WarmSettings = {
  keepaliveMs: 30_000,
  keepaliveCountMax: 3,
  maxAgeMs: 24 * 3600 * 1000,
  channelOpenTimeoutMs: 10_000,
  backoffBaseMs: 1000,
  backoffCapMs: 300_000,
};

// A connection that is ready to exec: authenticated, host key checked.
export interface OpenedConnection {
  readonly client: ssh2.Client;
  readonly sock: Socket;
}

// Counts for the service's cycle stats; connects and reconnects since the transport was built.
export interface ConnectionStats {
  /** Kept connections open now. */
  readonly open: number;
  /** Connections opened (handshake + auth), first ones included. */
  readonly connects: number;
  /** Connections opened for a host that had one before (after a drop, a failure or recycling). */
  readonly reconnects: number;
  /** Kept connections closed because they reached the maximum age. */
  readonly recycled: number;
  /** Kept connections that died on their own (server gone, keepalive missed, network). */
  readonly dropped: number;
  /** Hosts whose next connect waits for the end of a backoff. */
  readonly inBackoff: number;
}

interface Kept extends OpenedConnection {
  /** What the connection was opened for (address, port, user, auth): a changed row reconnects. */
  readonly identity: string;
  readonly openedAtMs: number;
  closedByUs: boolean;
}

interface HostEntry {
  /** Resolves when the last queued run of this host is done: runs chain on it (one exec at a time). */
  tail: Promise<void>;
  conn: Kept | null;
  everConnected: boolean;
  failuresInRow: number;
  nextTryAtMs: number;
  lastFailure: { status: FailureStatus; phase: Phase; error: string; atMs: number } | null;
  forgotten: boolean;
}

// A run in backoff waits for its end if it is this close; further away, the host gets a row saying so.
const BACKOFF_WAIT_LIMIT_MS = 2000;

// Keeps one connection per host between runs; every run of a host goes through run() in turn.
export class ConnectionPool {
  private readonly hosts = new Map<string, HostEntry>();
  private connects = 0;
  private reconnects = 0;
  private recycled = 0;
  private dropped = 0;

  constructor(
    readonly settings: WarmSettings,
    readonly log: Log,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Runs `exec` on the host's kept connection, opening one with `open` first if there is none (or
   * it is too old, or the row changed). Waits for the host's previous run; the deadline bounds the wait.
   * `exec` learns whether the connection is fresh (a failure before a channel opened on a reused one may be retried).
   */
  async run(
    hostName: string,
    identity: string,
    signal: AbortSignal,
    open: () => Promise<OpenedConnection | RunOutcome>,
    exec: (connection: OpenedConnection, reused: boolean) => Promise<RunOutcome>,
  ): Promise<RunOutcome> {
    let entry = this.hosts.get(hostName);
    if (entry === undefined) {
      entry = { tail: Promise.resolve(), conn: null, everConnected: false, failuresInRow: 0, nextTryAtMs: 0, lastFailure: null, forgotten: false };
      this.hosts.set(hostName, entry);
    }
    const previous = entry.tail;
    let release!: () => void;
    const mine = new Promise<void>((resolveMine) => {
      release = resolveMine;
    });
    entry.tail = previous.then(() => mine);
    if ((await untilAborted(previous, signal)) === 'aborted') {
      release();
      return failure('timeout', 'exec', "the host's previous probe was still running at the deadline (one probe at a time per host)");
    }
    try {
      return await this.runHeld(entry, identity, signal, open, exec);
    } finally {
      release();
    }
  }

  private async runHeld(
    entry: HostEntry,
    identity: string,
    signal: AbortSignal,
    open: () => Promise<OpenedConnection | RunOutcome>,
    exec: (connection: OpenedConnection, reused: boolean) => Promise<RunOutcome>,
  ): Promise<RunOutcome> {
    entry.forgotten = false;
    const kept = entry.conn;
    if (kept !== null) {
      if (kept.identity !== identity) this.closeKept(entry, 'the inventory row changed');
      else if (this.now() - kept.openedAtMs >= this.settings.maxAgeMs) {
        this.recycled += 1;
        this.closeKept(entry, 'maximum age reached');
      }
    }

    let reused = entry.conn !== null;
    if (entry.conn === null) {
      const waitMs = entry.nextTryAtMs - this.now();
      if (waitMs > 0) {
        const last = entry.lastFailure;
        if (waitMs > BACKOFF_WAIT_LIMIT_MS || last === null || (await sleepUnlessAborted(waitMs, signal)) === 'aborted') {
          return this.backoffRow(entry);
        }
      }
      const opened = await open();
      if ('ok' in opened) {
        this.noteFailure(entry, opened);
        return opened;
      }
      this.connects += 1;
      if (entry.everConnected) this.reconnects += 1;
      entry.everConnected = true;
      this.keep(entry, opened, identity);
      reused = false;
    }

    const connection = entry.conn as Kept;
    const outcome = await exec(connection, reused);
    if (outcome.ok) {
      entry.failuresInRow = 0;
      entry.nextTryAtMs = 0;
      entry.lastFailure = null;
    } else {
      // A connection that timed out or broke mid-probe may be wedged: the next run starts afresh.
      if (entry.conn === connection) this.closeKept(entry, `probe failed: ${outcome.status}`);
      this.noteFailure(entry, outcome);
    }
    if (entry.forgotten) this.closeKept(entry, 'host removed');
    return outcome;
  }

  private keep(entry: HostEntry, opened: OpenedConnection, identity: string): void {
    const kept: Kept = { ...opened, identity, openedAtMs: this.now(), closedByUs: false };
    entry.conn = kept;
    // A connection that dies between runs leaves the pool at once, so the next run reconnects
    // instead of failing once on a dead connection.
    const gone = (): void => {
      if (entry.conn !== kept) return;
      entry.conn = null;
      if (!kept.closedByUs) {
        this.dropped += 1;
        this.log.debug('kept SSH connection closed by the peer or the network');
      }
    };
    kept.client.on('close', gone);
    kept.client.on('end', gone);
    // ssh2 reports a missed keepalive or a reset as an error, then closes.
    kept.client.on('error', () => {});
  }

  private closeKept(entry: HostEntry, reason: string): void {
    const kept = entry.conn;
    if (kept === null) return;
    entry.conn = null;
    kept.closedByUs = true;
    this.log.debug('closing kept SSH connection', { reason });
    kept.client.end();
    kept.sock.destroy();
  }

  private noteFailure(entry: HostEntry, outcome: RunOutcome): void {
    if (outcome.ok) return;
    entry.failuresInRow += 1;
    const delayMs = Math.min(this.settings.backoffBaseMs * 2 ** (entry.failuresInRow - 1), this.settings.backoffCapMs);
    const atMs = this.now();
    entry.nextTryAtMs = atMs + delayMs;
    entry.lastFailure = { status: outcome.status, phase: outcome.phase, error: outcome.error, atMs };
  }

  // The row of a host whose next connect is not due yet: its last failure's status (a changed host
  // key stays host_key_mismatch), saying when that was and when the next try is.
  private backoffRow(entry: HostEntry): RunOutcome {
    const last = entry.lastFailure;
    const at = utc(last?.atMs ?? this.now());
    const next = utc(entry.nextTryAtMs);
    const why = last === null ? '' : `: ${last.error}`;
    return failure(last?.status ?? 'unreachable', last?.phase ?? 'connect', `reconnect after failure at ${at}, next try at ${next}${why}`);
  }

  /** Closes the host's connection and forgets its state (a host removed from the inventory); waits for a running probe. */
  async forget(hostName: string): Promise<void> {
    const entry = this.hosts.get(hostName);
    if (entry === undefined) return;
    entry.forgotten = true;
    const tail = entry.tail;
    await tail;
    // A run queued after ours brought the host back; its own end closes it if it is forgotten again.
    if (entry.tail !== tail || !entry.forgotten) return;
    this.closeKept(entry, 'host removed');
    this.hosts.delete(hostName);
  }

  /** Forgets every host not named (the inventory after a reload). */
  async retain(hostNames: Iterable<string>): Promise<void> {
    const keep = new Set(hostNames);
    await Promise.all([...this.hosts.keys()].filter((name) => !keep.has(name)).map((name) => this.forget(name)));
  }

  /** Counts for the cycle stats. */
  stats(): ConnectionStats {
    let open = 0;
    let inBackoff = 0;
    const now = this.now();
    for (const entry of this.hosts.values()) {
      if (entry.conn !== null) open += 1;
      else if (entry.nextTryAtMs > now) inBackoff += 1;
    }
    return { open, connects: this.connects, reconnects: this.reconnects, recycled: this.recycled, dropped: this.dropped, inBackoff };
  }

  /** Closes every kept connection now (shutdown); a probe still running fails with its connection. */
  close(): void {
    for (const entry of this.hosts.values()) this.closeKept(entry, 'transport closed');
    this.hosts.clear();
  }
}

function utc(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

function untilAborted(promise: Promise<void>, signal: AbortSignal): Promise<void | 'aborted'> {
  if (signal.aborted) return Promise.resolve('aborted');
  return new Promise((resolveWait) => {
    const onAbort = (): void => resolveWait('aborted');
    signal.addEventListener('abort', onAbort, { once: true });
    void promise.then(() => {
      signal.removeEventListener('abort', onAbort);
      resolveWait();
    });
  });
}

function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void | 'aborted'> {
  if (signal.aborted) return Promise.resolve('aborted');
  return new Promise((resolveSleep) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolveSleep('aborted');
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolveSleep();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
