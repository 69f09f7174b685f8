// Reads servers.csv into validated Host rows; every bad row is a file:line error.
import { readFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { parse } from 'csv-parse/sync';
import { DEFAULT_ZONE, type AuthSpec, type Host, type OsKind, type PushOptions, type TransportKind, type WinrmAuthentication, type WinrmOptions } from './model.js';

// A problem found in the inventory, tied to its line.
export interface InventoryIssue {
  readonly file: string;
  readonly line: number;
  readonly severity: 'error' | 'warning';
  readonly message: string;
}

export interface Inventory {
  readonly file: string;
  /** Valid rows, enabled or not. */
  readonly hosts: readonly Host[];
  readonly issues: readonly InventoryIssue[];
}

export interface InventoryDefaults {
  readonly user: string;
  /** SSH port. */
  readonly port: number;
  /** Defaults for transport=winrm rows whose winrm_ssl / winrm_auth cells are empty. */
  readonly winrmSsl?: boolean;
  readonly winrmAuthentication?: WinrmAuthentication;
  /** Default for transport=push rows whose push_interval cell is empty (push.intervalSeconds). */
  readonly pushIntervalSeconds?: number;
}

const TRANSPORTS: readonly TransportKind[] = ['ssh', 'winrm', 'local', 'push'];
// Bounds of a push host's interval (push_interval, push.intervalSeconds), seconds.
export const PUSH_INTERVAL_RANGE = { min: 10, max: 86_400 } as const;
// The push interval when neither the row nor the settings give one.
export const DEFAULT_PUSH_INTERVAL_SECONDS = 300;
const OSES: readonly OsKind[] = ['linux', 'windows'];
const WINRM_AUTHS: readonly WinrmAuthentication[] = ['default', 'negotiate', 'kerberos', 'credssp', 'basic'];
// WinRM's standard listener ports (HTTP, HTTPS).
const WINRM_PORT = 5985;
const WINRM_SSL_PORT = 5986;
// Columns the core reads; others are kept in `extra` for later stages (alert overrides).
const KNOWN_COLUMNS = new Set(['name', 'address', 'transport', 'port', 'user', 'auth', 'os', 'tags', 'enabled', 'winrm_ssl', 'winrm_auth', 'push_interval', 'zone']);
// Headers of the PowerShell-era servers.csv that admins already have.
const HEADER_ALIASES: Record<string, string> = {
  'server name': 'name',
  server: 'name',
  servername: 'name',
  host: 'name',
  hostname: 'address',
  ip: 'address',
  username: 'user',
};
// Columns that would hold a secret in plain text: refused, the secret is never read.
const SECRET_COLUMN = /^(pass(word)?|pwd|secret|passphrase|credential|token)s?$/;
const ENV_VAR = /^[A-Za-z_][A-Za-z0-9_]*$/;
const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.@:-]{0,252}$/;
// A hostname, IPv4 or IPv6 literal; no spaces, no leading dash (never mistaken for an option).
const ADDRESS = /^[A-Za-z0-9_:.[\]%-]+$/;
const USER = /^[A-Za-z0-9_][A-Za-z0-9_.@\\-]{0,63}$/;
// A zone is one token of a NATS subject (fleetpoll.jobs.<zone>): no dots, spaces, wildcards.
const ZONE = /^[A-Za-z0-9_][A-Za-z0-9_-]{0,62}$/;

// A record of the inventory with the physical line it ends on, as csv-parse's `info` gives it.
export interface InventoryRecord {
  readonly record: string[];
  readonly info: { readonly lines: number };
}

// Whitespace other than space and tab: where csv-parse's trimming might differ from String.trim.
const UNUSUAL_SPACE = /[^\S \t\r\n]/;

/**
 * The records csv-parse makes of `body` (trim, `#` comment lines, ragged rows) when the file has no
 * quotes, consistent line breaks and no unusual whitespace; null otherwise. Parsed cold, as every
 * scheduled run does, csv-parse costs ~20 ms of CPU for a few hundred rows (3 % of a 200-host poll),
 * a split of the lines well under 1 ms; a test checks that both give the same records.
 */
export function splitPlainRecords(body: string, delimiter: string): InventoryRecord[] | null {
  if (body.includes('"') || UNUSUAL_SPACE.test(body)) return null;
  const crlf = body.includes('\r');
  const lines = body.split(crlf ? '\r\n' : '\n');
  // CRLF files only when every line break is CRLF (a lone CR or LF is left to csv-parse).
  if (crlf && lines.some((line) => line.includes('\r') || line.includes('\n'))) return null;
  // A final line break ends the last record; it does not start another. Nor does blank space after it.
  const last = lines[lines.length - 1];
  if (last !== undefined && last.trim() === '' && !last.includes(delimiter)) lines.pop();
  const records: InventoryRecord[] = [];
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i] as string;
    // A comment line may be indented, but not by the delimiter itself (a tab-separated file's empty first cell).
    let start = 0;
    while ((line[start] === ' ' || line[start] === '\t') && line[start] !== delimiter) start += 1;
    if (line[start] === '#') continue;
    records.push({ record: line.split(delimiter).map((field) => field.trim()), info: { lines: i + 1 } });
  }
  return records;
}

/** Reads and validates an inventory file. Throws only when the file itself cannot be read. */
export async function loadInventory(file: string, defaults: InventoryDefaults, env: NodeJS.ProcessEnv): Promise<Inventory> {
  const text = await readFile(file, 'utf8');
  return parseInventory(text, file, defaults, env);
}

/** Default SSH user: the account running the poller, as ssh(1) does. */
export function defaultUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'root';
  }
}

/** Parses inventory text. Pure apart from reading `env` to check password variables exist. */
export function parseInventory(text: string, file: string, defaults: InventoryDefaults, env: NodeJS.ProcessEnv): Inventory {
  const issues: InventoryIssue[] = [];
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const lines = body.split(/\r?\n/);
  // The header is the first line that is neither blank nor a comment.
  const headerIndex0 = lines.findIndex((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
  if (headerIndex0 < 0) {
    issues.push({ file, line: 1, severity: 'error', message: 'no header row: expected at least a "name" column' });
    return { file, hosts: [], issues };
  }
  const headerLine = lines[headerIndex0] ?? '';
  const delimiter = detectDelimiter(headerLine);

  // `info` maps each record back to its physical line: comment and blank lines are dropped.
  let infos: InventoryRecord[];
  try {
    infos = splitPlainRecords(body, delimiter) ?? (parse(body, {
      delimiter,
      relax_column_count: true,
      trim: true,
      comment: '#',
      comment_no_infix: true,
      info: true,
    }) as unknown as InventoryRecord[]);
  } catch (error) {
    const e = error as { lines?: number; message: string };
    issues.push({ file, line: e.lines ?? 0, severity: 'error', message: `not valid CSV: ${e.message}` });
    return { file, hosts: [], issues };
  }
  const records = infos.map((r) => r.record);
  const lineOf = (i: number): number => (infos[i]?.info.lines ?? i + 1);

  const firstNonBlank = records.findIndex((r) => r.some((c) => c !== ''));
  if (firstNonBlank < 0) {
    issues.push({ file, line: 1, severity: 'error', message: 'no header row: expected at least a "name" column' });
    return { file, hosts: [], issues };
  }
  const headerIndex = firstNonBlank;
  const headerLineNo = lineOf(headerIndex);
  const header = (records[headerIndex] ?? []).map((h) => normaliseHeader(h));

  const columnIndex = new Map<string, number>();
  const secretColumns: number[] = [];
  header.forEach((name, i) => {
    if (name === '') return;
    if (SECRET_COLUMN.test(name)) {
      secretColumns.push(i);
      issues.push({
        file,
        line: headerLineNo,
        severity: 'error',
        message: `column "${name}" looks like a plain-text password; its values are ignored. Remove it and use auth=password-env:<VAR> (or a key)`,
      });
      return;
    }
    if (columnIndex.has(name)) {
      issues.push({ file, line: headerLineNo, severity: 'error', message: `column "${name}" appears twice` });
      return;
    }
    columnIndex.set(name, i);
    if (!KNOWN_COLUMNS.has(name) && !/^[a-z][a-z0-9_]*$/.test(name)) {
      issues.push({ file, line: headerLineNo, severity: 'warning', message: `column "${name}" is not a known column and is ignored` });
    }
  });
  if (!columnIndex.has('name')) {
    issues.push({
      file,
      line: headerLineNo,
      severity: 'error',
      message: `no "name" column (found: ${header.filter((h) => h !== '').join(', ') || 'nothing'})`,
    });
    return { file, hosts: [], issues };
  }

  const hosts: Host[] = [];
  const seen = new Map<string, number>();
  for (let i = headerIndex + 1; i < records.length; i += 1) {
    const record = records[i] ?? [];
    if (record.every((c) => c === '')) continue;
    const line = lineOf(i);
    const get = (column: string): string => {
      const idx = columnIndex.get(column);
      return idx === undefined ? '' : (record[idx] ?? '').trim();
    };
    const rowErrors: string[] = [];
    if (record.length > header.length && record.slice(header.length).some((c) => c !== '')) {
      rowErrors.push(`${record.length} fields but the header has ${header.length} (a stray "${delimiter}"?)`);
    }
    for (const idx of secretColumns) {
      if ((record[idx] ?? '') !== '') {
        issues.push({ file, line, severity: 'warning', message: 'a value in a password column was ignored; remove it from the file' });
      }
    }
    const rowWarnings: string[] = [];
    const host = parseRow(get, line, defaults, env, rowErrors, record, header, rowWarnings);
    for (const message of rowWarnings) issues.push({ file, line, severity: 'warning', message });
    if (host !== null && rowErrors.length === 0) {
      const key = host.name.toLowerCase();
      const previous = seen.get(key);
      if (previous !== undefined) {
        rowErrors.push(`duplicate name "${host.name}" (first defined on line ${previous})`);
      } else {
        seen.set(key, line);
        hosts.push(host);
      }
    }
    for (const message of rowErrors) issues.push({ file, line, severity: 'error', message });
  }
  return { file, hosts, issues };
}

function parseRow(
  get: (column: string) => string,
  line: number,
  defaults: InventoryDefaults,
  env: NodeJS.ProcessEnv,
  errors: string[],
  record: string[],
  header: string[],
  warnings: string[] = [],
): Host | null {
  const name = get('name');
  if (name === '') {
    errors.push('empty name');
    return null;
  }
  if (!NAME.test(name)) errors.push(`name "${clip(name)}" has characters other than letters, digits and _ . @ : -`);

  // Windows hosts speak PowerShell remoting (WinRM) unless the row says ssh.
  const osText = get('os').toLowerCase() || 'linux';
  const transportText = get('transport').toLowerCase() || (osText === 'windows' ? 'winrm' : 'ssh');
  if (!(TRANSPORTS as readonly string[]).includes(transportText)) {
    errors.push(`unknown transport "${clip(transportText)}" (expected ${listOf(TRANSPORTS)})`);
  }
  const transport = transportText as TransportKind;

  const address = get('address') || name;
  if (!ADDRESS.test(address) || address.startsWith('-')) errors.push(`address "${clip(address)}" is not a host name or IP address`);

  const winrm = transport === 'winrm' ? parseWinrm(get, defaults, errors) : undefined;
  if (transport !== 'winrm') {
    for (const column of ['winrm_ssl', 'winrm_auth']) {
      if (get(column) !== '') warnings.push(`${column} applies to transport=winrm only; ignored for transport=${transportText}`);
    }
  }

  const push = transport === 'push' ? parsePush(get, defaults, errors) : undefined;
  if (transport !== 'push' && get('push_interval') !== '') {
    warnings.push(`push_interval applies to transport=push only; ignored for transport=${transportText}`);
  }

  let port = winrm === undefined ? defaults.port : winrm.useSsl ? WINRM_SSL_PORT : WINRM_PORT;
  const portText = get('port');
  if (portText !== '') {
    if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
      errors.push(`port "${clip(portText)}" is not a number from 1 to 65535`);
    } else {
      port = Number(portText);
    }
  }

  const user = get('user') || defaults.user;
  if (!USER.test(user)) errors.push(`user "${clip(user)}" is not a valid account name`);

  const auth = parseAuth(get('auth'), env, errors);

  if (!(OSES as readonly string[]).includes(osText)) errors.push(`unknown os "${clip(osText)}" (expected ${listOf(OSES)})`);
  if (transport === 'winrm' && osText === 'linux') errors.push('transport winrm polls Windows hosts: set os=windows (or use transport=ssh)');
  if (transport === 'push' && get('auth') !== '') {
    warnings.push('auth is not used by transport=push: the host proves itself with its push token ("fleetpoll token create <name>"); ignored');
  }
  if (transport === 'local' && osText === 'windows') errors.push('transport local runs the Linux probe on this machine: os=windows is not supported with it');
  if (transport === 'winrm' && (auth.kind === 'agent' || auth.kind === 'key')) {
    errors.push(`auth ${auth.kind === 'key' ? 'key:<path>' : 'agent'} is for SSH; for winrm use password-env:<VAR>, or leave it empty to use the poller's own Windows identity`);
  }

  const zone = get('zone') || DEFAULT_ZONE;
  if (!ZONE.test(zone)) errors.push(`zone "${clip(zone)}" must be letters, digits, _ and - (at most 63, no dots or spaces)`);

  const tags = get('tags')
    .split(/[\s,;|]+/)
    .filter((t) => t !== '');

  let enabled = true;
  const enabledText = get('enabled').toLowerCase();
  if (['', 'yes', 'y', 'true', '1', 'on'].includes(enabledText)) enabled = true;
  else if (['no', 'n', 'false', '0', 'off'].includes(enabledText)) enabled = false;
  else errors.push(`enabled "${clip(enabledText)}" is not yes or no`);

  const extra: Record<string, string> = {};
  header.forEach((column, i) => {
    if (column !== '' && !KNOWN_COLUMNS.has(column) && !SECRET_COLUMN.test(column)) extra[column] = (record[i] ?? '').trim();
  });

  return {
    name,
    address,
    transport,
    port,
    user,
    auth,
    os: osText as OsKind,
    tags,
    enabled,
    line,
    extra,
    ...(winrm === undefined ? {} : { winrm }),
    ...(push === undefined ? {} : { push }),
    zone,
  };
}

// push_interval of a transport=push row (seconds between the host's pushes), with the settings' default.
function parsePush(get: (column: string) => string, defaults: InventoryDefaults, errors: string[]): PushOptions {
  const text = get('push_interval');
  const { min, max } = PUSH_INTERVAL_RANGE;
  if (text === '') return { intervalSeconds: defaults.pushIntervalSeconds ?? DEFAULT_PUSH_INTERVAL_SECONDS };
  if (!/^\d{1,6}$/.test(text) || Number(text) < min || Number(text) > max) {
    errors.push(`push_interval "${clip(text)}" is not a whole number of seconds from ${min} to ${max} (how often the host pushes)`);
    return { intervalSeconds: defaults.pushIntervalSeconds ?? DEFAULT_PUSH_INTERVAL_SECONDS };
  }
  return { intervalSeconds: Number(text) };
}

// winrm_ssl and winrm_auth of a transport=winrm row, with the settings' defaults.
function parseWinrm(get: (column: string) => string, defaults: InventoryDefaults, errors: string[]): WinrmOptions {
  let useSsl = defaults.winrmSsl ?? false;
  const sslText = get('winrm_ssl').toLowerCase();
  if (['yes', 'y', 'true', '1', 'on'].includes(sslText)) useSsl = true;
  else if (['no', 'n', 'false', '0', 'off'].includes(sslText)) useSsl = false;
  else if (sslText !== '') errors.push(`winrm_ssl "${clip(sslText)}" is not yes or no`);

  let authentication = defaults.winrmAuthentication ?? 'default';
  const authText = get('winrm_auth').toLowerCase();
  if ((WINRM_AUTHS as readonly string[]).includes(authText)) authentication = authText as WinrmAuthentication;
  else if (authText !== '') errors.push(`winrm_auth "${clip(authText)}" is not one of ${listOf(WINRM_AUTHS)}`);
  if (authentication === 'basic' && !useSsl) {
    errors.push('winrm_auth=basic over HTTP would send the password readable on the network: set winrm_ssl=yes');
  }
  return { useSsl, authentication };
}

// "a, b or c", for the lists of accepted values in messages.
function listOf(values: readonly string[]): string {
  return values.length <= 1 ? values.join('') : `${values.slice(0, -1).join(', ')} or ${values[values.length - 1]}`;
}

function parseAuth(text: string, env: NodeJS.ProcessEnv, errors: string[]): AuthSpec {
  if (text === '') return { kind: 'default' };
  if (text === 'agent') return { kind: 'agent' };
  if (text.startsWith('key:')) {
    const path = text.slice(4).trim();
    if (path === '') errors.push('auth "key:" needs a path, e.g. key:~/.ssh/id_ed25519');
    return { kind: 'key', path };
  }
  if (text.startsWith('password-env:')) {
    const envVar = text.slice('password-env:'.length).trim();
    if (!ENV_VAR.test(envVar)) {
      errors.push(`auth "password-env:${clip(envVar)}" must name an environment variable (letters, digits, _)`);
    } else if (env[envVar] === undefined) {
      errors.push(`auth names environment variable ${envVar}, which is not set`);
    }
    return { kind: 'password-env', envVar };
  }
  if (/^(password|pass|pwd)\s*[:=]/i.test(text)) {
    errors.push('auth holds a plain-text password; put it in an environment variable and write auth=password-env:<VAR>');
    return { kind: 'default' };
  }
  errors.push(`unknown auth "${clip(text)}" (expected agent, key:<path> or password-env:<VAR>)`);
  return { kind: 'default' };
}

function normaliseHeader(raw: string): string {
  const name = raw.trim().toLowerCase().replace(/\s+/g, ' ');
  return HEADER_ALIASES[name] ?? name.replace(/ /g, '_');
}

// Excel saves "CSV" with ';' in locales that use a decimal comma.
function detectDelimiter(headerLine: string): string {
  const counts = [',', ';', '\t'].map((d) => [d, headerLine.split(d).length - 1] as const);
  counts.sort((a, b) => b[1] - a[1]);
  const best = counts[0];
  return best !== undefined && best[1] > 0 ? best[0] : ',';
}

function clip(value: string): string {
  return value.length > 60 ? `${value.slice(0, 57)}...` : value;
}

/** Matches `--only` selectors: names or globs (`web*`), or `tag:<tag>`; case-insensitive. */
export function selectHosts(hosts: readonly Host[], selectors: readonly string[]): Host[] {
  if (selectors.length === 0) return [...hosts];
  const matchers = selectors.map((s) => {
    if (s.toLowerCase().startsWith('tag:')) {
      const re = globToRegExp(s.slice(4));
      return (h: Host) => h.tags.some((t) => re.test(t));
    }
    const re = globToRegExp(s);
    return (h: Host) => re.test(h.name) || re.test(h.address);
  });
  return hosts.filter((h) => matchers.some((m) => m(h)));
}

function globToRegExp(glob: string): RegExp {
  const body = glob
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.|+()[\]{}]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`, 'i');
}
