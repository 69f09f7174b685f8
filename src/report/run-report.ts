// One `fleetpoll report` run: sync the rollup, aggregate the window, write the HTML file, optionally mail it.
import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config.js';
import type { Log } from '../log.js';
import { sendMail, type MailAttachment, type SendOutcome } from '../mail/smtp.js';
import { StoreError } from '../store/errors.js';
import { tempPathBeside } from '../store/files.js';
import { reportWindow, WindowAggregator, type AggregateOptions, type ReportModel, type ReportWindow, type ServerReport } from './aggregate.js';
import { listHistoryFiles } from './history-files.js';
import { renderHtml, renderHtmlParts } from './html.js';
import { RollupDamaged, RollupStore, type SyncReport } from './rollup-store.js';
import { renderText } from './text.js';

// A report that big is not attached to the e-mail (mail servers commonly refuse 10-25 MB).
const MAX_ATTACHMENT_BYTES = 8 * 1024 * 1024;
// Parts are gathered into writes of about this size.
const WRITE_CHUNK_CHARS = 256 * 1024;
// How long a report waits for another process's rollup sync (a poll's catch-up, another report's rebuild).
const DEFAULT_LOCK_WAIT_MS = 5 * 60 * 1000;

// What to report on and what to do with it.
export interface ReportRequest {
  readonly config: Config;
  readonly days: number;
  /** Last day (YYYY-MM-DD, UTC); null = yesterday, the last complete day. */
  readonly end: string | null;
  readonly email: boolean;
  /** Re-read the raw logs for the window instead of trusting the rollup. */
  readonly rebuild: boolean;
  /** Report file; null = <report.outDir or dataDir/reports>/weekly-<end>.html. */
  readonly out: string | null;
  readonly now: Date;
  readonly env: NodeJS.ProcessEnv;
  readonly log: Log;
  readonly lockWaitMs?: number;
}

// What happened, for the CLI to print and pick an exit code.
export type ReportOutcome =
  | {
      readonly kind: 'written';
      readonly file: string;
      readonly model: ReportModel;
      readonly syncs: readonly SyncReport[];
      /** null without --email. */
      readonly mail: { readonly to: readonly string[]; readonly outcome: SendOutcome; readonly trimmed: boolean } | null;
    }
  | { readonly kind: 'invalid'; readonly problems: readonly string[] }
  | { readonly kind: 'busy'; readonly waitedMs: number };

// The last complete UTC day before `now`.
export function yesterday(now: Date): string {
  return new Date(now.getTime() - 86_400_000).toISOString().slice(0, 10);
}

// Default file name: weekly-<end>.html for 7 days, report-<N>d-<end>.html otherwise.
export function reportFileName(window: ReportWindow): string {
  return window.days.length === 7 ? `weekly-${window.end}.html` : `report-${window.days.length}d-${window.end}.html`;
}

/** Runs one report. Throws StoreError when the data dir cannot be written. */
export async function runReport(request: ReportRequest): Promise<ReportOutcome> {
  const { config, log } = request;
  const settings = config.report;
  const recipients = settings.to ?? config.smtp?.to ?? [];
  if (request.email) {
    const problems: string[] = [];
    if (config.smtp === null) problems.push('--email needs the "smtp" settings (see docs/alerts.md and docs/report.md)');
    else if (recipients.length === 0) problems.push('--email: no recipients (set report.to or smtp.to)');
    if (problems.length > 0) return { kind: 'invalid', problems };
  }
  const window = reportWindow(request.end ?? yesterday(request.now), request.days);

  const waitMs = request.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS;
  const store = await RollupStore.open(config.dataDir, { waitMs, log });
  if (store === null) return { kind: 'busy', waitedMs: waitMs };
  const syncs: SyncReport[] = [];
  const options = { horizonDays: settings.horizonDays, top: settings.top, topPerServer: settings.topPerServer };
  let folded: WindowAggregator;
  const notes: string[] = [];
  try {
    folded = await syncAndFold(store, window, options, request.rebuild, syncs, log);
    notes.push(...store.notes);
    if (store.openProblem !== null) notes.push(store.openProblem);
  } finally {
    await store.close();
  }

  if (folded.serverCount === 0) {
    // An empty window is most often a wrong --end: say where the data is.
    const { files } = await listHistoryFiles(config.dataDir, 'log');
    const newest = files.reduce<string | null>((max, f) => (f.lastDay !== null && (max === null || f.lastDay > max) ? f.lastDay : max), null);
    if (newest !== null) notes.push(`The newest data is from ${newest}: for a report on it, use --end ${newest}.`);
  }
  const model = folded.finish(notes, request.now);
  const file = request.out ?? path.join(settings.outDir ?? path.join(config.dataDir, 'reports'), reportFileName(window));
  await mkdir(path.dirname(file), { recursive: true });
  // The whole document as one string only when it is also the e-mail body; otherwise it is streamed.
  const fullBody = request.email && model.servers.length <= settings.emailMaxServers ? renderHtml(model) : null;
  writeReportFile(file, (emit) => (fullBody === null ? renderHtmlParts(model, {}, emit) : emit(fullBody)));
  log.info('report written', { file, servers: model.fleet.servers, days: window.days.length });

  if (!request.email || config.smtp === null) return { kind: 'written', file, model, syncs, mail: null };
  const mail = mailContent(model, settings.emailMaxServers, file, fullBody);
  const subject =
    `${settings.subjectPrefix === '' ? '' : `${settings.subjectPrefix} `}utilisation report ${window.start} to ${window.end}: ` +
    `${model.fleet.servers} servers` +
    (model.fleet.flagged.length > 0 ? `, ${model.fleet.flagged.length} full within ${settings.horizonDays} days` : '');
  const attachments: MailAttachment[] = [];
  if (mail.trimmed && (await stat(file)).size <= MAX_ATTACHMENT_BYTES) {
    attachments.push({ filename: path.basename(file), content: await readFile(file), contentType: 'text/html; charset=utf-8' });
  }
  const outcome = await sendMail(config.smtp, { to: recipients, subject, text: mail.text, html: mail.html, attachments }, log, { env: request.env });
  return { kind: 'written', file, model, syncs, mail: { to: recipients, outcome, trimmed: mail.trimmed } };
}

// Writes the report to a temporary file part by part (a 1,000-server report is ~9 MB: never held whole),
// then renames it into place, so a reader or a mail client never sees half a report.
function writeReportFile(file: string, produce: (emit: (part: string) => void) => void): void {
  const temp = tempPathBeside(file);
  let fd: number | null = null;
  try {
    fd = openSync(temp, 'wx');
    const handle = fd;
    let pending = '';
    const flush = (): void => {
      const bytes = Buffer.from(pending, 'utf8');
      for (let offset = 0; offset < bytes.length; ) offset += writeSync(handle, bytes, offset, bytes.length - offset);
      pending = '';
    };
    produce((part) => {
      pending += part;
      if (pending.length >= WRITE_CHUNK_CHARS) flush();
    });
    flush();
    // No fsync: the report is derived data (run it again after a power cut); the rename alone keeps
    // readers from ever seeing half a file.
    closeSync(handle);
    fd = null;
    renameSync(temp, file);
  } catch (error) {
    if (fd !== null) closeSync(fd);
    rmSync(temp, { force: true });
    throw new StoreError(`cannot write ${file}: ${(error as Error).message}`, file, (error as NodeJS.ErrnoException).code, { cause: error });
  }
}

// Brings the rollup up to date for the window and folds its days in, one at a time (only one day's rollup
// is ever in memory); a damaged rollup is rebuilt, not fatal.
async function syncAndFold(store: RollupStore, window: ReportWindow, options: AggregateOptions, rebuild: boolean, syncs: SyncReport[], log: Log): Promise<WindowAggregator> {
  const fold = (): WindowAggregator => {
    const folder = new WindowAggregator(window, options);
    window.days.forEach((day, index) => folder.add(index, store.readDay(day)));
    return folder;
  };
  try {
    if (rebuild || !store.exists) {
      syncs.push(await store.rebuild(window.start, { discardOlder: store.openProblem !== null }));
    } else {
      syncs.push(await store.catchUp());
      const covered = store.coveredFrom;
      if (covered !== null && covered > window.start) syncs.push(await store.backfill(window.start));
    }
    return fold();
  } catch (error) {
    if (!(error instanceof RollupDamaged)) throw error;
    log.warn(`rollup damaged, rebuilding it from the raw logs: ${error.message}`);
    syncs.push(await store.rebuild(window.start, { discardOlder: true }));
    return fold();
  }
}

// The e-mail's HTML and text: the whole report, or for a large fleet the summary plus the servers it names.
function mailContent(model: ReportModel, maxServers: number, file: string, fullHtml: string | null): { html: string; text: string; trimmed: boolean } {
  if (fullHtml !== null) return { html: fullHtml, text: renderText(model), trimmed: false };
  const named = new Set<string>();
  for (const f of model.fleet.flagged) named.add(f.server);
  for (const list of [model.fleet.busiest, model.fleet.closestToFull, model.fleet.leastAvailable]) for (const s of list) named.add(s.name);
  const servers: ServerReport[] = model.servers.filter((s) => named.has(s.name)).slice(0, maxServers);
  const omittedNote =
    `This e-mail details the ${servers.length} servers the summary names; all ${model.servers.length} are in ` +
    `${path.basename(file)} (attached when small enough, and on the poller at ${file}).`;
  return { html: renderHtml(model, { servers, omittedNote }), text: renderText(model, { servers, omittedNote }), trimmed: true };
}
