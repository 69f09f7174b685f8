// Who may ask: the access token (Bearer) and the Basic-auth users, loaded once at start and
// checked on every request. When none is configured (allowed on loopback only, see
// exposure.ts) every request is let through; when any is configured it is always required.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { FastifyRequest } from 'fastify';
import type { Log } from '../log.js';
import { ApiError } from './errors.js';
import { parsePasswordHash, verifyPassword, type PasswordHash } from './password.js';
import type { HttpSettings } from './settings.js';

// The secrets the server checks against, never the token itself: its SHA-256.
export interface Credentials {
  readonly tokenSha256: Buffer | null;
  readonly users: ReadonlyMap<string, PasswordHash>;
}

// Settings that cannot start a server: each problem names the setting and what to do.
export class HttpStartError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('\n'));
    this.name = 'HttpStartError';
  }
}

/** A token shorter than this is refused: it would be guessable. */
export const MIN_TOKEN_LENGTH = 16;

/** Reads the token (file, else environment) and parses the users' hashes; throws HttpStartError. */
export function loadCredentials(settings: HttpSettings, env: NodeJS.ProcessEnv): Credentials {
  const problems: string[] = [];
  let token: string | null = null;
  if (settings.tokenFile !== null) {
    token = readTokenFile(settings.tokenFile, problems);
  } else {
    const value = env[settings.tokenEnv];
    if (value !== undefined && value.trim() !== '') {
      token = value.trim();
      if (/\s/.test(token)) {
        problems.push(`environment variable ${settings.tokenEnv}: the access token must be one word, without spaces (e.g. openssl rand -hex 32)`);
      } else if (token.length < MIN_TOKEN_LENGTH) {
        problems.push(`environment variable ${settings.tokenEnv}: the access token must be at least ${MIN_TOKEN_LENGTH} characters (e.g. openssl rand -hex 32)`);
      }
    }
  }
  const users = new Map<string, PasswordHash>();
  for (const user of settings.users) {
    const parsed = parsePasswordHash(user.passwordHash);
    if (typeof parsed === 'string') problems.push(`http.users.${user.name} must be ${parsed}`);
    else users.set(user.name, parsed);
  }
  if (problems.length > 0) throw new HttpStartError(problems);
  return { tokenSha256: token === null ? null : sha256(token), users };
}

/** True when a token or at least one user is configured. */
export function hasCredentials(credentials: Credentials): boolean {
  return credentials.tokenSha256 !== null || credentials.users.size > 0;
}

function readTokenFile(path: string, problems: string[]): string | null {
  let text: string;
  try {
    // Group and others should not read a secret; like ssh with private keys, refuse instead of warn.
    if (process.platform !== 'win32' && (statSync(path).mode & 0o004) !== 0) {
      problems.push(`http.tokenFile ${path} is readable by every user of this machine: chmod o-r (or 600) it`);
      return null;
    }
    text = readFileSync(path, 'utf8');
  } catch (error) {
    problems.push(`http.tokenFile ${path} cannot be read: ${(error as Error).message}`);
    return null;
  }
  const token = text.trim();
  if (token === '') problems.push(`http.tokenFile ${path} is empty: put the access token in it (e.g. openssl rand -hex 32 > ${path})`);
  else if (/\s/.test(token)) problems.push(`http.tokenFile ${path} must hold one token on one line, without spaces`);
  else if (token.length < MIN_TOKEN_LENGTH) problems.push(`http.tokenFile ${path}: the access token must be at least ${MIN_TOKEN_LENGTH} characters`);
  return problems.length > 0 ? null : token;
}

/**
 * Returns the check every request passes before its handler: it resolves when the request may
 * go on and throws a 401 ApiError otherwise. A verified Basic password is remembered (as an HMAC
 * under a key of this server's own) so scrypt runs once per user and password, not per request.
 */
export function createAuthCheck(credentials: Credentials, log: Log): (request: FastifyRequest) => Promise<void> {
  const challenges: string[] = [];
  if (credentials.tokenSha256 !== null) challenges.push('Bearer realm="fleetpoll"');
  if (credentials.users.size > 0) challenges.push('Basic realm="fleetpoll", charset="UTF-8"');
  const how = [
    credentials.tokenSha256 !== null ? '"Authorization: Bearer <token>"' : null,
    credentials.users.size > 0 ? 'a user name and password (Basic)' : null,
  ].filter((x) => x !== null);
  const challenge = challenges.length === 1 ? (challenges[0] ?? '') : challenges;
  const refuse = (detail: string): ApiError => new ApiError(401, detail, { 'www-authenticate': challenge });

  const cacheKey = randomBytes(32);
  const verified = new Map<string, Buffer>();
  const pending = new Map<string, Promise<boolean>>();
  // An unknown user costs the same scrypt as a known one, so timing does not tell names apart.
  const firstUser = [...credentials.users.values()][0];
  const decoy: PasswordHash | null = firstUser === undefined ? null : { ...firstUser, salt: randomBytes(16), hash: randomBytes(firstUser.hash.length) };

  const checkBasic = async (user: string, password: string): Promise<boolean> => {
    const stored = credentials.users.get(user);
    if (stored === undefined) {
      if (decoy !== null) await verifyPassword(password, decoy);
      return false;
    }
    const mac = createHmac('sha256', cacheKey).update(`${user}\0${password}`).digest();
    const known = verified.get(user);
    if (known !== undefined && timingSafeEqual(known, mac)) return true;
    const id = mac.toString('hex');
    let check = pending.get(id);
    if (check === undefined) {
      check = verifyPassword(password, stored).finally(() => pending.delete(id));
      pending.set(id, check);
    }
    const ok = await check;
    if (ok) verified.set(user, mac);
    return ok;
  };

  return async (request) => {
    const header = request.headers.authorization;
    if (header === undefined || header.trim() === '') throw refuse(`credentials are required: send ${how.join(' or ')}`);
    const match = /^(\S+)\s+(\S+)\s*$/.exec(header);
    const scheme = match?.[1]?.toLowerCase();
    const value = match?.[2] ?? '';
    let ok = false;
    if (scheme === 'bearer' && credentials.tokenSha256 !== null) {
      ok = timingSafeEqual(sha256(value), credentials.tokenSha256);
    } else if (scheme === 'basic' && credentials.users.size > 0) {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      ok = colon > 0 && (await checkBasic(decoded.slice(0, colon), decoded.slice(colon + 1)));
    }
    if (!ok) {
      log.warn('http request refused: credentials not accepted', { ip: request.ip, scheme: (scheme ?? 'none').slice(0, 20) });
      throw refuse('the credentials were not accepted');
    }
  };
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
