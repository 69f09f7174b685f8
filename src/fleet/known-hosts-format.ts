// The OpenSSH known_hosts format and its matching rules: parsing lines (markers, hashed names,
// patterns), judging a presented key against the lines that name a host, and writing a line. Pure.
//
// Matching follows sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT" and OpenSSH's hostfile.c:
// the lookup name is `address` on port 22 and `[address]:port` otherwise, and every
// pattern, hashed or not, is compared with that one name.
import { createHash, createHmac } from 'node:crypto';

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
  /** The host is known, but only under other key types; see the rule at the top of known-hosts.ts. */
  | { verdict: 'new-type'; knownTypes: string[] }
  /** The host is known with the same key type and other key data. */
  | { verdict: 'mismatch'; expected: KnownHostEntry[]; presentedFingerprint: string }
  | { verdict: 'revoked'; entry: KnownHostEntry };

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

// A hashed host field (`|1|salt|hash`) decoded once: what an HMAC check needs.
export interface HashedName {
  readonly salt: Buffer;
  readonly hash: Buffer;
}

// Decodes a `|1|salt|hash` host field; null when it is not one (or is malformed).
export function parseHashed(field: string): HashedName | null {
  const parts = field.split('|');
  // "|1|salt|hash" splits into ['', '1', salt, hash].
  if (parts.length !== 4 || parts[0] !== '' || parts[1] !== '1') return null;
  const salt = decodeBase64(parts[2] ?? '');
  const hash = decodeBase64(parts[3] ?? '');
  if (salt === null || hash === null || salt.length !== SHA1_BYTES || hash.length !== SHA1_BYTES) return null;
  return { salt, hash };
}

// True when a hashed host field (`|1|salt|hash`, decoded) is the HMAC of this lookup name.
export function hashedNameMatches(hashed: HashedName, name: string): boolean {
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
export function hostFieldMatches(field: string, name: string): boolean {
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

// checkHostKey on the entries already known to name the host (the store's index finds them faster).
// A host known only under other key types is 'new-type'; known-hosts.ts says why no mode trusts it.
export function judgeHostKey(named: readonly KnownHostEntry[], keyBlob: Buffer): HostKeyVerdict {
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

// knownKeyTypes on the entries already known to name the host.
export function plainTypes(named: readonly KnownHostEntry[]): string[] {
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

