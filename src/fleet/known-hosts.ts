// Host-key verification against OpenSSH known_hosts files, for the SSH transport.
//
// Matching follows sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT" and OpenSSH's hostfile.c:
// the lookup name is `address` on port 22 and `[address]:port` otherwise, and every
// pattern, hashed or not, is compared with that one name.
//
// Rule for a host known only under other key types (verdict 'new-type'): it is refused
// in 'strict' AND in 'accept-new'. OpenSSH's accept-new would add the new type, but a
// man in the middle who cannot forge the known key can always offer a different type,
// so trusting it on first sight would defeat pinning. The transport avoids the case for
// honest servers by putting the known types first (preferHostKeyAlgorithms); a server
// that really dropped its old key type needs its line updated by hand (ssh-keygen -R).
import { createHash, createHmac } from 'node:crypto';
import { mkdir, open, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

// How unknown and changed host keys are treated.
export type HostKeyMode = 'strict' | 'accept-new' | 'off';

// One usable line of a known_hosts file; `line` is 1-based, `keyType` is the blob's type.
export interface KnownHostEntry {
  readonly file: string;
  readonly line: number;
  readonly marker: 'revoked' | 'cert-authority' | null;
  /** The host field as written: a comma-separated pattern list or one `|1|salt|hash`. */
  readonly patterns: string;
  readonly keyType: string;
  readonly keyBlob: Buffer;
}

// What a known_hosts file says about a presented key, before any policy is applied.
export type HostKeyVerdict =
  | { verdict: 'match'; entry: KnownHostEntry }
  /** No entry names this host at all. */
  | { verdict: 'unknown' }
  /** The host is known, but only under other key types; see the rule at the top. */
  | { verdict: 'new-type'; knownTypes: string[] }
  /** The host is known with the same key type and other key data. */
  | { verdict: 'mismatch'; expected: KnownHostEntry[]; presentedFingerprint: string }
  | { verdict: 'revoked'; entry: KnownHostEntry };

// What the transport does with a key: accept it (and why) or refuse it with a message.
export type HostKeyDecision =
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

// ssh2 1.17's default serverHostKey list (Node >= 12 has ed25519), to reorder per host.
export const SSH2_DEFAULT_HOST_KEY_ALGORITHMS: readonly string[] = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

// Where OpenSSH keeps the per-user and the system-wide files.
export const DEFAULT_USER_KNOWN_HOSTS = join(homedir(), '.ssh', 'known_hosts');
export const DEFAULT_SYSTEM_KNOWN_HOSTS = '/etc/ssh/ssh_known_hosts';

// RSA keys are stored as ssh-rsa whatever signature algorithm was negotiated, and some
// tools write the signature name in the type field; both denote the same key.
const RSA_SIGNATURE_NAMES: ReadonlySet<string> = new Set(['ssh-rsa', 'rsa-sha2-256', 'rsa-sha2-512']);

function canonicalKeyType(type: string): string {
  return RSA_SIGNATURE_NAMES.has(type) ? 'ssh-rsa' : type;
}

// The key type embedded in a public key blob (its first SSH string), e.g. "ssh-ed25519".
export function keyTypeOf(keyBlob: Buffer): string {
  if (keyBlob.length < 4) throw new RangeError('key blob is too short');
  const length = keyBlob.readUInt32BE(0);
  if (length === 0 || length > 64 || 4 + length > keyBlob.length) {
    throw new RangeError('key blob does not start with a key type');
  }
  const type = keyBlob.toString('latin1', 4, 4 + length);
  if (!/^[\x21-\x7e]+$/.test(type)) throw new RangeError('key blob does not start with a key type');
  return type;
}

// The key's fingerprint as `ssh-keygen -l -E sha256` prints it: "SHA256:<base64, no padding>".
export function fingerprint(keyBlob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '');
}

// The name known_hosts stores a host under: plain on port 22, "[address]:port" otherwise.
export function lookupName(address: string, port: number): string {
  const host = address.toLowerCase();
  return port === 22 ? host : `[${host}]:${port}`;
}

// ssh2 serverHostKey algorithm names that produce a key of this blob type.
export function hostKeyAlgorithmsFor(keyType: string): string[] {
  // Stronger RSA signatures first, as OpenSSH orders them.
  if (keyType === 'ssh-rsa') return ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
  return [keyType];
}

// Reorders `available` so algorithms for already-known key types come first, as OpenSSH
// does, so an honest server is not caught presenting a type we have no line for.
export function preferHostKeyAlgorithms(
  knownTypes: readonly string[],
  available: readonly string[] = SSH2_DEFAULT_HOST_KEY_ALGORITHMS,
): string[] {
  const wanted = new Set(knownTypes.flatMap(hostKeyAlgorithmsFor));
  return [...available.filter((a) => wanted.has(a)), ...available.filter((a) => !wanted.has(a))];
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

// Buffer.from(..., 'base64') silently skips junk, so a corrupted line must be caught here.
function decodeBase64(text: string): Buffer | null {
  if (!BASE64.test(text) || text.length % 4 === 1) return null;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64').replace(/=+$/, '') === text.replace(/=+$/, '') ? bytes : null;
}

const SHA1_BYTES = 20;

function parseHashed(field: string): { salt: Buffer; hash: Buffer } | null {
  const parts = field.split('|');
  // "|1|salt|hash" splits into ['', '1', salt, hash].
  if (parts.length !== 4 || parts[0] !== '' || parts[1] !== '1') return null;
  const salt = decodeBase64(parts[2] ?? '');
  const hash = decodeBase64(parts[3] ?? '');
  if (salt === null || hash === null || salt.length !== SHA1_BYTES || hash.length !== SHA1_BYTES) return null;
  return { salt, hash };
}

// True when a hashed host field (`|1|salt|hash`, decoded) is the HMAC of this lookup name.
function hashedNameMatches(hashed: { readonly salt: Buffer; readonly hash: Buffer }, name: string): boolean {
  return createHmac('sha1', hashed.salt).update(name).digest().equals(hashed.hash);
}

// Parses known_hosts text; unusable lines are skipped and reported as "file:line: reason".
export function parseKnownHosts(text: string, file: string): { entries: KnownHostEntry[]; errors: string[] } {
  const entries: KnownHostEntry[] = [];
  const errors: string[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = i + 1;
    const content = (lines[i] ?? '').replace(/\r$/, '').trim();
    if (content === '' || content.startsWith('#')) continue;
    const fields = content.split(/[ \t]+/);
    let marker: KnownHostEntry['marker'] = null;
    const first = fields[0] ?? '';
    if (first.startsWith('@')) {
      if (first === '@revoked') marker = 'revoked';
      else if (first === '@cert-authority') marker = 'cert-authority';
      else {
        errors.push(`${file}:${line}: unknown marker ${JSON.stringify(first)}`);
        continue;
      }
      fields.shift();
    }
    const [patterns, lineType, keyText] = fields;
    if (patterns === undefined || lineType === undefined || keyText === undefined) {
      errors.push(`${file}:${line}: expected "hosts keytype key"`);
      continue;
    }
    if (/^\d+$/.test(lineType)) {
      errors.push(`${file}:${line}: SSH-1 RSA keys are not supported`);
      continue;
    }
    if (patterns.startsWith('|') && parseHashed(patterns) === null) {
      errors.push(`${file}:${line}: malformed hashed host name`);
      continue;
    }
    const keyBlob = decodeBase64(keyText);
    if (keyBlob === null) {
      errors.push(`${file}:${line}: key is not valid base64`);
      continue;
    }
    let blobType: string;
    try {
      blobType = keyTypeOf(keyBlob);
    } catch {
      errors.push(`${file}:${line}: key data is not an SSH public key`);
      continue;
    }
    if (canonicalKeyType(lineType) !== blobType) {
      errors.push(`${file}:${line}: key type ${lineType} does not match key data (${blobType})`);
      continue;
    }
    entries.push({ file, line, marker, patterns, keyType: blobType, keyBlob });
  }
  return { entries, errors };
}

// OpenSSH's match_pattern: `*` any run, `?` one character; greedy with one backtrack
// point, so hostile patterns cannot make it exponential.
function globMatch(text: string, pattern: string): boolean {
  let t = 0;
  let p = 0;
  let starP = -1;
  let starT = 0;
  while (t < text.length) {
    const pc = pattern[p];
    if (pc === '*') {
      starP = p++;
      starT = t;
    } else if (pc !== undefined && (pc === '?' || pc === text[t])) {
      p++;
      t++;
    } else if (starP >= 0) {
      p = starP + 1;
      t = ++starT;
    } else {
      return false;
    }
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}

// True when the host field names `name` (already lowercased), per OpenSSH's
// match_hostname: any negated match excludes the line outright.
function hostFieldMatches(field: string, name: string): boolean {
  if (field.startsWith('|')) {
    const hashed = parseHashed(field);
    return hashed !== null && hashedNameMatches(hashed, name);
  }
  let positive = false;
  for (const raw of field.toLowerCase().split(',')) {
    if (raw.startsWith('!')) {
      if (globMatch(name, raw.slice(1))) return false;
    } else if (globMatch(name, raw)) {
      positive = true;
    }
  }
  return positive;
}

// Plain and revoked entries that name this host; CA lines are ignored (no host certificates).
function entriesFor(entries: readonly KnownHostEntry[], address: string, port: number): KnownHostEntry[] {
  const name = lookupName(address, port);
  return entries.filter((e) => e.marker !== 'cert-authority' && hostFieldMatches(e.patterns, name));
}

// Judges a presented key blob against parsed entries; throws RangeError on a malformed blob.
export function checkHostKey(
  entries: readonly KnownHostEntry[],
  address: string,
  port: number,
  keyBlob: Buffer,
): HostKeyVerdict {
  return judgeHostKey(entriesFor(entries, address, port), keyBlob);
}

// checkHostKey on the entries already known to name the host.
function judgeHostKey(named: readonly KnownHostEntry[], keyBlob: Buffer): HostKeyVerdict {
  const presentedType = keyTypeOf(keyBlob);
  // A revoked key is refused even if another line also accepts it.
  const revoked = named.find((e) => e.marker === 'revoked' && e.keyBlob.equals(keyBlob));
  if (revoked) return { verdict: 'revoked', entry: revoked };
  const plain = named.filter((e) => e.marker === null);
  const match = plain.find((e) => e.keyBlob.equals(keyBlob));
  if (match) return { verdict: 'match', entry: match };
  const sameType = plain.filter((e) => e.keyType === presentedType);
  if (sameType.length > 0) {
    return { verdict: 'mismatch', expected: sameType, presentedFingerprint: fingerprint(keyBlob) };
  }
  if (plain.length > 0) return { verdict: 'new-type', knownTypes: uniqueTypes(plain) };
  return { verdict: 'unknown' };
}

function uniqueTypes(entries: readonly KnownHostEntry[]): string[] {
  return [...new Set(entries.map((e) => e.keyType))];
}

// Blob key types already trusted for this host, in file order, for preferHostKeyAlgorithms.
export function knownKeyTypes(entries: readonly KnownHostEntry[], address: string, port: number): string[] {
  return plainTypes(entriesFor(entries, address, port));
}

function plainTypes(named: readonly KnownHostEntry[]): string[] {
  return uniqueTypes(named.filter((e) => e.marker === null));
}

// A known_hosts line pinning this key, as accept-new writes it (no trailing newline).
export function formatKnownHostsLine(address: string, port: number, keyBlob: Buffer): string {
  // Characters that would turn the address into a pattern, marker, comment or hash.
  if (address === '' || /[\s,*?!|#@[\]]/.test(address)) {
    throw new RangeError(`address ${JSON.stringify(address)} cannot be written to known_hosts`);
  }
  return `${lookupName(address, port)} ${keyTypeOf(keyBlob)} ${keyBlob.toString('base64')}`;
}

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

// A hashed line with its salt and hash decoded once, not once per lookup.
interface HashedLine {
  readonly entry: KnownHostEntry;
  readonly salt: Buffer;
  readonly hash: Buffer;
}

// Plain host names index their lines directly; wildcard and negated lines are scanned per lookup.
// A hashed line names exactly one host, but finding which costs an HMAC per line and name: once
// found (or verified from the names a previous run saved), it is indexed like a plain line, so
// only the hashed lines of hosts not yet looked up are tried. Without this a fleet of N hosts
// against N lines costs N^2.
class EntryIndex {
  private readonly byName = new Map<string, KnownHostEntry[]>();
  private readonly scanned: KnownHostEntry[] = [];
  private unresolved: HashedLine[] = [];
  /** Hashed host field -> the lookup name it hashes, for every hashed line resolved so far. */
  readonly resolved = new Map<string, string>();
  /** Resolutions found by an HMAC scan in this process, as opposed to verified from saved names. */
  scannedResolutions = 0;
  private readonly order = new Map<KnownHostEntry, number>();
  // hostKeyAlgorithms and verify ask for the same host one after the other.
  private readonly memo = new Map<string, KnownHostEntry[]>();

  constructor(entries: readonly KnownHostEntry[]) {
    for (const entry of entries) this.add(entry);
  }

  add(entry: KnownHostEntry): void {
    this.order.set(entry, this.order.size);
    this.memo.clear();
    if (entry.marker === 'cert-authority') return;
    if (entry.patterns.startsWith('|')) {
      const hashed = parseHashed(entry.patterns);
      if (hashed !== null) this.unresolved.push({ entry, ...hashed });
      return;
    }
    const names = entry.patterns.toLowerCase().split(',');
    if (names.some((n) => /[*?!]/.test(n))) {
      this.scanned.push(entry);
      return;
    }
    for (const name of new Set(names)) this.index(name, entry);
  }

  /** Resolves hashed lines to the names a previous run found for them; each pair is checked by its HMAC, so a wrong one is only skipped. */
  seed(names: ReadonlyMap<string, string>): number {
    const verified = this.resolveWhere((line) => names.get(line.entry.patterns));
    this.memo.clear();
    return verified;
  }

  /** Hashed lines not yet resolved to a name. */
  get unresolvedCount(): number {
    return this.unresolved.length;
  }

  /** Entries that name the host, in file order: its exact name's lines and the patterns that match it. */
  named(address: string, port: number): KnownHostEntry[] {
    const name = lookupName(address, port);
    let found = this.memo.get(name);
    if (found === undefined) {
      if (this.unresolved.length > 0) this.scannedResolutions += this.resolveWhere(() => name);
      const direct = this.byName.get(name) ?? [];
      const scanned = this.scanned.filter((e) => hostFieldMatches(e.patterns, name));
      found = scanned.length === 0 ? direct : [...direct, ...scanned].sort(this.byFileOrder);
      this.memo.set(name, found);
    }
    return found;
  }

  // Resolves each unresolved line to the name `candidate` offers for it, when its HMAC confirms that
  // name; returns how many were resolved.
  private resolveWhere(candidate: (line: HashedLine) => string | undefined): number {
    const before = this.unresolved.length;
    this.unresolved = this.unresolved.filter((line) => {
      const name = candidate(line);
      if (name === undefined || !hashedNameMatches(line, name)) return true;
      this.index(name, line.entry);
      this.resolved.set(line.entry.patterns, name);
      return false;
    });
    return before - this.unresolved.length;
  }

  private readonly byFileOrder = (a: KnownHostEntry, b: KnownHostEntry): number => (this.order.get(a) ?? 0) - (this.order.get(b) ?? 0);

  // A name's lines stay in file order: a hashed line is indexed when it is resolved, after later plain lines.
  private index(name: string, entry: KnownHostEntry): void {
    const list = this.byName.get(name);
    if (list === undefined) {
      this.byName.set(name, [entry]);
      return;
    }
    list.push(entry);
    if (this.byFileOrder(list[list.length - 2] as KnownHostEntry, entry) > 0) list.sort(this.byFileOrder);
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
  private index = new EntryIndex([]);
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
    this.index = new EntryIndex(entries);
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
  async verify(address: string, port: number, keyBlob: Buffer): Promise<HostKeyDecision> {
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

  private decide(verdict: HostKeyVerdict, address: string, port: number, presented: string): HostKeyDecision {
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

  private async recordIfStillUnknown(address: string, port: number, keyBlob: Buffer): Promise<HostKeyDecision> {
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
    reason: Extract<HostKeyDecision, { decision: 'refuse' }>['reason'],
    presented: string,
    message: string,
  ): HostKeyDecision {
    return { decision: 'refuse', reason, fingerprint: presented, message };
  }

  private assertLoaded(): void {
    if (!this.loaded) throw new Error('KnownHosts.load() must resolve before keys are checked');
  }
}
