// The data the alert modules pass around and keep in data/alert-state.json.
import type { Level, RuleId } from './settings.js';

// Re-exported so consumers of the state need one import.
export type { Level, RuleId } from './settings.js';

// A process shown next to a CPU or memory alert: which application it is.
export interface ProcLine {
  readonly pid: number;
  readonly user: string;
  readonly name: string;
  readonly cpuPct: number;
  readonly rssKb: number;
}

// One rule of one host (one mount for disk), pending or firing. Absent = quiet.
export interface AlertEntry {
  readonly host: string;
  readonly rule: RuleId;
  /** Disk rule only. */
  readonly mount: string | null;
  /** pending: over the threshold but not yet for long enough; firing: announced (or adopted). */
  readonly phase: 'pending' | 'firing';
  /** Firing: the announced level. Pending: the level at the latest poll. */
  readonly level: Level;
  /** ISO time of the first poll of the streak that led here ("since when"). */
  readonly since: string;
  /** ISO time it started firing; null while pending. */
  readonly firedAt: string | null;
  /** Consecutive polls at warning or above. */
  readonly heldPolls: number;
  /** Consecutive polls at critical. */
  readonly critPolls: number;
  /** Firing: consecutive polls below the resolve line (threshold - hysteresis). */
  readonly clearPolls: number;
  /** Firing at critical: consecutive polls below (critical - hysteresis), for the quiet step down to warning. */
  readonly lowerPolls: number;
  /** Latest value (null for host down). */
  readonly value: number | null;
  /** Threshold of `level`. */
  readonly threshold: number | null;
  /** Host down: the latest status and error. */
  readonly reason: string | null;
  /** ISO time of the last firing, escalation or reminder notification, for the repeat interval. */
  readonly lastNoticeAt: string | null;
  /** Firing because it was true when the state was rebuilt; no firing mail was sent. */
  readonly adopted: boolean;
}

// firing: newly over a threshold; escalated: warning -> critical; resolved; reminder: still firing after repeatHours.
export type NotificationKind = 'firing' | 'escalated' | 'resolved' | 'reminder';

// A transition worth telling an admin about; immutable once made, queued until mailed.
export interface Notification {
  /** Unique and stable: the same transition is never queued twice. */
  readonly id: string;
  readonly kind: NotificationKind;
  readonly host: string;
  readonly rule: RuleId;
  readonly mount: string | null;
  readonly level: Level;
  /** The value at `at` (null for host down). */
  readonly value: number | null;
  /** The threshold crossed (firing, escalated, reminder) or the one it fell back under (resolved). */
  readonly threshold: number | null;
  /** Host down: status, phase and error. */
  readonly reason: string | null;
  /** ISO time the condition began. */
  readonly since: string;
  /** ISO time of the poll that made this transition. */
  readonly at: string;
  /** ISO time it fired (resolved, reminder, escalated); null for a new firing. */
  readonly firedAt: string | null;
  /** Top processes at `at`, for CPU, load, memory and swap alerts. */
  readonly topProcesses: readonly ProcLine[];
}

// A notification waiting for the SMTP server to accept it, per recipient.
export interface QueuedNotification {
  readonly notification: Notification;
  /** Recipients that have not yet received it. */
  readonly recipients: readonly string[];
  readonly queuedAt: string;
  readonly attempts: number;
  readonly lastError: string | null;
}

// Everything kept between runs.
export interface AlertState {
  readonly version: 1;
  readonly alerts: readonly AlertEntry[];
  readonly queue: readonly QueuedNotification[];
}

/** The identity of an alert: host, rule and (for disks) mount. */
export function alertKey(a: { readonly host: string; readonly rule: RuleId; readonly mount: string | null }): string {
  return a.mount === null ? `${a.host}\u0000${a.rule}` : `${a.host}\u0000${a.rule}\u0000${a.mount}`;
}
