// The `http` section of the settings file: where `fleetpoll serve` listens, TLS, and who may ask.
// Secrets are referenced, never held: the token comes from an environment variable or a file,
// users carry scrypt hashes. Whether the combination is safe to expose is checked at start
// (src/http/exposure.ts), so that `fleetpoll poll` never fails over the service's settings.
import { isIP } from 'node:net';
import { SectionReader, type SettingsFileText } from '../settings-section.js';
import { parsePasswordHash } from './password.js';

// One Basic-auth account: its name and its hash string (parsed again when the server starts).
export interface HttpUser {
  readonly name: string;
  readonly passwordHash: string;
}

// Validated `http` settings.
export interface HttpSettings {
  /** IP address to listen on; loopback unless the admin says otherwise. */
  readonly bind: string;
  readonly port: number;
  /** PEM files for HTTPS; null = plain HTTP. */
  readonly tls: { readonly certFile: string; readonly keyFile: string } | null;
  /** The admin's explicit consent to plain HTTP beyond loopback. */
  readonly insecure: boolean;
  /** Environment variable holding the access token (used when set and not empty). */
  readonly tokenEnv: string;
  /** File holding the access token; null = none. Wins over tokenEnv. */
  readonly tokenFile: string | null;
  /** Basic-auth accounts. */
  readonly users: readonly HttpUser[];
}

// The defaults, as documented on the service page.
export const DEFAULT_HTTP_SETTINGS: HttpSettings = {
  bind: '127.0.0.1',
  port: 8080,
  tls: null,
  insecure: false,
  tokenEnv: 'FLEETPOLL_HTTP_TOKEN',
  tokenFile: null,
  users: [],
};

const KEYS = ['bind', 'port', 'tls.certFile', 'tls.keyFile', 'insecure', 'tokenEnv', 'tokenFile', 'users'];
const SECRETS = ['token', 'password', 'secret'];
const ENV_VAR = /^[A-Za-z_][A-Za-z0-9_]*$/;
// Basic auth splits user:password at the first colon, so a name cannot hold one.
const USER_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,63}$/;

/** Validates the `http` section (undefined when absent) plus FLEETPOLL_HTTP_BIND/_PORT; problems in config.ts's style. */
export function parseHttpSettings(
  section: unknown,
  file: SettingsFileText | null,
  env: NodeJS.ProcessEnv,
  problems: string[],
  dirs: { readonly fileBase: string; readonly cwd: string },
): HttpSettings {
  const r = new SectionReader('http', section, file, problems, ['users']);
  r.fromEnv('bind', 'FLEETPOLL_HTTP_BIND', env).fromEnv('port', 'FLEETPOLL_HTTP_PORT', env);
  for (const secret of SECRETS) {
    if (r.has(secret)) {
      problems.push(
        `${r.where(secret)}: http.${secret} is not allowed: the settings file is no place for a secret; put the token in environment variable ${DEFAULT_HTTP_SETTINGS.tokenEnv} (or the one http.tokenEnv names) or in a file named by http.tokenFile, and give users password hashes made by "fleetpoll http hash-password"`,
      );
    }
  }
  r.rejectUnknown(KEYS, SECRETS);
  const d = DEFAULT_HTTP_SETTINGS;

  let bind = d.bind;
  const bindRaw = r.get('bind');
  if (bindRaw !== undefined) {
    if (typeof bindRaw.value === 'string' && isIP(bindRaw.value.trim()) !== 0) bind = bindRaw.value.trim();
    else r.problem('bind', 'an IP address such as "127.0.0.1", "0.0.0.0" (every IPv4 address) or "::" (every address)');
  }

  const certFile = r.path('tls.certFile', null, dirs.fileBase, dirs.cwd);
  const keyFile = r.path('tls.keyFile', null, dirs.fileBase, dirs.cwd);
  if (r.get('tls') !== undefined) r.problem('tls', 'an object such as {"certFile": "tls/cert.pem", "keyFile": "tls/key.pem"}');
  if (r.has('tls.certFile') !== r.has('tls.keyFile')) {
    const [given, missing] = r.has('tls.certFile') ? ['tls.certFile', 'tls.keyFile'] : ['tls.keyFile', 'tls.certFile'];
    problems.push(`${r.where(given)}: http.${missing} is required with http.${given} (HTTPS needs the certificate and its private key, both PEM files)`);
  }

  return {
    bind,
    port: r.number('port', d.port, 1, 65535, true),
    tls: certFile !== null && keyFile !== null ? { certFile, keyFile } : null,
    insecure: r.boolean('insecure', d.insecure),
    tokenEnv: r.string('tokenEnv', d.tokenEnv, ENV_VAR, 'an environment variable name (letters, digits, _)'),
    tokenFile: r.path('tokenFile', null, dirs.fileBase, dirs.cwd),
    users: parseUsers(r, problems),
  };
}

function parseUsers(r: SectionReader, problems: string[]): HttpUser[] {
  const raw = r.get('users');
  if (raw === undefined) return [];
  if (raw.value === null || typeof raw.value !== 'object' || Array.isArray(raw.value)) {
    r.problem('users', 'an object of user name -> password hash, e.g. {"alice": "scrypt$32768$8$3$..."}');
    return [];
  }
  const users: HttpUser[] = [];
  for (const [name, hash] of Object.entries(raw.value as Record<string, unknown>)) {
    const at = r.where(`users.${name}`);
    if (!USER_NAME.test(name)) {
      problems.push(`${at}: http.users name ${JSON.stringify(name)} must be letters, digits and _ . @ - (no colon, at most 64)`);
      continue;
    }
    const parsed = typeof hash === 'string' ? parsePasswordHash(hash) : 'a hash made by "fleetpoll http hash-password"';
    if (typeof parsed === 'string') {
      // Never echo the value: if it is not a hash, it may well be the password itself.
      problems.push(`${at}: http.users.${name} must be ${parsed}`);
      continue;
    }
    users.push({ name, passwordHash: hash as string });
  }
  return users;
}
