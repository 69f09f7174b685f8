// Notifications -> one e-mail (subject, plain text, HTML). Pure. Every value that came from a
// host or the inventory is HTML-escaped in the HTML part; subjects stay short and sortable.
import type { Level, RuleId } from './settings.js';
import type { Notification, ProcLine } from './types.js';
import { compareCodeUnits, compareServerNames } from '../server-names.js';

// One rendered digest.
export interface Digest {
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

// Context shown in every digest.
export interface DigestOptions {
  readonly subjectPrefix: string;
  /** The machine fleetpoll runs on, so an admin knows which poller wrote. */
  readonly poller: string;
  /** The run that sends it; notifications made earlier are marked as delayed. */
  readonly now: Date;
  /** Prepended to the subject and the body (e.g. "TEST" for `fleetpoll alerts test`). */
  readonly banner?: string;
}

const SUBJECT_MAX = 120;
const RULE_LABEL: Record<RuleId, string> = { cpu: 'CPU', mem: 'memory', swap: 'swap', load: 'load', disk: 'disk', down: 'down' };

// The documented ceiling of one digest: text and HTML parts together, in bytes (relays commonly
// refuse 10 MB or more, and nobody reads 20,000 rows in a mail).
export const MAX_DIGEST_BYTES = 1_000_000;

// How much of a big event a digest spells out; the rest is counted per group, with where to look.
interface Limits {
  /** Rows shown in full per section (firing, resolved, still firing); the rest is grouped. */
  readonly detailRows: number;
  /** Host names listed per group (hosts down, and the grouped rest of a section). */
  readonly namesPerGroup: number;
  /** Distinct error texts shown per host-down group. */
  readonly errorsPerGroup: number;
}

const FULL: Limits = { detailRows: 50, namesPerGroup: 500, errorsPerGroup: 10 };
// Used when FULL still exceeds MAX_DIGEST_BYTES (long process names, very many groups).
const SUMMARY: Limits = { detailRows: 0, namesPerGroup: 50, errorsPerGroup: 3 };

/** Builds the digest of a non-empty list of notifications; at most MAX_DIGEST_BYTES of text + HTML. */
export function buildDigest(notifications: readonly Notification[], options: DigestOptions): Digest {
  const sorted = [...notifications].sort(compareNotifications);
  const firing = sorted.filter((n) => (n.kind === 'firing' || n.kind === 'escalated') && n.rule !== 'down');
  const down = sorted.filter((n) => (n.kind === 'firing' || n.kind === 'escalated') && n.rule === 'down');
  const resolved = sorted.filter((n) => n.kind === 'resolved');
  const reminders = sorted.filter((n) => n.kind === 'reminder');
  const subject = subjectLine(firing, down, resolved, reminders, options);
  const full = { subject, text: textBody(firing, down, resolved, reminders, options, FULL), html: htmlBody(firing, down, resolved, reminders, options, FULL) };
  if (Buffer.byteLength(full.text) + Buffer.byteLength(full.html) <= MAX_DIGEST_BYTES) return full;
  return { subject, text: textBody(firing, down, resolved, reminders, options, SUMMARY), html: htmlBody(firing, down, resolved, reminders, options, SUMMARY) };
}

// The part of a section past its detail rows, grouped by what fired, with the first names of each group.
interface RestGroup {
  readonly label: string;
  readonly count: number;
  readonly names: string[];
}

function restGroups(rest: readonly Notification[], limits: Limits): RestGroup[] {
  const groups = new Map<string, { count: number; names: string[] }>();
  for (const n of rest) {
    const label = `${n.rule === 'disk' ? `disk ${oneLine(n.mount ?? '')}` : RULE_LABEL[n.rule]} ${n.level}`;
    const g = groups.get(label) ?? { count: 0, names: [] };
    g.count += 1;
    if (g.names.length < limits.namesPerGroup) g.names.push(n.host);
    groups.set(label, g);
  }
  return [...groups.entries()].map(([label, g]) => ({ label, ...g })).sort((a, b) => b.count - a.count || compareCodeUnits(a.label, b.label));
}

// "a, b, c and 1,234 more"
function namesText(names: readonly string[], count: number): string {
  const more = count - names.length;
  return `${names.join(', ')}${more > 0 ? ` and ${more.toLocaleString('en-US')} more` : ''}`;
}

const WHERE_THE_REST_IS = '`fleetpoll alerts status` lists every alert firing now; recentlog.csv in the data directory has every host\'s latest status and error, log.csv the history.';

function subjectLine(firing: Notification[], down: Notification[], resolved: Notification[], reminders: Notification[], options: DigestOptions): string {
  const counts: string[] = [];
  if (firing.length + down.length > 0) counts.push(`${firing.length + down.length} firing`);
  if (resolved.length > 0) counts.push(`${resolved.length} resolved`);
  if (reminders.length > 0) counts.push(`${reminders.length} still firing`);
  // Headlines: the worst news first; many hosts down collapse into one item.
  const items: string[] = [];
  const downFirst = down.length > 1;
  if (downFirst) items.push(`${down.length} hosts down`);
  for (const n of [...(downFirst ? [] : down), ...firing].sort(compareNotifications)) items.push(headline(n));
  if (items.length === 0) for (const n of resolved) items.push(`${headline(n)} ok`);
  if (items.length === 0) for (const n of reminders) items.push(headline(n));
  const prefix = [options.subjectPrefix, options.banner].filter((p) => p !== undefined && p !== '').join(' ');
  let subject = `${prefix} ${counts.join(', ')}`.trim();
  let shown = 0;
  for (const item of items) {
    const candidate = `${subject}${shown === 0 ? ' — ' : ', '}${item}`;
    if (candidate.length > SUBJECT_MAX - 3) break;
    subject = candidate;
    shown += 1;
  }
  if (shown < items.length) subject += shown === 0 ? ' — …' : ', …';
  return oneLine(subject);
}

// `web01 CPU 97%`, `web03 disk /var 96%`, `db02 down`, `app1 load 3.1/core`.
function headline(n: Notification): string {
  if (n.rule === 'down') return `${oneLine(n.host)} down`;
  const what = n.rule === 'disk' ? `disk ${oneLine(n.mount ?? '')}` : RULE_LABEL[n.rule];
  const value = n.value === null ? '' : n.rule === 'load' ? ` ${n.value.toFixed(1)}/core` : ` ${Math.round(n.value)}%`;
  return `${oneLine(n.host)} ${what}${value}`;
}

// "CPU 97.3%" / "disk /var 96.2%" / "load 3.10 per core"
function metric(n: { rule: RuleId; mount: string | null }, value: number | null): string {
  const label = n.rule === 'disk' ? `disk ${n.mount ?? ''}` : RULE_LABEL[n.rule];
  return value === null ? label : `${label} ${formatValue(n.rule, value)}`;
}

function formatValue(rule: RuleId, value: number): string {
  return rule === 'load' ? `${value.toFixed(2)} per core` : `${value.toFixed(1)}%`;
}

function formatThreshold(rule: RuleId, value: number): string {
  return rule === 'load' ? value.toFixed(2) : `${Number.isInteger(value) ? value : value.toFixed(1)}%`;
}

function condition(n: Notification): string {
  if (n.threshold === null) return '';
  if (n.kind === 'resolved') return `below ${formatThreshold(n.rule, n.threshold)}`;
  return `${n.level} at ${formatThreshold(n.rule, n.threshold)}`;
}

/** `2026-11-22 15:30 UTC` */
export function formatUtc(iso: string): string {
  return `${iso.slice(0, 16).replace('T', ' ')} UTC`;
}

function duration(fromIso: string, toIso: string): string {
  const minutes = Math.max(0, Math.round((Date.parse(toIso) - Date.parse(fromIso)) / 60000));
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

function procLine(p: ProcLine): string {
  return `${p.name} [${p.user}] pid ${p.pid}: ${p.cpuPct.toFixed(1)}% CPU, ${(p.rssKb / 1024).toFixed(0)} MB`;
}

function topLabel(rule: RuleId): string {
  return rule === 'cpu' || rule === 'load' ? 'top processes by CPU' : 'top processes by memory';
}

// Host-down groups: same status and phase; errors counted after removing addresses, which differ per host.
interface DownGroup {
  readonly cause: string;
  readonly hosts: Notification[];
  readonly errors: [string, number][];
  /** Distinct errors not shown (past limits.errorsPerGroup). */
  readonly moreErrors: number;
}

function groupDown(down: readonly Notification[], limits: Limits): DownGroup[] {
  const groups = new Map<string, { hosts: Notification[]; errors: Map<string, number>; firstError: string }>();
  for (const n of down) {
    const m = /^(\w+) \((\w+)\): ([\s\S]*)$/.exec(n.reason ?? '');
    const cause = m === null ? (n.reason ?? 'not ok') : `${m[1]} (${m[2]})`;
    const raw = m === null ? '' : oneLine(m[3] ?? '').slice(0, 200);
    const error = genericError(raw);
    const g = groups.get(cause) ?? { hosts: [], errors: new Map<string, number>(), firstError: raw };
    g.hosts.push(n);
    if (error !== '') g.errors.set(error, (g.errors.get(error) ?? 0) + 1);
    groups.set(cause, g);
  }
  return [...groups.entries()]
    .map(([cause, g]) => {
      // One host: its own error, address included; several: the shared wording, counted.
      const errors = g.hosts.length === 1 ? (g.firstError === '' ? [] : [[g.firstError, 1] as [string, number]]) : [...g.errors.entries()].sort((a, b) => b[1] - a[1]);
      return { cause, hosts: g.hosts, errors: errors.slice(0, limits.errorsPerGroup), moreErrors: Math.max(0, errors.length - limits.errorsPerGroup) };
    })
    .sort((a, b) => b.hosts.length - a.hosts.length || compareCodeUnits(a.cause, b.cause));
}

function genericError(error: string): string {
  return error
    .replace(/\b\d{1,3}(\.\d{1,3}){3}(:\d+)?\b/g, '<address>')
    .replace(/\[?(?:[0-9a-f]{0,4}:){2,7}[0-9a-f]{0,4}\]?(:\d+)?/gi, '<address>')
    .slice(0, 200);
}

function textBody(firing: Notification[], down: Notification[], resolved: Notification[], reminders: Notification[], options: DigestOptions, limits: Limits): string {
  const nowIso = options.now.toISOString();
  const lines: string[] = [];
  if (options.banner !== undefined) lines.push(`*** ${options.banner} ***`, '');
  lines.push(`fleetpoll alerts, ${formatUtc(nowIso)} (poller ${options.poller})`);
  const late = [...firing, ...down, ...resolved, ...reminders].filter((n) => n.at < nowIso);
  if (late.length > 0) {
    const oldest = late.map((n) => n.at).sort()[0] ?? nowIso;
    lines.push(`${lateText(late.length)} (oldest from ${formatUtc(oldest)}).`);
  }
  const item = (n: Notification, extra: string): void => {
    lines.push(`  [${n.level.toUpperCase()}] ${oneLine(n.host)}  ${oneLine(metric(n, n.value))} (${condition(n)})${extra}`);
    if (n.topProcesses.length > 0) {
      lines.push(`      ${topLabel(n.rule)}:`);
      for (const p of n.topProcesses) lines.push(`        ${oneLine(procLine(p))}`);
    }
  };
  let cut = false;
  // The grouped remainder of a section past its detail rows.
  const rest = (items: readonly Notification[]): void => {
    if (items.length <= limits.detailRows) return;
    cut = true;
    lines.push(`  ${limits.detailRows > 0 ? `and ${(items.length - limits.detailRows).toLocaleString('en-US')} more` : 'by rule'}:`);
    for (const g of restGroups(items.slice(limits.detailRows), limits)) lines.push(`    ${g.label}: ${g.count} host(s): ${oneLine(namesText(g.names, g.count))}`);
  };
  if (firing.length > 0) {
    lines.push('', `FIRING (${firing.length})`);
    for (const n of firing.slice(0, limits.detailRows)) {
      const extra = n.kind === 'escalated' ? `, escalated from warning; firing since ${formatUtc(n.firedAt ?? n.since)}` : `, since ${formatUtc(n.since)}`;
      item(n, extra);
    }
    rest(firing);
  }
  if (down.length > 0) {
    lines.push('', `HOSTS DOWN (${down.length})`);
    for (const g of groupDown(down, limits)) {
      const since = g.hosts.map((n) => n.since).sort()[0] ?? nowIso;
      lines.push(`  ${g.cause}: ${g.hosts.length} host(s), since ${formatUtc(since)}`);
      for (const [error, count] of g.errors) lines.push(`    error: ${error}${g.hosts.length > 1 ? ` (${count})` : ''}`);
      if (g.moreErrors > 0) lines.push(`    and ${g.moreErrors} other error text(s)`);
      if (g.hosts.length > limits.namesPerGroup) cut = true;
      lines.push(`    ${oneLine(namesText(g.hosts.slice(0, limits.namesPerGroup).map((n) => n.host), g.hosts.length))}`);
    }
  }
  if (resolved.length > 0) {
    lines.push('', `RESOLVED (${resolved.length})`);
    for (const n of resolved.slice(0, limits.detailRows)) {
      const was = `was ${n.level} since ${formatUtc(n.since)}, ${duration(n.since, n.at)}`;
      if (n.rule === 'down') lines.push(`  ${oneLine(n.host)}  up again (${was}; ${oneLine(n.reason ?? '')})`);
      else lines.push(`  ${oneLine(n.host)}  ${oneLine(metric(n, n.value))} (${condition(n)}; ${was})`);
    }
    rest(resolved);
  }
  if (reminders.length > 0) {
    lines.push('', `STILL FIRING (${reminders.length})`);
    for (const n of reminders.slice(0, limits.detailRows)) {
      if (n.rule === 'down') lines.push(`  [${n.level.toUpperCase()}] ${oneLine(n.host)}  down since ${formatUtc(n.since)} (${oneLine(n.reason ?? '')})`);
      else item(n, `, since ${formatUtc(n.since)}`);
    }
    rest(reminders);
  }
  if (cut) lines.push('', `Not every host is named above: ${WHERE_THE_REST_IS}`);
  lines.push('', '-- ', 'fleetpoll: `fleetpoll alerts status` lists everything firing now.');
  return `${lines.join('\n')}\n`;
}

const LEVEL_COLOUR: Record<Level, string> = { critical: '#b00020', warning: '#a65e00' };

function htmlBody(firing: Notification[], down: Notification[], resolved: Notification[], reminders: Notification[], options: DigestOptions, limits: Limits): string {
  const nowIso = options.now.toISOString();
  const out: string[] = [];
  const cell = 'style="padding:2px 8px;border-bottom:1px solid #ddd;vertical-align:top"';
  out.push('<!doctype html><html><body style="font-family:sans-serif;font-size:14px">');
  if (options.banner !== undefined) out.push(`<p style="font-weight:bold">${esc(options.banner)}</p>`);
  out.push(`<p>fleetpoll alerts, ${esc(formatUtc(nowIso))} (poller ${esc(options.poller)})</p>`);
  const late = [...firing, ...down, ...resolved, ...reminders].filter((n) => n.at < nowIso);
  if (late.length > 0) {
    const oldest = late.map((n) => n.at).sort()[0] ?? nowIso;
    out.push(`<p><em>${esc(lateText(late.length))} (oldest from ${esc(formatUtc(oldest))}).</em></p>`);
  }
  const levelCell = (level: Level): string => `<td ${cell}><b style="color:${LEVEL_COLOUR[level]}">${level}</b></td>`;
  const procs = (n: Notification): string =>
    n.topProcesses.length === 0 ? '' : `<div style="color:#555">${esc(topLabel(n.rule))}:<br>${n.topProcesses.map((p) => esc(procLine(p))).join('<br>')}</div>`;
  let cut = false;
  // The grouped remainder of a section past its detail rows.
  const rest = (items: readonly Notification[]): void => {
    if (items.length <= limits.detailRows) return;
    cut = true;
    const head = limits.detailRows > 0 ? `and ${(items.length - limits.detailRows).toLocaleString('en-US')} more` : 'by rule';
    out.push(`<p>${esc(head)}:</p><table style="border-collapse:collapse">`);
    for (const g of restGroups(items.slice(limits.detailRows), limits)) {
      out.push(`<tr><td ${cell}>${esc(g.label)}</td><td ${cell}>${g.count} host(s): ${esc(namesText(g.names, g.count))}</td></tr>`);
    }
    out.push('</table>');
  };
  const metricTable = (title: string, items: Notification[], sinceOf: (n: Notification) => string): void => {
    out.push(`<h3>${esc(title)} (${items.length})</h3><table style="border-collapse:collapse">`);
    out.push(`<tr><th ${cell}>level</th><th ${cell}>host</th><th ${cell}>metric</th><th ${cell}>value</th><th ${cell}>threshold</th><th ${cell}>since</th></tr>`);
    for (const n of items.slice(0, limits.detailRows)) {
      out.push(
        `<tr>${levelCell(n.level)}<td ${cell}>${esc(n.host)}</td><td ${cell}>${esc(metric(n, null))}${procs(n)}</td>` +
          `<td ${cell}>${n.value === null ? '' : esc(formatValue(n.rule, n.value))}</td><td ${cell}>${esc(condition(n))}</td><td ${cell}>${esc(sinceOf(n))}</td></tr>`,
      );
    }
    out.push('</table>');
    rest(items);
  };
  if (firing.length > 0) {
    metricTable('Firing', firing, (n) => (n.kind === 'escalated' ? `${formatUtc(n.firedAt ?? n.since)}, escalated from warning` : formatUtc(n.since)));
  }
  if (down.length > 0) {
    out.push(`<h3>Hosts down (${down.length})</h3><table style="border-collapse:collapse">`);
    out.push(`<tr><th ${cell}>reason</th><th ${cell}>hosts</th><th ${cell}>since</th></tr>`);
    for (const g of groupDown(down, limits)) {
      const since = g.hosts.map((n) => n.since).sort()[0] ?? nowIso;
      const errors = [
        ...g.errors.map(([e, c]) => `${esc(e)}${g.hosts.length > 1 ? ` (${c})` : ''}`),
        ...(g.moreErrors > 0 ? [`and ${g.moreErrors} other error text(s)`] : []),
      ].join('<br>');
      if (g.hosts.length > limits.namesPerGroup) cut = true;
      const names = namesText(g.hosts.slice(0, limits.namesPerGroup).map((n) => n.host), g.hosts.length);
      out.push(
        `<tr><td ${cell}><b style="color:${LEVEL_COLOUR.critical}">${esc(g.cause)}</b><br>${errors}</td>` +
          `<td ${cell}>${g.hosts.length} host(s):<br>${esc(names)}</td><td ${cell}>${esc(formatUtc(since))}</td></tr>`,
      );
    }
    out.push('</table>');
  }
  if (resolved.length > 0) {
    out.push(`<h3>Resolved (${resolved.length})</h3><table style="border-collapse:collapse">`);
    out.push(`<tr><th ${cell}>host</th><th ${cell}>metric</th><th ${cell}>now</th><th ${cell}>was</th></tr>`);
    for (const n of resolved.slice(0, limits.detailRows)) {
      const was = `${n.level} since ${formatUtc(n.since)} (${duration(n.since, n.at)})`;
      const now = n.rule === 'down' ? `up again` : `${n.value === null ? 'no value' : formatValue(n.rule, n.value)}, ${condition(n)}`;
      const what = n.rule === 'down' ? `down: ${n.reason ?? ''}` : metric(n, null);
      out.push(`<tr><td ${cell}>${esc(n.host)}</td><td ${cell}>${esc(what)}</td><td ${cell}>${esc(now)}</td><td ${cell}>${esc(was)}</td></tr>`);
    }
    out.push('</table>');
    rest(resolved);
  }
  if (reminders.length > 0) metricTable('Still firing', reminders, (n) => formatUtc(n.since) + (n.reason === null ? '' : ` (${n.reason})`));
  if (cut) out.push(`<p><b>Not every host is named above:</b> ${esc(WHERE_THE_REST_IS)}</p>`);
  out.push('<p style="color:#777">fleetpoll: <code>fleetpoll alerts status</code> lists everything firing now.</p></body></html>');
  return `${out.join('\n')}\n`;
}

function lateText(count: number): string {
  return `${count === 1 ? '1 of these is' : `${count} of these are`} late: the mail server did not accept ${count === 1 ? 'it' : 'them'} earlier`;
}

/** Escapes text for HTML element content and double-quoted attributes. */
export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// Header and plain-text lines must not be split by text from a host.
function oneLine(text: string): string {
  return text.replace(/[\r\n\t\u0000-\u001f\u007f]+/g, ' ');
}

const KIND_ORDER = { escalated: 0, firing: 0, reminder: 1, resolved: 2 };

function compareNotifications(a: Notification, b: Notification): number {
  return (
    KIND_ORDER[a.kind] - KIND_ORDER[b.kind] ||
    (a.level === b.level ? 0 : a.level === 'critical' ? -1 : 1) ||
    compareServerNames(a.host, b.host) ||
    compareServerNames(a.rule, b.rule) ||
    compareServerNames(a.mount ?? '', b.mount ?? '') ||
    (a.at < b.at ? -1 : a.at > b.at ? 1 : 0)
  );
}
