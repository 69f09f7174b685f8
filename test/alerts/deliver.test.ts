// The mail queue: enqueueing, grouping per recipient, and what a failed or partial send leaves.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deliverQueue, digestMessageId, enqueue, planDigests, type DigestGroup } from '../../src/alerts/deliver.js';
import type { Notification } from '../../src/alerts/types.js';
import type { SendOutcome } from '../../src/mail/smtp.js';

const NOW = new Date('2026-11-22T10:30:00.000Z');

function n(host: string, kind: Notification['kind'] = 'firing', at = NOW.toISOString()): Notification {
  return {
    id: `${at}|${kind}|${host}|cpu`,
    kind,
    host,
    rule: 'cpu',
    mount: null,
    level: 'warning',
    value: 95,
    threshold: 90,
    reason: null,
    since: at,
    at,
    firedAt: null,
    topProcesses: [],
  };
}

const OPS = ['ops@example.com'];
const sent = (to: readonly string[]): SendOutcome => ({ kind: 'sent', messageId: '<x>', accepted: [...to], rejected: [], response: '250 ok' });
const failed: SendOutcome = { kind: 'failed', reason: 'connect ECONNREFUSED 127.0.0.1:25', code: 'ESOCKET', responseCode: null };

describe('enqueue', () => {
  it('queues each notification once, for its recipients', () => {
    const q1 = enqueue([], [n('a'), n('b')], () => OPS, NOW);
    const q2 = enqueue(q1, [n('a'), n('b')], () => OPS, NOW);
    assert.equal(q2.length, 2);
    assert.deepEqual(q2[0]?.recipients, OPS);
    assert.equal(q2[0]?.attempts, 0);
  });

  it('replaces a waiting reminder of the same alert with the newer one', () => {
    const old = n('a', 'reminder', '2026-11-22T06:00:00.000Z');
    const q = enqueue(enqueue([], [n('a', 'firing', '2026-11-22T02:00:00.000Z'), old], () => OPS, NOW), [n('a', 'reminder')], () => OPS, NOW);
    assert.deepEqual(q.map((x) => `${x.notification.kind} ${x.notification.at}`), ['firing 2026-11-22T02:00:00.000Z', `reminder ${NOW.toISOString()}`]);
  });

  it('does not queue what nobody should receive, and de-duplicates recipients', () => {
    const q = enqueue([], [n('a'), n('b')], (x) => (x.host === 'a' ? [] : ['x@example.com', 'X@example.com']), NOW);
    assert.equal(q.length, 1);
    assert.deepEqual(q[0]?.recipients, ['x@example.com']);
  });
});

describe('planDigests', () => {
  it('sends one mail per distinct set of owed notifications (alert_to adds recipients per host)', () => {
    const q = enqueue([], [n('web1'), n('web2'), n('db1')], (x) => (x.host.startsWith('web') ? [...OPS, 'web-team@example.com'] : [...OPS, 'dba@example.com', 'boss@example.com']), NOW);
    const plan = planDigests(q).map((g) => ({ to: g.recipients, hosts: g.notifications.map((x) => x.host).sort() }));
    assert.deepEqual(plan, [
      { to: ['boss@example.com', 'dba@example.com'], hosts: ['db1'] },
      { to: ['ops@example.com'], hosts: ['db1', 'web1', 'web2'] },
      { to: ['web-team@example.com'], hosts: ['web1', 'web2'] },
    ]);
  });
});

describe('deliverQueue', () => {
  it('empties the queue when every mail is accepted', async () => {
    const q = enqueue([], [n('a'), n('b')], () => OPS, NOW);
    const groups: DigestGroup[] = [];
    const report = await deliverQueue(q, async (g) => (groups.push(g), sent(g.recipients)));
    assert.deepEqual(report.queue, []);
    assert.equal(groups.length, 1);
    assert.equal(report.sent.length, 1);
  });

  it('keeps everything of a failed mail, with the error and the attempt counted, and drops only what was accepted', async () => {
    const q = enqueue([], [n('web1'), n('db1')], (x) => (x.host === 'web1' ? [...OPS, 'web@example.com'] : OPS), NOW);
    const report = await deliverQueue(q, async (g) => (g.recipients.includes('web@example.com') ? failed : sent(g.recipients)));
    assert.deepEqual(
      report.queue.map((x) => ({ host: x.notification.host, to: x.recipients, attempts: x.attempts, lastError: x.lastError })),
      [{ host: 'web1', to: ['web@example.com'], attempts: 1, lastError: 'connect ECONNREFUSED 127.0.0.1:25' }],
    );
    assert.equal(report.failed.length, 1);
  });

  it('does not retry recipients the server refused while accepting the others', async () => {
    const q = enqueue([], [n('a')], () => ['ok@example.com', 'gone@example.com'], NOW);
    const report = await deliverQueue(q, async () => ({ kind: 'sent', messageId: '<x>', accepted: ['ok@example.com'], rejected: ['gone@example.com'], response: '250' }));
    assert.deepEqual(report.queue, []);
    assert.deepEqual(report.sent[0]?.outcome.rejected, ['gone@example.com']);
  });

  it('records the remaining queue after each accepted digest (fake send), so a kill before the next one never re-sends it', async () => {
    const q = enqueue([], [n('web1'), n('db1')], (x) => (x.host === 'web1' ? [...OPS, 'web@example.com'] : OPS), NOW);
    const recorded: string[][] = [];
    const report = await deliverQueue(
      q,
      async (g) => (g.recipients.includes('web@example.com') ? failed : sent(g.recipients)),
      async (remaining) => void recorded.push(remaining.flatMap((x) => x.recipients.map((r) => `${x.notification.host} ${r}`))),
    );
    // ops@ was accepted first and recorded at once; web@ failed and stays (recorded with the final save).
    assert.deepEqual(recorded, [['web1 web@example.com']]);
    assert.equal(report.failed.length, 1);
  });
});

describe('digestMessageId', () => {
  it('is the same for the same digest in any order, and differs for other content or recipients', () => {
    const g = (hosts: string[], to: string[]): DigestGroup => ({ recipients: to, notifications: hosts.map((h) => n(h)) });
    const id = digestMessageId(g(['a', 'b'], ['ops@example.com', 'web@example.com']), 'poller01');
    assert.match(id, /^<fleetpoll-digest-[0-9a-f]{32}@poller01>$/);
    assert.equal(digestMessageId(g(['b', 'a'], ['WEB@example.com', 'ops@example.com']), 'poller01'), id);
    assert.notEqual(digestMessageId(g(['a'], ['ops@example.com', 'web@example.com']), 'poller01'), id);
    assert.notEqual(digestMessageId(g(['a', 'b'], ['ops@example.com']), 'poller01'), id);
  });
});
