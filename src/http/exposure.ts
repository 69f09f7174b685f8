// The rule for listening beyond this machine: an address other than loopback needs TLS (or the
// admin's explicit `insecure: true`) and a token or users. Loopback without credentials is open.
import { isIPv4, isIPv6 } from 'node:net';
import type { HttpSettings } from './settings.js';

/** True for 127.0.0.0/8, ::1 and their IPv4-mapped form; 0.0.0.0 and :: are every address, not loopback. */
export function isLoopback(address: string): boolean {
  const a = address.toLowerCase();
  if (isIPv4(a)) return a.split('.')[0] === '127';
  if (!isIPv6(a)) return false;
  // IPv4-mapped (::ffff:127.0.0.1): the IPv4 part decides.
  const mapped = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (mapped !== null) return expandV6(`${mapped[1]}0:0`) === '0000:0000:0000:0000:0000:ffff:0000:0000' && isLoopback(mapped[2] ?? '');
  return expandV6(a) === '0000:0000:0000:0000:0000:0000:0000:0001';
}

/** What stops these settings from being exposed as they are; empty when they are fine. */
export function exposureProblems(settings: HttpSettings, hasCredentials: boolean): string[] {
  if (isLoopback(settings.bind)) return [];
  const problems: string[] = [];
  const where = `http.bind is ${settings.bind}, which is not loopback`;
  if (settings.tls === null && !settings.insecure) {
    problems.push(
      `${where}: set http.tls.certFile and http.tls.keyFile for HTTPS, or "insecure": true to accept plain HTTP on the network (tokens and passwords then travel in clear)`,
    );
  }
  if (!hasCredentials) {
    problems.push(
      `${where}: set an access token (environment variable ${settings.tokenEnv} or a file named by http.tokenFile) or http.users with password hashes from "fleetpoll http hash-password"`,
    );
  }
  return problems;
}

function expandV6(address: string): string {
  const [head = '', tail] = address.split('::') as [string, string | undefined];
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? [] : new Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right].map((g) => g.padStart(4, '0')).join(':');
}
