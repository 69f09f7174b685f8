// `fleetpoll alerts test` (send a sample digest) and `fleetpoll alerts status` (what is firing now).
import { hostname } from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { defaultUser } from '../inventory.js';
import { silentLog, type Log } from '../log.js';
import { isMailAddress, sendMail, type SendOutcome } from '../mail/smtp.js';
import { buildDigest, formatUtc } from './digest.js';
import { loadState, STATE_FILE } from './state.js';
import type { AlertEntry, Notification } from './types.js';

// Where command output goes (process.stdout/stderr in the CLI, buffers in tests).
export interface CommandIo {
  out(text: string): void;
  err(text: string): void;
}

// Exit codes of the alerts commands, as documented in the README.
export const ALERTS_EXIT = { ok: 0, failed: 1, notConfigured: 2 } as const;

/** Sends a sample digest to `to` (default: the alert recipients); 0 accepted, 1 SMTP error, 2 not configured. */
export async function alertsTest(
  config: Config,
  options: { readonly to?: readonly string[]; readonly env: NodeJS.ProcessEnv; readonly now?: Date; readonly log?: Log },
  io: CommandIo,
): Promise<number> {
  const smtp = config.smtp;
  if (smtp === null) {
    io.err('fleetpoll: smtp is not configured: add an "smtp" section to fleetpoll.config.json (or set FLEETPOLL_SMTP_HOST, _FROM and _TO); see docs/alerts.md\n');
    return ALERTS_EXIT.notConfigured;
  }
  const to = options.to !== undefined && options.to.length > 0 ? options.to : (config.alerts.to ?? smtp.to);
  if (to.length === 0) {
    io.err('fleetpoll: no recipients: alerts.to is empty; give --to <address>\n');
    return ALERTS_EXIT.notConfigured;
  }
  const now = options.now ?? new Date();
  const digest = buildDigest(sampleNotifications(now), { subjectPrefix: config.alerts.subjectPrefix, poller: hostname(), now, banner: 'TEST' });
  const outcome: SendOutcome = await sendMail(smtp, { to, ...digest }, options.log ?? silentLog, { env: options.env });
  const server = `${smtp.host}:${smtp.port} (${smtp.security})`;
  if (outcome.kind === 'failed') {
    io.err(`fleetpoll: test mail NOT sent through ${server}: ${outcome.reason}\n`);
    return ALERTS_EXIT.failed;
  }
  io.out(`fleetpoll: test mail accepted by ${server} for ${outcome.accepted.join(', ')}${outcome.messageId === '' ? '' : ` (message ${outcome.messageId})`}\n`);
  if (outcome.rejected.length > 0) io.err(`fleetpoll: the server refused these recipients: ${outcome.rejected.join(', ')}\n`);
  return ALERTS_EXIT.ok;
}

/** The sample digest's content: one of each kind of section, with made-up hosts. */
export function sampleNotifications(now: Date): Notification[] {
  const at = now.toISOString();
  const ago = (minutes: number): string => new Date(now.getTime() - minutes * 60_000).toISOString();
  const base = { mount: null, reason: null, firedAt: null, topProcesses: [], at } as const;
  return [
    {
      ...base,
      id: `test-cpu-${at}`,
      kind: 'firing',
      host: 'example-web01',
      rule: 'cpu',
      level: 'critical',
      value: 97.4,
      threshold: 95,
      since: ago(10),
      topProcesses: [
        { pid: 4242, user: 'app', name: 'java', cpuPct: 380.2, rssKb: 2_097_152 },
        { pid: 977, user: 'postgres', name: 'postgres', cpuPct: 12.5, rssKb: 524_288 },
      ],
    },
    { ...base, id: `test-down-${at}`, kind: 'firing', host: 'example-db02', rule: 'down', level: 'critical', value: null, threshold: null, reason: 'unreachable (connect): connect ECONNREFUSED 192.0.2.10:22', since: ago(10) },
    { ...base, id: `test-disk-${at}`, kind: 'resolved', host: 'example-files01', rule: 'disk', mount: '/var', level: 'warning', value: 71.3, threshold: 80, since: ago(125), firedAt: ago(115) },
  ];
}

/** Prints the firing alerts (and the mail queue); 0 when the state could be read, 1 otherwise. */
export async function alertsStatus(config: Config, options: { readonly json: boolean }, io: CommandIo): Promise<number> {
  const file = path.join(config.dataDir, STATE_FILE);
  let loaded;
  try {
    loaded = await loadState(file, { readOnly: true });
  } catch (error) {
    io.err(`fleetpoll: cannot read ${file}: ${(error as Error).message}\n`);
    return ALERTS_EXIT.failed;
  }
  if (loaded.kind === 'corrupt') {
    io.err(`fleetpoll: ${file} is unusable (${loaded.reason}); the next poll moves it aside and starts a new state\n`);
    return ALERTS_EXIT.failed;
  }
  const alerts = loaded.kind === 'ok' ? loaded.state.alerts : [];
  const queue = loaded.kind === 'ok' ? loaded.state.queue : [];
  const firing = alerts.filter((a) => a.phase === 'firing');
  const pending = alerts.filter((a) => a.phase === 'pending');
  if (options.json) {
    const report = {
      stateFile: file,
      firing: firing.map((a) => ({ host: a.host, rule: a.rule, mount: a.mount, level: a.level, value: a.value, threshold: a.threshold, reason: a.reason, since: a.since, firedAt: a.firedAt, adopted: a.adopted })),
      pending: pending.map((a) => ({ host: a.host, rule: a.rule, mount: a.mount, level: a.level, value: a.value, since: a.since, polls: a.heldPolls })),
      queue: queue.map((q) => ({ kind: q.notification.kind, host: q.notification.host, rule: q.notification.rule, mount: q.notification.mount, at: q.notification.at, recipients: q.recipients, attempts: q.attempts, lastError: q.lastError })),
    };
    io.out(`${JSON.stringify(report, null, 2)}\n`);
    return ALERTS_EXIT.ok;
  }
  if (loaded.kind === 'missing') {
    io.out(`No alert state yet (${file}): no poll has evaluated alerts.\n`);
    return ALERTS_EXIT.ok;
  }
  const lines: string[] = [];
  if (firing.length === 0) {
    lines.push('Nothing is firing.');
  } else {
    lines.push(`${firing.length} alert(s) firing:`);
    const rows = firing.map((a) => [a.host, ruleLabel(a), a.level, valueText(a), formatUtc(a.since) + (a.adopted ? ' (adopted)' : '')]);
    lines.push(...table(['HOST', 'RULE', 'LEVEL', 'VALUE', 'SINCE'], rows));
  }
  if (pending.length > 0) lines.push(`${pending.length} more over a threshold, not yet for long enough to fire.`);
  if (queue.length > 0) {
    const oldest = queue.map((q) => q.queuedAt).sort()[0] ?? '';
    const lastError = queue.find((q) => q.lastError !== null)?.lastError;
    lines.push(`${queue.length} notification(s) waiting for delivery since ${formatUtc(oldest)}${lastError === undefined ? '' : `; last error: ${lastError}`}.`);
  }
  io.out(`${lines.join('\n')}\n`);
  return ALERTS_EXIT.ok;
}

function ruleLabel(a: AlertEntry): string {
  return a.mount === null ? a.rule : `${a.rule} ${a.mount}`;
}

function valueText(a: AlertEntry): string {
  if (a.rule === 'down') return clip(a.reason ?? 'down', 60);
  if (a.value === null) return '';
  const v = a.rule === 'load' ? a.value.toFixed(2) : `${a.value.toFixed(1)}%`;
  const t = a.threshold === null ? '' : a.rule === 'load' ? ` (>= ${a.threshold})` : ` (>= ${a.threshold}%)`;
  return `${v}${t}`;
}

function table(header: string[], rows: string[][]): string[] {
  const clean = rows.map((r) => r.map((c) => c.replace(/[\u0000-\u001f\u007f]/g, ' ')));
  const widths = header.map((h, i) => Math.max(h.length, ...clean.map((r) => (r[i] ?? '').length)));
  const fmt = (r: string[]): string => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ');
  return [fmt(header), ...clean.map(fmt)];
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

// The flags of `fleetpoll alerts <action>`.
export interface AlertsArgs {
  readonly action: 'test' | 'status';
  readonly config?: string;
  readonly dataDir?: string;
  readonly to?: string[];
  readonly json: boolean;
}

/** Entry point of `fleetpoll alerts <action>` for the CLI; resolves to the exit code. */
export async function alertsCommand(args: AlertsArgs, env: NodeJS.ProcessEnv, cwd: string, io: CommandIo): Promise<number> {
  let config: Config;
  try {
    config = loadConfig({ config: args.config, dataDir: args.dataDir }, env, cwd, defaultUser());
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems) io.err(`fleetpoll: config: ${problem}\n`);
    return ALERTS_EXIT.notConfigured;
  }
  if (args.action === 'status') return alertsStatus(config, { json: args.json }, io);
  const bad = (args.to ?? []).filter((a) => !isMailAddress(a));
  if (bad.length > 0) {
    io.err(`fleetpoll: --to ${bad.map((a) => JSON.stringify(a)).join(', ')} is not an e-mail address\n`);
    return ALERTS_EXIT.notConfigured;
  }
  return alertsTest(config, { to: args.to, env }, io);
}
