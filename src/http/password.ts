// Password hashes for the HTTP users: scrypt (node:crypto) in a PHC-like string
// `scrypt$N$r$p$salt$hash` (salt and hash in unpadded base64), made and checked here only.
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

// The cost of one hash: OWASP's scrypt choice with 32 MiB of memory (N=2^15, r=8, p=3).
export interface ScryptCost {
  readonly n: number;
  readonly r: number;
  readonly p: number;
}

// A parsed hash string, ready to verify against.
export interface PasswordHash extends ScryptCost {
  readonly salt: Buffer;
  readonly hash: Buffer;
}

/** The cost `hashPassword` uses unless told otherwise. */
export const DEFAULT_SCRYPT_COST: ScryptCost = { n: 2 ** 15, r: 8, p: 3 };

// Bounds on what a hash string may ask for: a typo must not make every login allocate gigabytes.
const MAX_N = 2 ** 20;
const MAX_R = 32;
const MAX_P = 16;
const SALT_BYTES = 16;
const HASH_BYTES = 32;
const B64 = /^[A-Za-z0-9+/]+$/;

/** Hashes a password with a fresh random salt; the string goes into http.users. */
export async function hashPassword(password: string, cost: ScryptCost = DEFAULT_SCRYPT_COST): Promise<string> {
  if (password === '') throw new Error('the password is empty');
  const problem = costProblem(cost);
  if (problem !== null) throw new Error(problem);
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(password, salt, cost, HASH_BYTES);
  return ['scrypt', cost.n, cost.r, cost.p, unpadded(salt), unpadded(hash)].join('$');
}

/** Parses a hash string; returns the reason it is not one instead of throwing. */
export function parsePasswordHash(text: string): PasswordHash | string {
  const parts = text.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') {
    return 'a hash made by "fleetpoll http hash-password" (scrypt$N$r$p$salt$hash), not a password';
  }
  const [, nText, rText, pText, saltText, hashText] = parts as [string, string, string, string, string, string];
  const whole = (s: string): number => (/^[1-9]\d{0,9}$/.test(s) ? Number(s) : NaN);
  const cost = { n: whole(nText), r: whole(rText), p: whole(pText) };
  const problem = costProblem(cost);
  if (problem !== null) return problem;
  if (!B64.test(saltText) || !B64.test(hashText)) return 'a hash whose salt and hash are base64';
  const salt = Buffer.from(saltText, 'base64');
  const hash = Buffer.from(hashText, 'base64');
  if (salt.length < 8) return 'a hash with a salt of at least 8 bytes';
  if (hash.length < 16 || hash.length > 64) return 'a hash of 16 to 64 bytes';
  return { ...cost, salt, hash };
}

/** True when the password matches; constant time in the comparison of the derived keys. */
export async function verifyPassword(password: string, stored: PasswordHash): Promise<boolean> {
  const derived = await derive(password, stored.salt, stored, stored.hash.length);
  return timingSafeEqual(derived, stored.hash);
}

function costProblem(cost: ScryptCost): string | null {
  const { n, r, p } = cost;
  if (!Number.isInteger(n) || n < 2 || n > MAX_N || (n & (n - 1)) !== 0) return `a hash whose N is a power of two from 2 to ${MAX_N}`;
  if (!Number.isInteger(r) || r < 1 || r > MAX_R) return `a hash whose r is from 1 to ${MAX_R}`;
  if (!Number.isInteger(p) || p < 1 || p > MAX_P) return `a hash whose p is from 1 to ${MAX_P}`;
  return null;
}

function derive(password: string, salt: Buffer, cost: ScryptCost, length: number): Promise<Buffer> {
  return new Promise((resolveKey, reject) => {
    // scrypt needs 128·N·r bytes; node's default ceiling (32 MiB) is exactly the default cost, so leave room.
    const maxmem = 256 * cost.n * cost.r + 1024 * 1024;
    scrypt(password.normalize('NFC'), salt, length, { N: cost.n, r: cost.r, p: cost.p, maxmem }, (error, key) => (error === null ? resolveKey(key) : reject(error)));
  });
}

function unpadded(bytes: Buffer): string {
  return bytes.toString('base64').replace(/=+$/, '');
}
