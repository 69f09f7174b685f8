// data/alert-transitions.jsonl: every firing, escalated, resolved and reminder transition, one JSON
// object per line, appended by the alert run. The state file only holds what is firing now and what
// is still to be mailed; this log is the history the dashboard's alerts page shows.
import { appendFile } from 'node:fs/promises';
import type { Notification } from './types.js';

/** File name of the log inside the data directory. */
export const TRANSITIONS_FILE = 'alert-transitions.jsonl';

/** Appends the transitions of one run (nothing when there are none). */
export async function appendTransitions(file: string, notifications: readonly Notification[]): Promise<void> {
  if (notifications.length === 0) return;
  const lines = notifications.map((n) =>
    JSON.stringify({ at: n.at, kind: n.kind, host: n.host, rule: n.rule, mount: n.mount, level: n.level, value: n.value, threshold: n.threshold, reason: n.reason }),
  );
  await appendFile(file, `${lines.join('\n')}\n`, { mode: 0o600 });
}
