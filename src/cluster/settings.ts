// The `nats` section of the settings file: where the coordinator (`serve`) and the workers find NATS
// JetStream, how they authenticate, TLS, and the timing of jobs and heartbeats. Absent: no cluster,
// `serve` polls everything itself. Secrets are referenced (an environment variable or a file), never held.
import { SectionReader, type SettingsFileText } from '../settings-section.js';

// How a client proves who it is to the NATS server; secrets are read when connecting, not here.
export type NatsAuth =
  | { readonly kind: 'none' }
  | { readonly kind: 'user'; readonly user: string; readonly passwordEnv: string; readonly passwordFile: string | null }
  | { readonly kind: 'token'; readonly tokenEnv: string; readonly tokenFile: string | null }
  | { readonly kind: 'nkey'; readonly seedFile: string }
  | { readonly kind: 'creds'; readonly credsFile: string };

// Validated `nats` settings.
export interface NatsSettings {
  /** Server URLs, e.g. nats://nats1.example.net:4222 (tls:// or nats:// with tls set). */
  readonly servers: readonly string[];
  readonly auth: NatsAuth;
  /** PEM files: the CA that signed the server's certificate; a client certificate and key (mutual TLS). */
  readonly tls: { readonly caFile: string | null; readonly certFile: string | null; readonly keyFile: string | null } | null;
  /** A job not acknowledged (nor marked in progress) within this goes to another worker of its zone. */
  readonly ackWaitMs: number;
  /** Workers announce themselves this often; three missed beats and a worker counts as gone. */
  readonly heartbeatMs: number;
  /** Stored jobs and results are dropped after this (a cycle never written, a zone without workers). */
  readonly retentionMs: number;
}

// The defaults, as documented in docs/zones.md.
export const DEFAULT_NATS = { ackWaitSeconds: 30, heartbeatSeconds: 5, retentionHours: 24, passwordEnv: 'FLEETPOLL_NATS_PASSWORD', tokenEnv: 'FLEETPOLL_NATS_TOKEN' } as const;

const KEYS = [
  'servers',
  'user',
  'passwordEnv',
  'passwordFile',
  'tokenEnv',
  'tokenFile',
  'nkeySeedFile',
  'credsFile',
  'tls.caFile',
  'tls.certFile',
  'tls.keyFile',
  'ackWaitSeconds',
  'heartbeatSeconds',
  'retentionHours',
];
const SECRETS = ['password', 'pass', 'token', 'seed', 'nkey', 'creds'];
const ENV_VAR = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SERVER_URL = /^(nats|tls):\/\/[A-Za-z0-9_.:[\]-]+(:\d{1,5})?$/;
const NATS_USER = /^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,127}$/;

/**
 * Validates the `nats` section (undefined when absent) plus FLEETPOLL_NATS_SERVERS; null when neither
 * is given (standalone). Problems in config.ts's style.
 */
export function parseNatsSettings(
  section: unknown,
  file: SettingsFileText | null,
  env: NodeJS.ProcessEnv,
  problems: string[],
  dirs: { readonly fileBase: string; readonly cwd: string },
): NatsSettings | null {
  const r = new SectionReader('nats', section, file, problems);
  r.fromEnv('servers', 'FLEETPOLL_NATS_SERVERS', env).fromEnv('user', 'FLEETPOLL_NATS_USER', env);
  if (!r.present) return null;
  for (const secret of SECRETS) {
    if (r.has(secret)) {
      problems.push(
        `${r.where(secret)}: nats.${secret} is not allowed: the settings file is no place for a secret; name an environment variable (nats.passwordEnv, nats.tokenEnv) or a file (nats.passwordFile, nats.tokenFile, nats.nkeySeedFile, nats.credsFile)`,
      );
    }
  }
  r.rejectUnknown(KEYS, SECRETS);
  const d = DEFAULT_NATS;
  const before = problems.length;
  const servers = r.stringList('servers', [], SERVER_URL, 'server URLs such as "nats://127.0.0.1:4222" or "tls://nats.example.net:4222"');
  if (!r.has('servers')) problems.push(`${r.where('')}: nats.servers is required (e.g. ["nats://127.0.0.1:4222"]) when the nats section is present`);
  else if (servers.length === 0 && problems.length === before) r.problem('servers', 'a non-empty list of server URLs');

  const path = (key: string): string | null => r.path(key, null, dirs.fileBase, dirs.cwd);
  const auth = parseAuth(r, problems, path);

  const caFile = path('tls.caFile');
  const certFile = path('tls.certFile');
  const keyFile = path('tls.keyFile');
  if (r.get('tls') !== undefined) r.problem('tls', 'an object such as {"caFile": "tls/ca.pem"}');
  if ((certFile === null) !== (keyFile === null)) {
    const [given, missing] = certFile !== null ? ['tls.certFile', 'tls.keyFile'] : ['tls.keyFile', 'tls.certFile'];
    problems.push(`${r.where(given)}: nats.${missing} is required with nats.${given} (a client certificate needs its private key, both PEM files)`);
  }
  const tls = caFile === null && certFile === null && keyFile === null ? null : { caFile, certFile, keyFile };

  return {
    servers,
    auth,
    tls,
    ackWaitMs: Math.round(r.number('ackWaitSeconds', d.ackWaitSeconds, 1, 3600, false) * 1000),
    heartbeatMs: Math.round(r.number('heartbeatSeconds', d.heartbeatSeconds, 0.2, 300, false) * 1000),
    retentionMs: Math.round(r.number('retentionHours', d.retentionHours, 1, 24 * 30, false) * 3600 * 1000),
  };
}

// At most one way to authenticate: user + password, token, nkey seed or credentials file.
function parseAuth(r: SectionReader, problems: string[], path: (key: string) => string | null): NatsAuth {
  const d = DEFAULT_NATS;
  const given = [
    r.has('user') || r.has('passwordEnv') || r.has('passwordFile') ? 'user' : null,
    r.has('tokenEnv') || r.has('tokenFile') ? 'token' : null,
    r.has('nkeySeedFile') ? 'nkey' : null,
    r.has('credsFile') ? 'creds' : null,
  ].filter((k): k is string => k !== null);
  if (given.length > 1) {
    problems.push(`${r.where('')}: nats: choose one way to authenticate, not ${given.join(' and ')} (user + password, token, nkeySeedFile or credsFile)`);
  }
  switch (given[0]) {
    case 'user': {
      const user = r.string('user', '', NATS_USER, 'a NATS user name (letters, digits and _ . @ -)');
      if (!r.has('user')) problems.push(`${r.where('passwordEnv')}: nats.user is required with nats.passwordEnv or nats.passwordFile`);
      return {
        kind: 'user',
        user,
        passwordEnv: r.string('passwordEnv', d.passwordEnv, ENV_VAR, 'an environment variable name (letters, digits, _)'),
        passwordFile: path('passwordFile'),
      };
    }
    case 'token':
      return { kind: 'token', tokenEnv: r.string('tokenEnv', d.tokenEnv, ENV_VAR, 'an environment variable name (letters, digits, _)'), tokenFile: path('tokenFile') };
    case 'nkey':
      return { kind: 'nkey', seedFile: path('nkeySeedFile') ?? '' };
    case 'creds':
      return { kind: 'creds', credsFile: path('credsFile') ?? '' };
    default:
      return { kind: 'none' };
  }
}
