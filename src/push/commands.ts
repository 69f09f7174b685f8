// `fleetpoll token create|list|revoke` (per-host push tokens, shown once, kept as hashes) and
// `fleetpoll push-script <name>` (the lines to paste on a push host: its probe, cron or Task Scheduler).
import { hostname } from 'node:os';
import { ConfigError, loadConfig, type Config, type ConfigFlags } from '../config.js';
import { defaultUser } from '../inventory.js';
import type { Host } from '../model.js';
import { loadPollInventory } from '../run-poll.js';
import { buildPushProbe, psQuote, shQuote } from './probe.js';
import { hashToken, newToken, readTokens, TokenFileError, tokensPath, writeTokens } from './tokens.js';

// Where command output goes (process.stdout/stderr in the CLI, buffers in tests).
export interface PushCommandIo {
  out(text: string): void;
  err(text: string): void;
}

// The flags of `fleetpoll token` and `fleetpoll push-script`.
export interface PushCommandArgs {
  readonly action?: string;
  readonly name?: string;
  readonly config?: string;
  readonly inventory?: string;
  readonly dataDir?: string;
  readonly replace?: boolean;
  readonly url?: string;
  readonly probe?: boolean;
}

// Exit codes: 0 done, 2 bad settings, name or action, 4 the token file cannot be read or written.
export const PUSH_EXIT = { ok: 0, usage: 2, internal: 4 } as const;

/** Runs `fleetpoll token <action> [name]`; resolves to the exit code. */
export async function tokenCommand(args: PushCommandArgs, env: NodeJS.ProcessEnv, cwd: string, io: PushCommandIo): Promise<number> {
  const config = settings(args, env, cwd, io);
  if (config === null) return PUSH_EXIT.usage;
  try {
    const tokens = new Map(await readTokens(config.dataDir));
    switch (args.action) {
      case 'list': {
        const push = await pushHosts(config, env);
        if (tokens.size === 0) io.err('fleetpoll: no push token yet ("fleetpoll token create <name>")\n');
        for (const entry of [...tokens.values()].sort((a, b) => a.host.localeCompare(b.host))) {
          const note = push === null || push.has(entry.host.toLowerCase()) ? '' : '\t(not a transport=push host in servers.csv: its pushes are refused; revoke it?)';
          io.out(`${entry.host}\tcreated ${entry.createdAt}${note}\n`);
        }
        for (const host of push?.values() ?? []) {
          if (!tokens.has(host.name.toLowerCase())) io.out(`${host.name}\tno token: its pushes are refused ("fleetpoll token create ${host.name}")\n`);
        }
        return PUSH_EXIT.ok;
      }
      case 'create': {
        const host = await requirePushHost(config, env, args.name, io);
        if (host === null) return PUSH_EXIT.usage;
        const key = host.name.toLowerCase();
        if (tokens.has(key) && args.replace !== true) {
          io.err(`fleetpoll: ${host.name} already has a push token (created ${tokens.get(key)?.createdAt}): give --replace to make a new one (the old one stops working), or "fleetpoll token revoke ${host.name}"\n`);
          return PUSH_EXIT.usage;
        }
        const token = newToken();
        tokens.set(key, { host: host.name, sha256: hashToken(token), createdAt: new Date().toISOString() });
        await writeTokens(config.dataDir, tokens);
        io.out(`${token}\n`);
        io.err(`fleetpoll: push token for ${host.name} saved as a hash in ${tokensPath(config.dataDir)}; it is shown only this once: put it on the host now ("fleetpoll push-script ${host.name}" shows how)\n`);
        return PUSH_EXIT.ok;
      }
      case 'revoke': {
        const name = args.name ?? '';
        const entry = tokens.get(name.toLowerCase());
        if (entry === undefined) {
          io.err(`fleetpoll: no push token for ${JSON.stringify(name)} ("fleetpoll token list" shows them)\n`);
          return PUSH_EXIT.usage;
        }
        tokens.delete(name.toLowerCase());
        await writeTokens(config.dataDir, tokens);
        io.out(`fleetpoll: push token of ${entry.host} revoked: its next push is refused (401)\n`);
        return PUSH_EXIT.ok;
      }
      default:
        io.err(`fleetpoll: unknown token action ${JSON.stringify(args.action ?? '')} (create, list or revoke)\n`);
        return PUSH_EXIT.usage;
    }
  } catch (error) {
    if (!(error instanceof TokenFileError) && !(error instanceof Error && 'code' in error)) throw error;
    io.err(`fleetpoll: ${(error as Error).message}\n`);
    return PUSH_EXIT.internal;
  }
}

/** Runs `fleetpoll push-script <name>`: the walk-through, or with --probe the probe file itself. */
export async function pushScriptCommand(args: PushCommandArgs, env: NodeJS.ProcessEnv, cwd: string, io: PushCommandIo): Promise<number> {
  const config = settings(args, env, cwd, io);
  if (config === null) return PUSH_EXIT.usage;
  const host = await requirePushHost(config, env, args.name, io);
  if (host === null) return PUSH_EXIT.usage;
  const base = args.url ?? defaultBaseUrl(config);
  if (!/^https?:\/\/[^\s/'"`$\\]+$/.test(base)) {
    io.err(`fleetpoll: --url must be the poller's address as the host reaches it, such as https://poller.example.net:8443 (got ${JSON.stringify(base)})\n`);
    return PUSH_EXIT.usage;
  }
  const url = `${base}/api/v1/ingest/${encodeURIComponent(host.name)}`;
  const params = { cpuWindowSec: config.poll.cpuWindowSec, topProcesses: config.poll.topProcesses };
  if (args.probe === true) {
    io.out(buildPushProbe(host.os, params, host.os === 'windows' ? { url, tokenFile: WINDOWS_TOKEN_FILE } : null));
    return PUSH_EXIT.ok;
  }
  if (base.startsWith('http:')) {
    io.err('fleetpoll: warning: plain HTTP: the push token and the host\'s data travel in clear; set http.tls.certFile and http.tls.keyFile (docs/service.md#https)\n');
  }
  io.out(host.os === 'windows' ? windowsLines(host, url) : linuxLines(host, url));
  return PUSH_EXIT.ok;
}

// Where the walk-through puts things on a host.
const LINUX_DIR = '/opt/fleetpoll';
const WINDOWS_DIR = 'C:\\ProgramData\\fleetpoll';
const WINDOWS_TOKEN_FILE = `${WINDOWS_DIR}\\push-token`;

function linuxLines(host: Host, url: string): string {
  const interval = host.push?.intervalSeconds ?? 300;
  const name = shQuote(host.name);
  return [
    `# Push setup for ${host.name} (transport=push, Linux, every ${interval} s) -> ${url}`,
    '#',
    '# 1. On the poller: the token (printed once) and the probe for this host:',
    `fleetpoll token create ${name}`,
    `fleetpoll push-script ${name} --probe > probe.sh`,
    '#',
    `# 2. On the host, as root: copy probe.sh to ${LINUX_DIR}/probe.sh (scp, your configuration management),`,
    '#    and the poller\'s CA certificate if it is not in the system store (then add --cacert <file> to curl).',
    '#    The token goes in a header file only root reads, so it is never on a command line or in the crontab:',
    `install -d -m 700 ${LINUX_DIR}`,
    `(umask 077; printf 'Authorization: Bearer %s\\n' 'PASTE-THE-TOKEN-HERE' > ${LINUX_DIR}/push-auth)`,
    '#',
    '# 3. Try it once (the answer is {"status":"accepted",...}), then add the crontab line (crontab -e as root):',
    `sh ${LINUX_DIR}/probe.sh | curl -sS --fail-with-body --max-time 60 --data-binary @- -H @${LINUX_DIR}/push-auth -H 'Content-Type: text/plain' ${url}`,
    `${cronSchedule(interval)} sh ${LINUX_DIR}/probe.sh | curl -sS --fail --max-time 60 --data-binary @- -H @${LINUX_DIR}/push-auth -H 'Content-Type: text/plain' ${url} >/dev/null`,
    '',
  ].join('\n');
}

function windowsLines(host: Host, url: string): string {
  const interval = host.push?.intervalSeconds ?? 300;
  const script = `${WINDOWS_DIR}\\push.ps1`;
  return [
    `# Push setup for ${host.name} (transport=push, Windows, every ${interval} s) -> ${url}`,
    '#',
    '# 1. On the poller: the token (printed once) and push.ps1 (the probe and the Invoke-RestMethod that sends it):',
    `fleetpoll token create ${shQuote(host.name)}`,
    `fleetpoll push-script ${shQuote(host.name)} --probe > push.ps1`,
    '#',
    `# 2. On the host, in PowerShell as Administrator: copy push.ps1 to ${WINDOWS_DIR}, and store the token`,
    '#    where only SYSTEM and Administrators read it. If the poller\'s certificate is not from a CA the host',
    '#    trusts: Import-Certificate -FilePath poller-ca.cer -CertStoreLocation Cert:\\LocalMachine\\Root',
    `New-Item -ItemType Directory -Force ${psQuote(WINDOWS_DIR)} | Out-Null`,
    `Set-Content -LiteralPath ${psQuote(WINDOWS_TOKEN_FILE)} -Value 'PASTE-THE-TOKEN-HERE' -NoNewline`,
    `icacls ${WINDOWS_DIR} /inheritance:r /grant:r 'SYSTEM:(OI)(CI)F' 'Administrators:(OI)(CI)F'`,
    '#',
    '# 3. Try it once, then register the task (every interval, as SYSTEM):',
    `powershell.exe -NoProfile -ExecutionPolicy Bypass -File ${script}`,
    `$action = New-ScheduledTaskAction -Execute 'powershell.exe' -Argument '-NoProfile -NonInteractive -ExecutionPolicy Bypass -File ${script}'`,
    `$trigger = New-ScheduledTaskTrigger -Once -At (Get-Date) -RepetitionInterval (New-TimeSpan -Seconds ${interval})`,
    `$settings = New-ScheduledTaskSettingsSet -ExecutionTimeLimit (New-TimeSpan -Minutes 2) -MultipleInstances IgnoreNew`,
    "Register-ScheduledTask -TaskName 'fleetpoll push' -Action $action -Trigger $trigger -Settings $settings -User 'SYSTEM' -RunLevel Highest",
    '',
  ].join('\n');
}

/** The cron schedule closest to an interval in seconds (cron counts whole minutes). */
export function cronSchedule(intervalSeconds: number): string {
  const minutes = Math.max(1, Math.round(intervalSeconds / 60));
  if (minutes === 1) return '* * * * *';
  if (minutes < 60 && 60 % minutes === 0) return `*/${minutes} * * * *`;
  if (minutes % 60 === 0 && minutes < 1440 && 24 % (minutes / 60) === 0) return `0 */${minutes / 60} * * *`;
  if (minutes === 1440) return '0 0 * * *';
  // Not a step cron can express: the nearest divisor of the hour that is not longer (never too quiet).
  const step = [30, 20, 15, 12, 10, 6, 5, 4, 3, 2, 1].find((m) => m <= minutes) ?? 1;
  return `*/${step} * * * *`;
}

// The poller's URL as the walk-through shows it: this machine's name and the configured port.
function defaultBaseUrl(config: Config): string {
  return `${config.http.tls === null ? 'http' : 'https'}://${hostname()}:${config.http.port}`;
}

function settings(args: PushCommandArgs, env: NodeJS.ProcessEnv, cwd: string, io: PushCommandIo): Config | null {
  const flags: ConfigFlags = { config: args.config, inventory: args.inventory, dataDir: args.dataDir };
  try {
    return loadConfig(flags, env, cwd, defaultUser());
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems) io.err(`fleetpoll: config: ${problem}\n`);
    return null;
  }
}

// The inventory's push hosts by lower-cased name; null when the inventory cannot be read.
async function pushHosts(config: Config, env: NodeJS.ProcessEnv): Promise<Map<string, Host> | null> {
  const loaded = await loadPollInventory(config, env);
  if (loaded.kind === 'invalid') return null;
  return new Map(loaded.value.inventory.hosts.filter((h) => h.transport === 'push').map((h) => [h.name.toLowerCase(), h]));
}

async function requirePushHost(config: Config, env: NodeJS.ProcessEnv, name: string | undefined, io: PushCommandIo): Promise<Host | null> {
  if (name === undefined || name === '') {
    io.err('fleetpoll: give the host\'s name as in servers.csv\n');
    return null;
  }
  const loaded = await loadPollInventory(config, env);
  if (loaded.kind === 'invalid') {
    for (const problem of loaded.problems) io.err(`fleetpoll: ${problem}\n`);
    return null;
  }
  const host = loaded.value.inventory.hosts.find((h) => h.name.toLowerCase() === name.toLowerCase());
  if (host === undefined) {
    const bad = loaded.value.inventory.issues.find((i) => i.severity === 'error');
    io.err(`fleetpoll: no host named ${JSON.stringify(name)} in ${config.inventoryPath}${bad === undefined ? '' : ` (its row may be one of the bad ones: line ${bad.line}: ${bad.message})`}\n`);
    return null;
  }
  if (host.transport !== 'push') {
    io.err(`fleetpoll: ${host.name} is transport=${host.transport} in ${config.inventoryPath}:${host.line}: push tokens and scripts are for transport=push hosts (docs/push.md)\n`);
    return null;
  }
  return host;
}
