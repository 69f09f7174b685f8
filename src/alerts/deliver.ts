// The mail queue: notifications wait in the state file, per recipient, until an SMTP server
// accepted them (at-least-once: only a kill between the server's acceptance and the save that
// follows each digest re-sends it, with the same Message-ID, so a mail client shows it once).
import { createHash } from 'node:crypto';
import type { SendOutcome } from '../mail/smtp.js';
import { alertKey, type Notification, type QueuedNotification } from './types.js';
import { compareCodeUnits } from '../server-names.js';

// One e-mail to send: recipients that are owed exactly the same notifications.
export interface DigestGroup {
  readonly recipients: readonly string[];
  readonly notifications: readonly Notification[];
}

// What one delivery pass did.
export interface DeliveryReport {
  readonly queue: QueuedNotification[];
  readonly sent: { readonly group: DigestGroup; readonly outcome: Extract<SendOutcome, { kind: 'sent' }> }[];
  readonly failed: { readonly group: DigestGroup; readonly outcome: Extract<SendOutcome, { kind: 'failed' }> }[];
}

/**
 * Adds new notifications for their recipients. A notification already queued (same id) is not
 * added again; a new reminder replaces a reminder of the same alert still waiting (it is newer).
 * A notification without recipients is not queued.
 */
export function enqueue(
  queue: readonly QueuedNotification[],
  notifications: readonly Notification[],
  recipientsOf: (n: Notification) => readonly string[],
  now: Date,
): QueuedNotification[] {
  const ids = new Set(queue.map((q) => q.notification.id));
  let next = [...queue];
  for (const n of notifications) {
    if (ids.has(n.id)) continue;
    const recipients = dedupe(recipientsOf(n));
    if (recipients.length === 0) continue;
    if (n.kind === 'reminder') {
      const key = alertKey(n);
      next = next.filter((q) => !(q.notification.kind === 'reminder' && alertKey(q.notification) === key));
    }
    next.push({ notification: n, recipients, queuedAt: now.toISOString(), attempts: 0, lastError: null });
    ids.add(n.id);
  }
  return next;
}

/** Groups the queue into mails: each recipient gets one digest of everything owed to them. */
export function planDigests(queue: readonly QueuedNotification[]): DigestGroup[] {
  const owed = new Map<string, { display: string; ids: string[] }>();
  for (const q of queue) {
    for (const r of q.recipients) {
      const key = r.toLowerCase();
      const entry = owed.get(key) ?? { display: r, ids: [] };
      entry.ids.push(q.notification.id);
      owed.set(key, entry);
    }
  }
  const byIds = new Map<string, string[]>();
  for (const { display, ids } of owed.values()) {
    const key = [...ids].sort().join('\n');
    byIds.set(key, [...(byIds.get(key) ?? []), display]);
  }
  const notification = new Map(queue.map((q) => [q.notification.id, q.notification]));
  return [...byIds.entries()]
    .map(([ids, recipients]) => ({
      recipients: recipients.sort(),
      notifications: ids.split('\n').map((id) => notification.get(id)).filter((n): n is Notification => n !== undefined),
    }))
    .sort((a, b) => compareCodeUnits(a.recipients.join(','), b.recipients.join(',')));
}

/**
 * Sends every digest and returns the queue that remains: recipients the server accepted (or
 * refused outright while accepting others) are done; everything of a failed send stays,
 * with the error and one more attempt counted. `record` is awaited after each accepted digest
 * with the queue that remains, so a run killed after one digest never sends that one again.
 */
export async function deliverQueue(
  queue: readonly QueuedNotification[],
  send: (group: DigestGroup) => Promise<SendOutcome>,
  record: (remaining: QueuedNotification[]) => Promise<void> = () => Promise.resolve(),
): Promise<DeliveryReport> {
  let remaining = [...queue];
  const sent: DeliveryReport['sent'] = [];
  const failed: DeliveryReport['failed'] = [];
  for (const group of planDigests(queue)) {
    const outcome = await send(group);
    const ids = new Set(group.notifications.map((n) => n.id));
    if (outcome.kind === 'sent') {
      sent.push({ group, outcome });
      const done = new Set(group.recipients.map((r) => r.toLowerCase()));
      remaining = remaining
        .map((q) => (ids.has(q.notification.id) ? { ...q, recipients: q.recipients.filter((r) => !done.has(r.toLowerCase())) } : q))
        .filter((q) => q.recipients.length > 0);
      await record(remaining);
    } else {
      failed.push({ group, outcome });
      remaining = remaining.map((q) => (ids.has(q.notification.id) ? { ...q, attempts: q.attempts + 1, lastError: outcome.reason } : q));
    }
  }
  return { queue: remaining, sent, failed };
}

// A Message-ID that depends only on what a digest holds and whom it goes to: the same digest sent again
// (after a run killed before it recorded the server's acceptance) is the same message to mail clients.
export function digestMessageId(group: DigestGroup, poller: string): string {
  const ids = group.notifications.map((n) => n.id).sort(compareCodeUnits);
  const to = group.recipients.map((r) => r.toLowerCase()).sort(compareCodeUnits);
  const hash = createHash('sha256').update(JSON.stringify([ids, to])).digest('hex').slice(0, 32);
  const domain = poller.replace(/[^A-Za-z0-9.-]/g, '') || 'fleetpoll.invalid';
  return `<fleetpoll-digest-${hash}@${domain}>`;
}

function dedupe(addresses: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const a of addresses) {
    if (seen.has(a.toLowerCase())) continue;
    seen.add(a.toLowerCase());
    out.push(a);
  }
  return out;
}
