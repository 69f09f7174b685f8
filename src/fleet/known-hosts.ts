// The known_hosts store for the SSH transport: loads the user and system files once, applies the
// checking mode to each presented key, and in accept-new mode appends new hosts through one queue.
// The file format and matching live in known-hosts-format.ts, the lookup index in known-hosts-index.ts.
//
// Rule for a host known only under other key types (verdict 'new-type'): it is refused
// in 'strict' AND in 'accept-new'. OpenSSH's accept-new would add the new type, but a
// man in the middle who cannot forge the known key can always offer a different type,
// so trusting it on first sight would defeat pinning. The transport avoids the case for
// honest servers by putting the known types first (preferHostKeyAlgorithms); a server
// that really dropped its old key type needs its line updated by hand (ssh-keygen -R).
import { mkdir, open, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  fingerprint,
  formatKnownHostsLine,
  judgeHostKey,
  lookupName,
  parseKnownHosts,
  plainTypes,
  type HostKeyVerdict,
  type KnownHostEntry,
} from './known-hosts-format.js';
import { KnownHostsIndex } from './known-hosts-index.js';

// The transport reorders its host key algorithms with this; kept importable from the store it feeds.
export { preferHostKeyAlgorithms } from './known-hosts-format.js';

// How unknown and changed host keys are treated (the settings' ssh.hostKeyChecking).
export const HOST_KEY_MODES = ['strict', 'accept-new', 'off'] as const;
export type HostKeyMode = (typeof HOST_KEY_MODES)[number];

// What KnownHosts.verify makes of a key: accept it (and why) or refuse it with a message.
// (The transport's own accept/refuse answer is HostKeyDecision in ssh.ts.)
export type KnownHostsDecision =
  /** A key known_hosts lists: no fingerprint, which nothing logs and which would cost a SHA-256 per host. */
  | { decision: 'accept'; how: 'known' }
  | { decision: 'accept'; how: 'recorded' | 'unchecked'; fingerprint: string }
  /** accept-new took the key but could not save it; it is trusted for this process only. */
  | { decision: 'accept'; how: 'unsaved'; fingerprint: string; error: string }
  | {
      decision: 'refuse';
      reason: 'mismatch' | 'revoked' | 'unknown' | 'new-type' | 'invalid-key';
      fingerprint: string;
      message: string;
    };

// Where OpenSSH keeps the per-user and the system-wide files.
export const DEFAULT_USER_KNOWN_HOSTS = join(homedir(), '.ssh', 'known_hosts');
export const DEFAULT_SYSTEM_KNOWN_HOSTS = '/etc/ssh/ssh_known_hosts';

// Settings for KnownHosts; `systemFile: null` skips the system file (tests, containers).
export interface KnownHostsOptions {
  readonly mode: HostKeyMode;
  readonly userFile?: string;
  readonly systemFile?: string | null;
}

async function readIfPresent(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    // A missing file, or a path through a missing directory, just means no keys yet.
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw new Error(`cannot read known_hosts file ${file}: ${(err as Error).message}`, { cause: err });
  }
}

function describe(e: KnownHostEntry): string {
  return `${e.keyType} key at ${e.file}:${e.line}`;
}

// The process-wide known_hosts view: load once, verify each host's key, and in accept-new
// mode append new hosts. One instance per process and file, since appends are serialised
// within the instance only.
export class KnownHosts {
  readonly mode: HostKeyMode;
  readonly userFile: string;
  readonly systemFile: string | null;
  private index = new KnownHostsIndex([]);
  private loaded = false;
  /** Lines in the user file, known after the first append (so later appends need not re-read it). */
  private userFileLines: number | null = null;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: KnownHostsOptions) {
    this.mode = options.mode;
    this.userFile = options.userFile ?? DEFAULT_USER_KNOWN_HOSTS;
    this.systemFile = options.systemFile === undefined ? DEFAULT_SYSTEM_KNOWN_HOSTS : options.systemFile;
  }

  /** Reads both files (a missing one is empty); returns bad lines and the number of hashed lines, throws if a file is unreadable. */
  async load(): Promise<{ errors: string[]; hashed: number }> {
    const errors: string[] = [];
    const entries: KnownHostEntry[] = [];
    if (this.mode !== 'off') {
      // User lines first: like OpenSSH, the user's own file is consulted before the system's.
      for (const file of [this.userFile, this.systemFile]) {
        if (file === null) continue;
        const text = await readIfPresent(file);
        if (text === null) continue;
        const parsed = parseKnownHosts(text, file);
        entries.push(...parsed.entries);
        errors.push(...parsed.errors);
      }
    }
    this.index = new KnownHostsIndex(entries);
    this.loaded = true;
    return { errors, hashed: this.index.unresolvedCount };
  }

  /**
   * Hashed host field -> lookup name pairs, as resolvedNames() gave a previous run, spare those lines the
   * HMAC scan. Each pair is verified, so a wrong or stale one only costs the scan. Returns how many verified.
   */
  useResolvedNames(names: ReadonlyMap<string, string>): number {
    this.assertLoaded();
    return this.index.seed(names);
  }

  /** Hashed host field -> lookup name, for every hashed line resolved so far (saved ones included). */
  resolvedNames(): ReadonlyMap<string, string> {
    return this.index.resolved;
  }

  /** Hashed lines this process resolved by scanning, i.e. that resolvedNames() has and the saved names lacked. */
  get newlyResolved(): number {
    return this.index.scannedResolutions;
  }

  /** The verdict for a key, without policy; throws RangeError on a malformed blob. */
  check(address: string, port: number, keyBlob: Buffer): HostKeyVerdict {
    this.assertLoaded();
    return judgeHostKey(this.index.named(address, port), keyBlob);
  }

  /** Key types already trusted for the host; feed to preferHostKeyAlgorithms. */
  knownKeyTypes(address: string, port: number): string[] {
    this.assertLoaded();
    return plainTypes(this.index.named(address, port));
  }

  /** Applies the mode to a presented key; never rejects once load() has resolved. */
  async verify(address: string, port: number, keyBlob: Buffer): Promise<KnownHostsDecision> {
    this.assertLoaded();
    if (this.mode === 'off') return { decision: 'accept', how: 'unchecked', fingerprint: fingerprint(keyBlob) };
    let verdict: HostKeyVerdict;
    try {
      verdict = this.check(address, port, keyBlob);
    } catch (err) {
      return this.refuse('invalid-key', fingerprint(keyBlob), `${lookupName(address, port)} presented a malformed host key: ${(err as Error).message}`);
    }
    if (verdict.verdict === 'match') return { decision: 'accept', how: 'known' };
    if (verdict.verdict === 'unknown' && this.mode === 'accept-new') {
      // Re-checked inside the queue: an earlier append for the same host may have landed.
      return this.serialise(() => this.recordIfStillUnknown(address, port, keyBlob));
    }
    return this.decide(verdict, address, port, fingerprint(keyBlob));
  }

  private decide(verdict: HostKeyVerdict, address: string, port: number, presented: string): KnownHostsDecision {
    const name = lookupName(address, port);
    switch (verdict.verdict) {
      case 'match':
        return { decision: 'accept', how: 'known' };
      case 'revoked':
        return this.refuse('revoked', presented, `host key ${presented} for ${name} is revoked in ${verdict.entry.file}:${verdict.entry.line}`);
      case 'mismatch':
        return this.refuse(
          'mismatch',
          presented,
          `host key for ${name} has changed: presented ${presented}, known ${verdict.expected.map(describe).join(', ')}`,
        );
      case 'new-type':
        return this.refuse(
          'new-type',
          presented,
          `${name} presented a key type not yet known for it (${presented}); known types: ${verdict.knownTypes.join(', ')}`,
        );
      case 'unknown':
        return this.refuse('unknown', presented, `no known_hosts entry for ${name} (presented ${presented}) and mode is strict`);
    }
  }

  private async recordIfStillUnknown(address: string, port: number, keyBlob: Buffer): Promise<KnownHostsDecision> {
    const presented = fingerprint(keyBlob);
    const verdict = this.check(address, port, keyBlob);
    if (verdict.verdict !== 'unknown') return this.decide(verdict, address, port, presented);
    let text: string;
    try {
      text = formatKnownHostsLine(address, port, keyBlob);
    } catch (err) {
      return { decision: 'accept', how: 'unsaved', fingerprint: presented, error: (err as Error).message };
    }
    let lineNumber = 0;
    let writeError: string | null = null;
    try {
      lineNumber = await this.append(text);
    } catch (err) {
      writeError = `cannot write ${this.userFile}: ${(err as Error).message}`;
    }
    // Trusted in memory even when the write failed, so the rest of this run is consistent.
    for (const entry of parseKnownHosts(text, this.userFile).entries) this.index.add({ ...entry, line: lineNumber });
    if (writeError !== null) return { decision: 'accept', how: 'unsaved', fingerprint: presented, error: writeError };
    return { decision: 'accept', how: 'recorded', fingerprint: presented };
  }

  /** Appends one line, creating the file (0600) and its directory (0700); returns its line number. */
  private async append(text: string): Promise<number> {
    await mkdir(dirname(this.userFile), { recursive: true, mode: 0o700 });
    const handle = await open(this.userFile, 'a+', 0o600);
    try {
      let prefix = '';
      if (this.userFileLines === null) {
        const existing = await handle.readFile('utf8');
        // A file edited by hand may lack its final newline; without one we would glue
        // our line onto the last entry and corrupt both.
        prefix = existing.length > 0 && !existing.endsWith('\n') ? '\n' : '';
        this.userFileLines = existing.split('\n').length - 1 + (prefix === '' ? 0 : 1);
      }
      await handle.appendFile(`${prefix}${text}\n`);
      await handle.sync();
      this.userFileLines += 1;
      return this.userFileLines;
    } finally {
      await handle.close();
    }
  }

  private serialise<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private refuse(
    reason: Extract<KnownHostsDecision, { decision: 'refuse' }>['reason'],
    presented: string,
    message: string,
  ): KnownHostsDecision {
    return { decision: 'refuse', reason, fingerprint: presented, message };
  }

  private assertLoaded(): void {
    if (!this.loaded) throw new Error('KnownHosts.load() must resolve before keys are checked');
  }
}
