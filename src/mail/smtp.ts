// API: parseSmtpSettings(section, file, env, problems, dirs) -> SmtpSettings | null (Config.smtp);
// sendMail(settings, {to, subject, text, html, attachments?}, log, {env?, signal?}) -> SendOutcome, never throws.
import { readFileSync } from 'node:fs';
import type nodemailer from 'nodemailer';
import type { Log } from '../log.js';
import { SectionReader, type SettingsFileText } from '../settings-section.js';

// How the connection is protected: STARTTLS (required, never silently skipped), TLS from the first byte, or none.
export type SmtpSecurity = 'starttls' | 'tls' | 'none';

// Validated `smtp` settings; the password itself is never held here, only the variable that has it.
export interface SmtpSettings {
  readonly host: string;
  readonly port: number;
  readonly security: SmtpSecurity;
  /** Null: no AUTH. The password is read from `passwordEnv` at send time. */
  readonly auth: { readonly user: string; readonly passwordEnv: string } | null;
  /** Envelope and header sender, e.g. `fleetpoll <fleetpoll@example.com>`. */
  readonly from: string;
  /** Default recipients (alerts and reports). */
  readonly to: readonly string[];
  /** TCP connect and server greeting, each. */
  readonly connectTimeoutMs: number;
  /** Upper bound on one whole send (connect to the server's final reply). */
  readonly timeoutMs: number;
  /** PEM file of an extra CA to trust (an internal relay's certificate); null = system CAs only. */
  readonly caFile: string | null;
}

// One message to send; `html` and `text` are two parts of the same content.
export interface MailMessage {
  readonly to: readonly string[];
  readonly subject: string;
  readonly text: string;
  readonly html: string;
  readonly attachments?: readonly MailAttachment[];
  /** The Message-ID header (with its angle brackets); default: one nodemailer makes up. */
  readonly messageId?: string;
}

// A file attached to a message.
export interface MailAttachment {
  readonly filename: string;
  readonly content: string | Buffer;
  readonly contentType?: string;
}

// What became of one send: accepted by the server (maybe not for every recipient), or failed with why.
export type SendOutcome =
  | { readonly kind: 'sent'; readonly messageId: string; readonly accepted: readonly string[]; readonly rejected: readonly string[]; readonly response: string }
  | { readonly kind: 'failed'; readonly reason: string; readonly code: string | null; readonly responseCode: number | null };

// Environment variables that override the settings file, as documented in the README.
export const SMTP_ENV = {
  host: 'FLEETPOLL_SMTP_HOST',
  port: 'FLEETPOLL_SMTP_PORT',
  security: 'FLEETPOLL_SMTP_SECURITY',
  user: 'FLEETPOLL_SMTP_USER',
  from: 'FLEETPOLL_SMTP_FROM',
  to: 'FLEETPOLL_SMTP_TO',
} as const;

/** Name of the variable holding the SMTP password unless smtp.passwordEnv says otherwise. */
export const DEFAULT_PASSWORD_ENV = 'FLEETPOLL_SMTP_PASSWORD';

const KEYS = ['host', 'port', 'security', 'user', 'passwordEnv', 'from', 'to', 'connectTimeoutSeconds', 'timeoutSeconds', 'caFile'];
const DEFAULT_PORT: Record<SmtpSecurity, number> = { starttls: 587, tls: 465, none: 25 };
// A host name or an IP literal; no spaces, no leading dash.
const HOST = /^[A-Za-z0-9_:.[\]%-]+$/;
const ADDRESS = /^[^\s@<>,;"()]+@[^\s@<>,;"()]+$/;
// `addr@example.com` or `Display Name <addr@example.com>`.
const SENDER = /^(?:[^<>\r\n"]*<[^\s@<>,;"()]+@[^\s@<>,;"()]+>|[^\s@<>,;"()]+@[^\s@<>,;"()]+)$/;
const ENV_VAR = /^[A-Za-z_][A-Za-z0-9_]*$/;
const USER = /^[^\s]{1,256}$/;

/** True when `text` is a bare e-mail address as fleetpoll accepts it in `to` lists and `alert_to`. */
export function isMailAddress(text: string): boolean {
  return ADDRESS.test(text);
}

// Directories relative paths are resolved against.
export interface SettingsDirs {
  /** The settings file's directory (cwd when there is no file). */
  readonly fileBase: string;
  readonly cwd: string;
}

/**
 * Validates the `smtp` section (undefined when the file has none) plus FLEETPOLL_SMTP_*
 * variables. Returns null when SMTP is not configured at all (no section, no host variable).
 * Problems are pushed in config.ts's style; the result is then only a placeholder.
 */
export function parseSmtpSettings(
  section: unknown,
  file: SettingsFileText | null,
  env: NodeJS.ProcessEnv,
  problems: string[],
  dirs: SettingsDirs,
): SmtpSettings | null {
  const r = new SectionReader('smtp', section, file, problems);
  for (const [key, envVar] of Object.entries(SMTP_ENV)) r.fromEnv(key, envVar, env);
  if (!r.present) return null;
  const secrets = ['password', 'pass', 'pwd', 'secret'];
  for (const secret of secrets) {
    if (r.has(secret)) {
      problems.push(`${r.where(secret)}: smtp.${secret} is not allowed: put the password in an environment variable and name it in smtp.passwordEnv (default ${DEFAULT_PASSWORD_ENV})`);
    }
  }
  r.rejectUnknown(KEYS, secrets);
  if (!r.has('host')) problems.push(`${r.where('')}: smtp.host is required (the mail server's name or address)`);
  if (!r.has('from')) problems.push(`${r.where('')}: smtp.from is required (the sender address, e.g. "fleetpoll <fleetpoll@example.com>")`);
  if (!r.has('to')) problems.push(`${r.where('')}: smtp.to is required (a list of recipient addresses)`);

  const security = r.choice('security', 'starttls', ['starttls', 'tls', 'none'] as const);
  const user = r.string('user', '', USER, 'an account name without spaces');
  const passwordEnv = r.string('passwordEnv', DEFAULT_PASSWORD_ENV, ENV_VAR, 'an environment variable name (letters, digits, _)');
  const before = problems.length;
  const to = r.stringList('to', [], ADDRESS, 'e-mail addresses');
  if (r.has('to') && to.length === 0 && problems.length === before) r.problem('to', 'a non-empty list of e-mail addresses');
  const timeoutMs = Math.round(r.number('timeoutSeconds', 30, 1, 600, false) * 1000);
  // The connect timeout defaults to 10 s but never beyond the whole-send bound.
  const connectTimeoutMs = Math.round(r.number('connectTimeoutSeconds', Math.min(10, timeoutMs / 1000), 1, 300, false) * 1000);
  if (r.has('connectTimeoutSeconds') && connectTimeoutMs > timeoutMs) {
    problems.push(`${r.where('connectTimeoutSeconds')}: smtp.connectTimeoutSeconds (${connectTimeoutMs / 1000}) must not exceed smtp.timeoutSeconds (${timeoutMs / 1000})`);
  }
  const caFile = r.path('caFile', null, dirs.fileBase, dirs.cwd);
  if (caFile !== null) {
    try {
      if (!readFileSync(caFile, 'utf8').includes('-----BEGIN CERTIFICATE-----')) {
        problems.push(`${r.where('caFile')}: smtp.caFile ${caFile} holds no PEM certificate`);
      }
    } catch (error) {
      problems.push(`${r.where('caFile')}: smtp.caFile ${caFile} cannot be read: ${(error as Error).message}`);
    }
  }
  return {
    host: r.string('host', 'localhost', HOST, 'a host name or IP address'),
    port: r.number('port', DEFAULT_PORT[security], 1, 65535, true),
    security,
    auth: user === '' ? null : { user, passwordEnv },
    from: r.string('from', 'fleetpoll@localhost', SENDER, 'an e-mail address, optionally as "Name <address>"'),
    to,
    connectTimeoutMs,
    timeoutMs,
    caFile,
  };
}

// Extra margin over timeoutMs before we stop waiting for nodemailer to notice the abort.
const ABORT_GRACE_MS = 1000;

/**
 * Sends one message; resolves to sent or failed (with the server's reply or the network
 * error), never rejects. The whole send is bounded by settings.timeoutMs.
 */
export async function sendMail(
  settings: SmtpSettings,
  message: MailMessage,
  log: Log,
  options: { readonly env?: NodeJS.ProcessEnv; readonly signal?: AbortSignal } = {},
): Promise<SendOutcome> {
  const env = options.env ?? process.env;
  const mlog = log.child({ smtp: `${settings.host}:${settings.port}` });
  const fail = (reason: string, code: string | null = null, responseCode: number | null = null): SendOutcome => {
    mlog.warn('mail not sent', { reason, subject: message.subject, recipients: message.to.length });
    return { kind: 'failed', reason, code, responseCode };
  };
  if (message.to.length === 0) return fail('no recipients');

  let auth: { user: string; pass: string } | undefined;
  if (settings.auth !== null) {
    const pass = env[settings.auth.passwordEnv];
    if (pass === undefined || pass === '') {
      return fail(`smtp.user is set but environment variable ${settings.auth.passwordEnv} (the password) is not set`, 'ENOAUTH');
    }
    auth = { user: settings.auth.user, pass };
  }
  let ca: string | undefined;
  if (settings.caFile !== null) {
    try {
      ca = readFileSync(settings.caFile, 'utf8');
    } catch (error) {
      return fail(`cannot read smtp.caFile ${settings.caFile}: ${(error as Error).message}`, 'ECONFIG');
    }
  }

  let transporter: ReturnType<typeof nodemailer.createTransport> | undefined;
  let timer: NodeJS.Timeout | undefined;
  const deadline = AbortSignal.timeout(settings.timeoutMs);
  const signal = options.signal === undefined ? deadline : AbortSignal.any([deadline, options.signal]);
  try {
    // Loaded on first use: most poll runs send no mail, and loading costs every run CPU.
    const { default: mailer } = await import('nodemailer');
    transporter = mailer.createTransport({
      host: settings.host,
      port: settings.port,
      secure: settings.security === 'tls',
      requireTLS: settings.security === 'starttls',
      ignoreTLS: settings.security === 'none',
      auth,
      connectionTimeout: settings.connectTimeoutMs,
      greetingTimeout: settings.connectTimeoutMs,
      socketTimeout: settings.timeoutMs,
      dnsTimeout: settings.connectTimeoutMs,
      socketCloseTimeout: 1000,
      tls: ca === undefined ? undefined : { ca: [ca] },
    });
    const sending = transporter.sendMail({
      from: settings.from,
      to: [...message.to],
      subject: message.subject,
      text: message.text,
      html: message.html,
      attachments: message.attachments?.map((a) => ({ filename: a.filename, content: a.content, contentType: a.contentType })),
      messageId: message.messageId,
      signal,
    });
    // A belt to the abort signal: whatever nodemailer does, this call ends on time.
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(Object.assign(new Error(silence(settings, 'timeoutSeconds')), { code: 'ETIMEDOUT' })), settings.timeoutMs + ABORT_GRACE_MS);
    });
    sending.catch(() => undefined);
    const info = await Promise.race([sending, expired]);
    const accepted = (info.accepted ?? []).map(addressText);
    const rejected = (info.rejected ?? []).map(addressText);
    if (rejected.length > 0) mlog.warn('some recipients were refused', { rejected: rejected.join(' '), subject: message.subject });
    mlog.info('mail sent', { subject: message.subject, recipients: accepted.length, message_id: info.messageId });
    return { kind: 'sent', messageId: info.messageId, accepted, rejected, response: String(info.response ?? '') };
  } catch (error) {
    const e = error as { code?: unknown; responseCode?: unknown; message?: unknown; name?: unknown };
    const code = typeof e.code === 'string' ? e.code : null;
    const responseCode = typeof e.responseCode === 'number' ? e.responseCode : null;
    // Whichever deadline ran out (ours, or the caller's, which is the same smtp.timeoutSeconds for alerts),
    // nodemailer only says "Message sending aborted.": name the server and the setting instead.
    const aborted = (code === 'EABORT' || e.name === 'AbortError') && signal.aborted;
    // The greeting wait names its own setting only when it is the shorter bound.
    const greeting = code === 'ETIMEDOUT' && /greeting/i.test(String(e.message ?? '')) && settings.connectTimeoutMs < settings.timeoutMs;
    const silent = aborted || (code === 'ETIMEDOUT' && !greeting);
    const why = silent ? silence(settings, 'timeoutSeconds') : greeting ? silence(settings, 'connectTimeoutSeconds') : String(e.message ?? error);
    return fail(why, silent || greeting ? 'ETIMEDOUT' : code, responseCode);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    transporter?.close();
  }
}

// The error for a server that accepted the connection and then said nothing in time.
function silence(settings: SmtpSettings, setting: 'timeoutSeconds' | 'connectTimeoutSeconds'): string {
  const ms = setting === 'timeoutSeconds' ? settings.timeoutMs : settings.connectTimeoutMs;
  return `${settings.host}:${settings.port} did not answer within ${ms / 1000} s (smtp.${setting})`;
}

function addressText(a: string | { address: string }): string {
  return typeof a === 'string' ? a : a.address;
}
