// Settings from defaults, then the settings file, then environment, then flags; validated once.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseAlertSettings, type AlertSettings } from './alerts/settings.js';
import { expandHome } from './expand-home.js';
import { DEFAULT_SYSTEM_KNOWN_HOSTS, DEFAULT_USER_KNOWN_HOSTS, HOST_KEY_MODES, type HostKeyMode } from './fleet/known-hosts.js';
import { DEFAULT_STARTS_PER_SECOND } from './fleet/start-rate.js';
import { parseHistorySettings, type HistorySettings } from './history/settings.js';
import { parseHttpSettings, type HttpSettings } from './http/settings.js';
import type { LogSettings } from './log.js';
import { parseSmtpSettings, type SmtpSettings } from './mail/smtp.js';
import { parsePushSettings, type PushSettings } from './push/settings.js';
import { parseReportSettings, type ReportSettings } from './report/settings.js';
import { parseServeSettings, type ServeSettings } from './serve/settings.js';
import { parseNatsSettings, type NatsSettings } from './cluster/settings.js';
import { jsonPathLines, type SettingsFileSections } from './settings-section.js';
import type { WinrmAuthentication } from './model.js';

// Everything a poll needs to know, read-only once built.
export interface Config {
  readonly configFile: string | null;
  readonly inventoryPath: string;
  readonly dataDir: string;
  readonly poll: {
    readonly concurrency: number;
    readonly timeoutMs: number;
    readonly cpuWindowSec: number;
    readonly topProcesses: number;
    readonly maxOutputBytes: number;
    /** Extra attempts after a transient connect error (never after an auth failure). */
    readonly retries: number;
    readonly retryBackoffMs: number;
    /** Hosts at once with a connection open (waiting on the network); null = from the open-files limit. */
    readonly maxConnections: number | null;
    /** Hosts at once past the SSH banner (handshake, auth, probe running); null = 4 x concurrency. */
    readonly maxSessions: number | null;
    /** New SSH connections opened per second at most. */
    readonly maxConnectsPerSecond: number;
  };
  readonly ssh: {
    readonly hostKeyChecking: HostKeyMode;
    readonly knownHostsPath: string;
    readonly systemKnownHostsPath: string;
    readonly user: string;
    readonly port: number;
    /** Key used when a row's auth column is empty and no agent answers; null = ~/.ssh defaults. */
    readonly identityPath: string | null;
    readonly passphraseEnv: string;
    /** Program the SSH transport starts on os=windows hosts to run the probe (powershell or pwsh). */
    readonly windowsPowerShell: string;
    /** Warm connections (`serve`): keepalive interval; three missed answers drop the connection. */
    readonly keepaliveMs: number;
    /** Warm connections (`serve`): a kept connection is reopened (between runs) after this long. */
    readonly connectionMaxAgeMs: number;
  };
  /** PowerShell remoting (transport=winrm): the poller's own PowerShell and row defaults. */
  readonly winrm: {
    /** Executable of the long-lived PowerShell that runs Invoke-Command. */
    readonly powershell: string;
    readonly useSsl: boolean;
    readonly authentication: WinrmAuthentication;
  };
  readonly csv: {
    readonly delimiter: ',' | ';' | '\t';
    readonly decimalSeparator: '.' | ',';
  };
  readonly log: LogSettings;
  /** Null when no smtp section and no FLEETPOLL_SMTP_HOST: mail is not configured. */
  readonly smtp: SmtpSettings | null;
  /** Fleet-wide alert rules; per-host overrides come from servers.csv. */
  readonly alerts: AlertSettings;
  /** The weekly report and the rotation of the history files. */
  readonly report: ReportSettings;
  /** Where `fleetpoll serve` listens and who may ask (checked for exposure when the server starts). */
  readonly http: HttpSettings;
  /** The SQLite history store `poll` records into. */
  readonly history: HistorySettings;
  /** `fleetpoll serve`: the interval and the spread of hosts over it. */
  readonly serve: ServeSettings;
  /** Hosts that push their probe output (transport=push): interval, grace, clock skew, rate limit. */
  readonly push: PushSettings;
  /** Zones: NATS JetStream for the coordinator (`serve`) and `fleetpoll worker`; null = standalone. */
  readonly nats: NatsSettings | null;
}

// Values given on the command line; undefined means "not given".
export interface ConfigFlags {
  config?: string;
  inventory?: string;
  dataDir?: string;
  concurrency?: number;
  timeout?: number;
  hostKeyChecking?: string;
  knownHosts?: string;
  delimiter?: string;
  logLevel?: string;
}

// One precise problem in the settings, naming the source and the field.
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}

export const DEFAULT_CONFIG_FILE = 'fleetpoll.config.json';

interface Field {
  /** Dotted path in the settings file, e.g. poll.concurrency. */
  readonly path: string;
  readonly env?: string;
}

const FIELDS: readonly Field[] = [
  { path: 'inventory', env: 'FLEETPOLL_INVENTORY' },
  { path: 'dataDir', env: 'FLEETPOLL_DATA_DIR' },
  { path: 'poll.concurrency', env: 'FLEETPOLL_CONCURRENCY' },
  { path: 'poll.timeoutSeconds', env: 'FLEETPOLL_TIMEOUT' },
  { path: 'poll.cpuWindowSeconds' },
  { path: 'poll.topProcesses' },
  { path: 'poll.maxOutputMB' },
  { path: 'poll.retries' },
  { path: 'poll.retryBackoffSeconds' },
  { path: 'poll.maxConnections', env: 'FLEETPOLL_MAX_CONNECTIONS' },
  { path: 'poll.maxSessions' },
  { path: 'poll.maxConnectsPerSecond' },
  { path: 'ssh.hostKeyChecking', env: 'FLEETPOLL_HOST_KEY_CHECKING' },
  { path: 'ssh.knownHosts', env: 'FLEETPOLL_KNOWN_HOSTS' },
  { path: 'ssh.systemKnownHosts' },
  { path: 'ssh.user', env: 'FLEETPOLL_SSH_USER' },
  { path: 'ssh.port' },
  { path: 'ssh.identity', env: 'FLEETPOLL_SSH_IDENTITY' },
  { path: 'ssh.passphraseEnv' },
  { path: 'ssh.windowsPowerShell' },
  { path: 'ssh.keepaliveSeconds' },
  { path: 'ssh.connectionMaxAgeHours' },
  { path: 'winrm.powershell', env: 'FLEETPOLL_WINRM_POWERSHELL' },
  { path: 'winrm.useSsl' },
  { path: 'winrm.authentication' },
  { path: 'csv.delimiter', env: 'FLEETPOLL_CSV_DELIMITER' },
  { path: 'csv.decimal' },
  { path: 'log.level', env: 'FLEETPOLL_LOG_LEVEL' },
  { path: 'log.maxSizeMB' },
  { path: 'log.maxFiles' },
];

// Sections owned by later stages (alerts, report, http, history, serve, push, nats); accepted here, validated there.
const FOREIGN_SECTIONS = new Set(['alerts', 'smtp', 'report', 'http', 'history', 'serve', 'push', 'nats']);

type Raw = { value: unknown; source: string };

/** Builds the Config. Throws ConfigError listing every problem at once. */
export function loadConfig(flags: ConfigFlags, env: NodeJS.ProcessEnv, cwd: string, defaultUser: string): Config {
  const problems: string[] = [];
  const raw = new Map<string, Raw>();

  const explicitFile = flags.config ?? env.FLEETPOLL_CONFIG;
  const configFile = explicitFile !== undefined ? resolve(cwd, explicitFile) : resolve(cwd, DEFAULT_CONFIG_FILE);
  let fileUsed: string | null = null;
  let fileBase = cwd;
  let settingsFile: SettingsFileSections | null = null;
  if (existsSync(configFile)) {
    fileUsed = configFile;
    fileBase = dirname(configFile);
    settingsFile = readSettingsFile(configFile, raw, problems);
  } else if (explicitFile !== undefined) {
    problems.push(`${configFile}: settings file not found`);
  }

  for (const field of FIELDS) {
    if (field.env !== undefined && env[field.env] !== undefined && env[field.env] !== '') {
      raw.set(field.path, { value: env[field.env], source: `environment variable ${field.env}` });
    }
  }
  const flagMap: [keyof ConfigFlags, string, string][] = [
    ['inventory', 'inventory', '--inventory'],
    ['dataDir', 'dataDir', '--data-dir'],
    ['concurrency', 'poll.concurrency', '--concurrency'],
    ['timeout', 'poll.timeoutSeconds', '--timeout'],
    ['hostKeyChecking', 'ssh.hostKeyChecking', '--host-key-checking'],
    ['knownHosts', 'ssh.knownHosts', '--known-hosts'],
    ['delimiter', 'csv.delimiter', '--delimiter'],
    ['logLevel', 'log.level', '--log-level'],
  ];
  for (const [flag, path, name] of flagMap) {
    if (flags[flag] !== undefined) raw.set(path, { value: flags[flag], source: name });
  }

  const fromFile = (source: string): boolean => fileUsed !== null && source.startsWith(fileUsed);
  const pathValue = (path: string, fallback: string): string => {
    const r = raw.get(path);
    if (r === undefined) return resolve(cwd, expandHome(fallback));
    if (typeof r.value !== 'string' || r.value.trim() === '') {
      problems.push(`${r.source}: ${path} must be a non-empty path`);
      return fallback;
    }
    return resolve(fromFile(r.source) ? fileBase : cwd, expandHome(r.value.trim()));
  };
  const numberValue = (path: string, fallback: number, min: number, max: number, integer: boolean): number => {
    const r = raw.get(path);
    if (r === undefined) return fallback;
    const n = typeof r.value === 'number' ? r.value : typeof r.value === 'string' && r.value.trim() !== '' ? Number(r.value) : NaN;
    if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
      problems.push(
        `${r.source}: ${path} must be ${integer ? 'a whole number' : 'a number'} from ${min} to ${max} (got ${JSON.stringify(r.value)})`,
      );
      return fallback;
    }
    return n;
  };
  const choiceValue = <T extends string>(path: string, fallback: T, choices: readonly T[]): T => {
    const r = raw.get(path);
    if (r === undefined) return fallback;
    if (typeof r.value !== 'string' || !(choices as readonly string[]).includes(r.value)) {
      problems.push(`${r.source}: ${path} must be one of ${choices.map((c) => JSON.stringify(c)).join(', ')} (got ${JSON.stringify(r.value)})`);
      return fallback;
    }
    return r.value as T;
  };
  const stringValue = (path: string, fallback: string, pattern: RegExp, what: string): string => {
    const r = raw.get(path);
    if (r === undefined) return fallback;
    if (typeof r.value !== 'string' || !pattern.test(r.value)) {
      problems.push(`${r.source}: ${path} must be ${what} (got ${JSON.stringify(r.value)})`);
      return fallback;
    }
    return r.value;
  };

  const booleanValue = (path: string, fallback: boolean): boolean => {
    const r = raw.get(path);
    if (r === undefined) return fallback;
    if (typeof r.value === 'boolean') return r.value;
    if (typeof r.value === 'string' && /^(true|yes)$/i.test(r.value.trim())) return true;
    if (typeof r.value === 'string' && /^(false|no)$/i.test(r.value.trim())) return false;
    problems.push(`${r.source}: ${path} must be true or false (got ${JSON.stringify(r.value)})`);
    return fallback;
  };

  const delimiterRaw = raw.get('csv.delimiter');
  if (delimiterRaw !== undefined && delimiterRaw.value === 'tab') delimiterRaw.value = '\t';
  const delimiter = choiceValue('csv.delimiter', ',', [',', ';', '\t'] as const);
  const decimalSeparator = choiceValue('csv.decimal', delimiter === ';' ? ',' : '.', ['.', ','] as const);
  if (decimalSeparator === delimiter) problems.push('csv.decimal and csv.delimiter must differ');

  const identity = raw.get('ssh.identity');
  const config: Config = {
    configFile: fileUsed,
    inventoryPath: pathValue('inventory', 'inventory/servers.csv'),
    dataDir: pathValue('dataDir', 'data'),
    poll: {
      concurrency: numberValue('poll.concurrency', 50, 1, 10000, true),
      timeoutMs: Math.round(numberValue('poll.timeoutSeconds', 30, 1, 3600, false) * 1000),
      cpuWindowSec: numberValue('poll.cpuWindowSeconds', 1, 0.1, 30, false),
      topProcesses: numberValue('poll.topProcesses', 10, 1, 100, true),
      maxOutputBytes: Math.round(numberValue('poll.maxOutputMB', 4, 0.01, 256, false) * 1024 * 1024),
      retries: numberValue('poll.retries', 1, 0, 5, true),
      retryBackoffMs: Math.round(numberValue('poll.retryBackoffSeconds', 1, 0, 60, false) * 1000),
      maxConnections: raw.has('poll.maxConnections') ? numberValue('poll.maxConnections', 1, 1, 100000, true) : null,
      maxSessions: raw.has('poll.maxSessions') ? numberValue('poll.maxSessions', 1, 1, 100000, true) : null,
      maxConnectsPerSecond: numberValue('poll.maxConnectsPerSecond', DEFAULT_STARTS_PER_SECOND, 1, 100000, true),
    },
    ssh: {
      hostKeyChecking: choiceValue<HostKeyMode>('ssh.hostKeyChecking', 'strict', HOST_KEY_MODES),
      knownHostsPath: pathValue('ssh.knownHosts', DEFAULT_USER_KNOWN_HOSTS),
      systemKnownHostsPath: pathValue('ssh.systemKnownHosts', DEFAULT_SYSTEM_KNOWN_HOSTS),
      user: stringValue('ssh.user', defaultUser, /^[A-Za-z0-9_][A-Za-z0-9_.@\\-]{0,63}$/, 'an account name'),
      port: numberValue('ssh.port', 22, 1, 65535, true),
      identityPath: identity === undefined ? null : pathValue('ssh.identity', ''),
      passphraseEnv: stringValue('ssh.passphraseEnv', 'FLEETPOLL_KEY_PASSPHRASE', /^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name'),
      // It becomes part of the command line sent to the host: no spaces or shell characters.
      windowsPowerShell: stringValue('ssh.windowsPowerShell', 'powershell', /^[A-Za-z0-9_.:\\/][A-Za-z0-9_.:\\/-]*$/, 'a program name or path without spaces'),
      keepaliveMs: Math.round(numberValue('ssh.keepaliveSeconds', 30, 1, 3600, false) * 1000),
      connectionMaxAgeMs: Math.round(numberValue('ssh.connectionMaxAgeHours', 24, 0.01, 720, false) * 3600 * 1000),
    },
    winrm: {
      powershell: stringValue('winrm.powershell', process.platform === 'win32' ? 'powershell' : 'pwsh', /^[^\r\n]+$/, 'a program name or path'),
      useSsl: booleanValue('winrm.useSsl', false),
      authentication: choiceValue('winrm.authentication', 'default', ['default', 'negotiate', 'kerberos', 'credssp', 'basic'] as const),
    },
    csv: { delimiter, decimalSeparator },
    log: {
      level: choiceValue('log.level', 'info', ['error', 'warn', 'info', 'debug'] as const),
      maxSizeBytes: Math.round(numberValue('log.maxSizeMB', 10, 1, 10000, false) * 1024 * 1024),
      maxFiles: numberValue('log.maxFiles', 5, 1, 100, true),
    },
    smtp: parseSmtpSettings(settingsFile?.sections.smtp, settingsFile, env, problems, { fileBase, cwd }),
    alerts: parseAlertSettings(settingsFile?.sections.alerts, settingsFile, problems),
    report: parseReportSettings(settingsFile?.sections.report, settingsFile, env, problems, { fileBase, cwd }),
    http: parseHttpSettings(settingsFile?.sections.http, settingsFile, env, problems, { fileBase, cwd }),
    history: parseHistorySettings(settingsFile?.sections.history, settingsFile, problems, { fileBase, cwd }),
    serve: parseServeSettings(settingsFile?.sections.serve, settingsFile, env, problems),
    push: parsePushSettings(settingsFile?.sections.push, settingsFile, problems),
    nats: parseNatsSettings(settingsFile?.sections.nats, settingsFile, env, problems, { fileBase, cwd }),
  };
  if (config.poll.cpuWindowSec * 1000 >= config.poll.timeoutMs) {
    problems.push(`poll.cpuWindowSeconds (${config.poll.cpuWindowSec}) must be shorter than the timeout (${config.poll.timeoutMs / 1000} s)`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(config);
}

// Returns the file's foreign sections with key lines for their owners' validators (null if unreadable).
function readSettingsFile(file: string, raw: Map<string, Raw>, problems: string[]): SettingsFileSections | null {
  let text: string;
  let data: unknown;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    problems.push(`${file}: cannot read: ${(error as Error).message}`);
    return null;
  }
  try {
    data = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    problems.push(`${file}: not valid JSON: ${(error as Error).message}`);
    return null;
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    problems.push(`${file}: must hold a JSON object`);
    return null;
  }
  const foreign: Record<string, unknown> = {};
  const known = new Set(FIELDS.map((f) => f.path));
  const sections = new Set(FIELDS.map((f) => f.path.split('.')[0]));
  const walk = (obj: Record<string, unknown>, prefix: string): void => {
    for (const [key, value] of Object.entries(obj)) {
      const path = prefix === '' ? key : `${prefix}.${key}`;
      if (prefix === '' && FOREIGN_SECTIONS.has(key)) {
        foreign[key] = value;
        continue;
      }
      const at = `${file}:${lineOfKey(text, key)}`;
      if (known.has(path)) {
        raw.set(path, { value, source: at });
      } else if (value !== null && typeof value === 'object' && !Array.isArray(value) && sections.has(path)) {
        walk(value as Record<string, unknown>, path);
      } else {
        const candidates = [...known].filter((k) => k.startsWith(prefix === '' ? '' : `${prefix}.`));
        problems.push(`${at}: unknown setting "${path}" (known: ${candidates.join(', ')})`);
      }
    }
  };
  walk(data as Record<string, unknown>, '');
  return { file, lines: jsonPathLines(text.replace(/^\uFEFF/, '')), sections: foreign };
}

// JSON.parse gives no positions; the first occurrence of the quoted key is a good pointer.
function lineOfKey(text: string, key: string): number {
  const index = text.indexOf(`"${key}"`);
  return index < 0 ? 1 : text.slice(0, index).split('\n').length;
}

/** Resolves a key path from the inventory: `~` expanded, relative to the inventory file. */
export function resolveKeyPath(path: string, inventoryPath: string): string {
  const expanded = expandHome(path);
  return isAbsolute(expanded) ? expanded : resolve(dirname(inventoryPath), expanded);
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
