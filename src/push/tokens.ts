// Push tokens: one per push host, made by `fleetpoll token create`, shown once, kept only as SHA-256
// hashes in data/push-tokens.json (mode 0600). SHA-256 rather than scrypt: a token is 256 random bits,
// so no dictionary or brute force can reach it and a slow hash would only cost the poller CPU on every
// push (and hand unauthenticated clients a way to burn it). Compared in constant time.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { hasErrorCode } from '../store/errors.js';
import { replaceFileSynced } from '../store/files.js';

/** The token file in the data dir. */
export const TOKENS_FILE = 'push-tokens.json';
/** What every push token starts with (so a leaked one is recognisable, e.g. by secret scanners). */
export const TOKEN_PREFIX = 'fpp_';

// One host's stored token: its hash and when it was made.
export interface StoredToken {
  /** SHA-256 of the token, hex. */
  readonly sha256: string;
  /** ISO 8601 UTC. */
  readonly createdAt: string;
}

// The token file: lower-cased host name -> stored token.
export type TokenTable = ReadonlyMap<string, StoredToken & { readonly host: string }>;

// A token file that cannot be used, with the reason.
export class TokenFileError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = 'TokenFileError';
  }
}

/** The token file's path. */
export function tokensPath(dataDir: string): string {
  return path.join(dataDir, TOKENS_FILE);
}

/** A new token: 32 random bytes, base64url, with the prefix. */
export function newToken(): string {
  return `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
}

/** SHA-256 of a token, hex. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Reads the token file (an absent file is an empty table); throws TokenFileError. */
export async function readTokens(dataDir: string): Promise<TokenTable> {
  const file = tokensPath(dataDir);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if (hasErrorCode(error, 'ENOENT')) return new Map();
    throw new TokenFileError(file, `cannot be read: ${(error as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new TokenFileError(file, 'is not valid JSON: restore it, or remove it and create the tokens again');
  }
  const hosts = (data as { hosts?: unknown } | null)?.hosts;
  if (hosts === null || typeof hosts !== 'object' || Array.isArray(hosts)) {
    throw new TokenFileError(file, 'must hold {"hosts": {"<name>": {"sha256": "...", "createdAt": "..."}}}');
  }
  const table = new Map<string, StoredToken & { host: string }>();
  for (const [host, entry] of Object.entries(hosts as Record<string, unknown>)) {
    const e = entry as Partial<StoredToken> | null;
    if (e === null || typeof e !== 'object' || typeof e.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(e.sha256) || typeof e.createdAt !== 'string') {
      throw new TokenFileError(file, `the entry of ${JSON.stringify(host)} must be {"sha256": "<64 hex>", "createdAt": "<ISO time>"}`);
    }
    table.set(host.toLowerCase(), { host, sha256: e.sha256, createdAt: e.createdAt });
  }
  return table;
}

/** Writes the token file (atomic, synced, 0600). */
export async function writeTokens(dataDir: string, table: TokenTable): Promise<void> {
  const hosts: Record<string, StoredToken> = {};
  for (const entry of [...table.values()].sort((a, b) => a.host.localeCompare(b.host))) hosts[entry.host] = { sha256: entry.sha256, createdAt: entry.createdAt };
  await mkdir(dataDir, { recursive: true });
  await replaceFileSynced(tokensPath(dataDir), `${JSON.stringify({ hosts }, null, 2)}\n`, 0o600);
}

// Compared against when a host has no token, so a missing entry costs the same as a wrong token.
const DECOY = Buffer.alloc(32);

/** True when `presented` is the token stored for `host`; constant time in the token's content. */
export function tokenMatches(table: TokenTable, host: string, presented: string): boolean {
  const stored = table.get(host.toLowerCase());
  const expected = stored === undefined ? DECOY : Buffer.from(stored.sha256, 'hex');
  const given = createHash('sha256').update(presented, 'utf8').digest();
  return timingSafeEqual(given, expected) && stored !== undefined;
}
