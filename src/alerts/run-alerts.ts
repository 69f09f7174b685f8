// One poll run's alerting: state -> evaluate -> queue -> save -> mail -> save. Called by the
// poll run inside the run lock, after the CSV files are written. Never throws: a failure here
// is logged and reported as a warning, and never changes the poll's outcome.
// States are replaced, never changed in place: serve keeps the last one saved (StateCache).
import { hostname } from 'node:os';
import path from 'node:path';
import type { Config } from '../config.js';
import type { Log } from '../log.js';
import { sendMail, type MailMessage, type SendOutcome, type SmtpSettings } from '../mail/smtp.js';
import type { Host, PollResult } from '../model.js';
import { deliverQueue, digestMessageId, enqueue, type DigestGroup } from './deliver.js';
import { buildDigest } from './digest.js';
import { evaluate } from './evaluate.js';
import { hostRules, type HostRules } from './settings.js';
import { loadState, saveState, STATE_FILE, type StateCache } from './state.js';
import { appendTransitions, TRANSITIONS_FILE } from './transition-log.js';
import type { AlertState, Notification } from './types.js';

// Inputs of one alerting pass.
export interface AlertRunRequest {
  readonly config: Pick<Config, 'alerts' | 'smtp' | 'dataDir'>;
  /** Enabled hosts of the inventory: state of hosts no longer in it is dropped. */
  readonly inventoryHosts: readonly Host[];
  /** This run's results; only these hosts' alerts change. */
  readonly results: readonly PollResult[];
  /** The poll's start time, used as the time of every transition. */
  readonly now: Date;
  readonly log: Log;
  readonly env: NodeJS.ProcessEnv;
  /** Each host's rules, as checkAlertColumns parsed them from the inventory; parsed here when absent. */
  readonly rules?: ReadonlyMap<string, HostRules>;
  /** The state kept between runs by a long-running process (serve); absent: the file is read each run. */
  readonly stateCache?: StateCache;
  /** Replaces the SMTP send (tests of the orchestration only); default sendMail. */
  readonly send?: (settings: SmtpSettings, message: MailMessage, log: Log, options: { env: NodeJS.ProcessEnv; signal: AbortSignal }) => Promise<SendOutcome>;
}

// What the run reports about alerts.
export interface AlertRunOutcome {
  /** false when alerts are off in the settings. */
  readonly enabled: boolean;
  /** Alerts firing after this run (all hosts). */
  readonly firing: number;
  /** Notifications this run produced. */
  readonly notified: number;
  /** Mails the SMTP server accepted in this run. */
  readonly mailsSent: number;
  /** Notifications still waiting for delivery. */
  readonly queued: number;
  /** For the run summary: state rebuilt, delivery failed, mail not configured. */
  readonly warnings: string[];
}

/** Evaluates the alert rules on this run's results and mails what changed. */
export async function runAlerts(request: AlertRunRequest): Promise<AlertRunOutcome> {
  const { config, log } = request;
  const alog = log.child({ component: 'alerts' });
  const warnings: string[] = [];
  const outcome = (state: AlertState | null, notified: number, mailsSent: number): AlertRunOutcome => ({
    enabled: true,
    firing: state?.alerts.filter((a) => a.phase === 'firing').length ?? 0,
    notified,
    mailsSent,
    queued: state?.queue.length ?? 0,
    warnings,
  });
  if (!config.alerts.enabled) return { enabled: false, firing: 0, notified: 0, mailsSent: 0, queued: 0, warnings };

  const file = path.join(config.dataDir, STATE_FILE);
  const cache = request.stateCache;
  const save = (s: AlertState): Promise<void> => (cache === undefined ? saveState(file, s) : cache.save(file, s));
  let state: AlertState;
  let adopt = false;
  try {
    const loaded = await (cache === undefined ? loadState(file, { now: request.now }) : cache.load(file, { now: request.now }));
    if (loaded.kind === 'ok') {
      state = loaded.state;
    } else if (loaded.kind === 'missing') {
      // A first run: nothing was announced yet, so conditions fire normally after N polls.
      state = { version: 1, alerts: [], queue: [] };
      alog.info(`no alert state yet (${file}): starting a new one`);
    } else {
      // A lost state must not re-announce the whole fleet: what holds now is adopted silently.
      adopt = true;
      state = { version: 1, alerts: [], queue: [] };
      const message = `alert state ${file} is unusable (${loaded.reason}); moved to ${loaded.movedTo ?? '?'}: starting a new one; conditions that hold now are taken as already known, without mail`;
      alog.warn(message);
      warnings.push(message);
    }
  } catch (error) {
    const message = `alerts skipped: cannot read ${file}: ${(error as Error).message}`;
    alog.error(message);
    warnings.push(message);
    return outcome(null, 0, 0);
  }

  try {
    const known = new Set(request.inventoryHosts.map((h) => h.name));
    const rules = new Map<string, HostRules>();
    for (const result of request.results) rules.set(result.host.name, request.rules?.get(result.host.name) ?? hostRules(result.host, config.alerts));
    const evaluation = evaluate(
      state.alerts.filter((a) => known.has(a.host)),
      request.results,
      request.now,
      rules,
      { repeatMs: config.alerts.repeatMs, topProcesses: config.alerts.topProcesses, adopt },
    );
    for (const n of evaluation.notifications) {
      alog.child({ host: n.host }).info(`alert ${n.kind}`, { rule: n.mount === null ? n.rule : `${n.rule} ${n.mount}`, level: n.level, value: n.value ?? undefined, reason: n.reason ?? undefined });
    }

    let queue = state.queue;
    if (config.smtp === null) {
      if (evaluation.notifications.length > 0) {
        const message = `${evaluation.notifications.length} alert notification(s) not mailed: smtp is not configured (see "fleetpoll alerts status")`;
        alog.warn(message);
        warnings.push(message);
      }
    } else {
      const defaults = config.alerts.to ?? config.smtp.to;
      const recipientsOf = (n: Notification): string[] => [...defaults, ...(rules.get(n.host)?.extraTo ?? [])];
      queue = enqueue(queue, evaluation.notifications, recipientsOf, request.now);
    }
    state = { version: 1, alerts: evaluation.alerts, queue };
    // Saved before sending: if this process dies mid-send, the notifications are still queued.
    await save(state);
    // The history of transitions, for the dashboard's alerts page (the state keeps only the present).
    await appendTransitions(path.join(config.dataDir, TRANSITIONS_FILE), evaluation.notifications);

    let mailsSent = 0;
    if (config.smtp !== null && state.queue.length > 0) {
      const smtp = config.smtp;
      const deadline = AbortSignal.timeout(smtp.timeoutMs);
      const send = request.send ?? sendMail;
      const poller = hostname();
      const saved = state;
      const report = await deliverQueue(
        state.queue,
        (group: DigestGroup) => {
          const digest = buildDigest(group.notifications, { subjectPrefix: config.alerts.subjectPrefix, poller, now: request.now });
          return send(smtp, { to: group.recipients, ...digest, messageId: digestMessageId(group, poller) }, alog, { env: request.env, signal: deadline });
        },
        // After each accepted digest: a kill before the next one never re-sends this one.
        (remaining) => save({ ...saved, queue: remaining }),
      );
      mailsSent = report.sent.length;
      for (const s of report.sent) {
        if (s.outcome.rejected.length > 0) warnings.push(`alert mail: the server refused ${s.outcome.rejected.join(', ')} (not retried)`);
      }
      if (report.failed.length > 0) {
        const first = report.failed[0]?.outcome.reason ?? '';
        const message = `alert mail not delivered (${first}); ${report.queue.length} notification(s) stay queued for the next run`;
        alog.warn(message);
        warnings.push(message);
      }
      state = { ...state, queue: report.queue };
      await save(state);
    }
    return outcome(state, evaluation.notifications.length, mailsSent);
  } catch (error) {
    const message = `alerts failed: ${(error as Error).message}`;
    alog.error(message, { stack: (error as Error).stack });
    warnings.push(message);
    return outcome(state, 0, 0);
  }
}
