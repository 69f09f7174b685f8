// One run's alerting end to end against a real SMTP server on loopback: digests, the queue, recovery.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runAlerts } from '../../src/alerts/run-alerts.js';
import { emptyState, loadState, saveState } from '../../src/alerts/state.js';
import { silentLog } from '../../src/log.js';
import type { SmtpSettings } from '../../src/mail/smtp.js';
import type { PollResult } from '../../src/model.js';
import { alertSettings, POLL_MS, result, T0 } from '../helpers/alerts.js';
import { closedPort, startSmtpServer, type ReceivedMail, type SmtpTestServer } from '../helpers/smtp.js';

const DOWN = { status: 'unreachable', phase: 'connect', error: 'connect ECONNREFUSED 10.1.2.3:22' } as const;
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function smtpOn(port: number, over: Partial<SmtpSettings> = {}): SmtpSettings {
  return { host: '127.0.0.1', port, security: 'none', auth: null, from: 'fleetpoll@example.com', to: ['ops@example.com'], connectTimeoutMs: 2000, timeoutMs: 5000, caFile: null, ...over };
}

/** A data dir whose alert state exists (empty), so the first run evaluates normally. */
async function dataDir(withState = true): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'fleetpoll-runalerts-'));
  dirs.push(dir);
  if (withState) await saveState(join(dir, 'alert-state.json'), emptyState());
  return dir;
}

// Runs alerting for poll number `i` (5 minutes apart).
function run(dir: string, smtp: SmtpSettings | null, i: number, results: PollResult[], alerts = alertSettings()) {
  return runAlerts({
    config: { dataDir: dir, smtp, alerts },
    inventoryHosts: results.map((r) => r.host),
    results,
    now: new Date(T0.getTime() + i * POLL_MS),
    log: silentLog,
    env: {},
  });
}

async function withServer<T>(fn: (server: SmtpTestServer) => Promise<T>): Promise<T> {
  const server = await startSmtpServer();
  try {
    return await fn(server);
  } finally {
    await server.stop();
  }
}

const settle = () => new Promise((r) => setTimeout(r, 300));

describe('runAlerts with a real SMTP server', () => {
  it('mails on the second poll over the threshold, not the first, and once only', async () => {
    await withServer(async (server) => {
      const dir = await dataDir();
      const smtp = smtpOn(server.port);
      const first = await run(dir, smtp, 0, [result('web01', { cpu: 97 })]);
      await settle();
      assert.equal(server.messages.length, 0);
      assert.equal(first.notified, 0);
      const second = await run(dir, smtp, 1, [result('web01', { cpu: 97 })]);
      const [mail] = await server.waitFor(1);
      assert.equal(second.mailsSent, 1);
      assert.equal(second.queued, 0);
      assert.equal(second.firing, 1);
      assert.equal(mail?.subject, '[fleetpoll] 1 firing — web01 CPU 97%');
      assert.match(mail?.parsed.messageId ?? '', /^<fleetpoll-digest-[0-9a-f]{32}@.+>$/, 'a Message-ID a re-send after a kill repeats');
      assert.deepEqual(mail?.envelopeTo, ['ops@example.com']);
      assert.match(mail?.text ?? '', /web01 {2}CPU 97\.0% \(warning at 90%\), since 2026-11-22 10:00 UTC/);
      assert.match(mail?.text ?? '', /java \[app\]/, 'the top process is named');
      assert.match(mail?.html ?? '', /java \[app\]/);
      await run(dir, smtp, 2, [result('web01', { cpu: 97 })]);
      await run(dir, smtp, 3, [result('web01', { cpu: 97 })]);
      await settle();
      assert.equal(server.messages.length, 1);
    });
  });

  it('sends exactly one e-mail naming all 200 hosts that went down in one poll', async () => {
    await withServer(async (server) => {
      const dir = await dataDir();
      const smtp = smtpOn(server.port);
      const fleet = (down: boolean) => Array.from({ length: 200 }, (_, i) => result(`node${String(i + 1).padStart(3, '0')}`, down ? { down: DOWN } : {}));
      await run(dir, smtp, 0, fleet(false));
      await run(dir, smtp, 1, fleet(true));
      const outcome = await run(dir, smtp, 2, fleet(true));
      await settle();
      assert.equal(outcome.notified, 200);
      assert.equal(server.messages.length, 1);
      const mail = server.messages[0] as ReceivedMail;
      assert.equal(mail.subject, '[fleetpoll] 200 firing — 200 hosts down');
      for (let i = 1; i <= 200; i += 1) {
        const name = `node${String(i).padStart(3, '0')}`;
        assert.ok(mail.text.includes(name), `${name} in the text part`);
        assert.ok(mail.html.includes(name), `${name} in the HTML part`);
      }
      assert.match(mail.text, /unreachable \(connect\): 200 host\(s\)/);
    });
  });

  for (const outage of ['nothing listening', 'the server refusing with 451 then 554'] as const) {
    it(`keeps notifications queued while SMTP is down (${outage}) and delivers them once when it is back`, async () => {
      const dir = await dataDir();
      const alerts = alertSettings({ firePolls: 1, down: { firePolls: 1 } });
      const port = await closedPort();
      let server: SmtpTestServer | null = null;
      if (outage !== 'nothing listening') {
        server = await startSmtpServer({ port });
        server.mode = 'tempfail';
      }
      const smtp = smtpOn(port);
      try {
        const r1 = await run(dir, smtp, 0, [result('web01', { cpu: 99 }), result('db01')], alerts);
        assert.equal(r1.notified, 1);
        assert.equal(r1.queued, 1);
        assert.equal(r1.mailsSent, 0);
        assert.match(r1.warnings.join('\n'), /alert mail not delivered \(.*(ECONNREFUSED|temporarily).*\); 1 notification\(s\) stay queued/);
        if (server !== null) server.mode = 'reject';
        const r2 = await run(dir, smtp, 1, [result('web01', { cpu: 99 }), result('db01', { down: DOWN })], alerts);
        assert.equal(r2.queued, 2);
        const queued = await loadState(join(dir, 'alert-state.json'));
        assert.equal(queued.kind === 'ok' && queued.state.queue.every((q) => q.attempts >= 1 && q.lastError !== null), true);
        assert.equal(server?.messages.length ?? 0, 0);

        if (server === null) server = await startSmtpServer({ port });
        server.mode = 'accept';
        const r3 = await run(dir, smtp, 2, [result('web01', { cpu: 99 }), result('db01', { down: DOWN })], alerts);
        assert.equal(r3.mailsSent, 1);
        assert.equal(r3.queued, 0);
        const [mail] = await server.waitFor(1);
        assert.equal(mail?.subject, '[fleetpoll] 2 firing — db01 down, web01 CPU 99%');
        assert.match(mail?.text ?? '', /web01 {2}CPU 99\.0% \(critical at 98%\), since 2026-11-22 10:00 UTC/, 'the original firing time');
        assert.match(mail?.text ?? '', /2 of these are late/);
        await run(dir, smtp, 3, [result('web01', { cpu: 99 }), result('db01', { down: DOWN })], alerts);
        await settle();
        assert.equal(server.messages.length, 1, 'nothing is sent twice');
      } finally {
        await server?.stop();
      }
    });
  }

  it('bounds the run by smtp.timeoutSeconds when the server never answers', async () => {
    const hung = await startSmtpServer({ silent: true });
    try {
      const dir = await dataDir();
      const started = Date.now();
      const outcome = await run(dir, smtpOn(hung.port, { connectTimeoutMs: 1000, timeoutMs: 1000 }), 0, [result('h', { down: DOWN })], alertSettings({ down: { firePolls: 1 } }));
      const elapsed = Date.now() - started;
      assert.ok(elapsed < 3000, `took ${elapsed} ms`);
      assert.equal(outcome.queued, 1);
    } finally {
      await hung.stop();
    }
  });

  it('delivers a process named <script>alert(1)</script> escaped in the HTML part', async () => {
    await withServer(async (server) => {
      const dir = await dataDir();
      const procs = [{ pid: 666, user: 'mallory', cpuPct: 390, rssKb: 1000, name: '<script>alert(1)</script>' }];
      const alerts = alertSettings({ firePolls: 1 });
      await run(dir, smtpOn(server.port), 0, [result('web01', { cpu: 99, procs })], alerts);
      const [mail] = await server.waitFor(1);
      assert.ok(!(mail?.html ?? '').includes('<script>'), 'no live script tag in the HTML part');
      assert.ok((mail?.html ?? '').includes('&#60;script&#62;alert(1)&#60;/script&#62;'));
      assert.ok((mail?.text ?? '').includes('<script>alert(1)</script> [mallory]'), 'the text part shows the name as it is');
    });
  });

  it('sends per-host alert_to recipients their hosts only, and nothing for alerts=off', async () => {
    await withServer(async (server) => {
      const dir = await dataDir();
      const alerts = alertSettings({ firePolls: 1 });
      await run(dir, smtpOn(server.port), 0, [
        result('web01', { cpu: 99, extra: { alert_to: 'web-team@example.com' } }),
        result('db01', { memPct: 99 }),
        result('lab01', { cpu: 99, extra: { alerts: 'off' } }),
      ], alerts);
      await server.waitFor(2);
      await settle();
      const byRecipients = Object.fromEntries(server.messages.map((m) => [m.envelopeTo.join(','), m.subject]));
      assert.deepEqual(byRecipients, {
        'ops@example.com': '[fleetpoll] 2 firing — db01 memory 99%, web01 CPU 99%',
        'web-team@example.com': '[fleetpoll] 1 firing — web01 CPU 99%',
      });
    });
  });

  it('rebuilds a corrupt state without re-alerting what is already true', async () => {
    await withServer(async (server) => {
      const dir = await dataDir(false);
      writeFileSync(join(dir, 'alert-state.json'), '{"version":1,"alerts":[');
      const alerts = alertSettings({ firePolls: 1, down: { firePolls: 1 } });
      const fleet = (cpu: number) => Array.from({ length: 30 }, (_, i) => result(`h${i}`, i < 10 ? { down: DOWN } : { cpu }));
      const r1 = await run(dir, smtpOn(server.port), 0, fleet(99), alerts);
      assert.equal(r1.notified, 0);
      assert.equal(r1.firing, 30);
      assert.match(r1.warnings.join('\n'), /is unusable \(not valid JSON.*moved to .*alert-state\.corrupt-.*\.json.*without mail/);
      assert.equal(readdirSync(dir).filter((f) => f.startsWith('alert-state.corrupt-')).length, 1);
      await run(dir, smtpOn(server.port), 1, fleet(99), alerts);
      await settle();
      assert.equal(server.messages.length, 0, 'no storm');
      const loaded = await loadState(join(dir, 'alert-state.json'));
      assert.equal(loaded.kind, 'ok');
    });
  });

  it('a missing state is a first run: conditions that hold fire normally', async () => {
    const dir = await dataDir(false);
    const outcome = await run(dir, smtpOn(await closedPort()), 0, [result('h', { cpu: 99 })], alertSettings({ firePolls: 1 }));
    assert.equal(outcome.notified, 1, 'a host already over its threshold on the first run is announced');
    assert.equal(outcome.firing, 1);
    assert.equal(outcome.queued, 1, 'queued, since the mail server is down');
    assert.ok(existsSync(join(dir, 'alert-state.json')));
  });

  it('evaluates without mail when smtp is not configured, and says so', async () => {
    const dir = await dataDir();
    const outcome = await run(dir, null, 0, [result('h', { cpu: 99 })], alertSettings({ firePolls: 1 }));
    assert.equal(outcome.firing, 1);
    assert.equal(outcome.queued, 0);
    assert.match(outcome.warnings.join('\n'), /1 alert notification\(s\) not mailed: smtp is not configured/);
  });

  it('does nothing when alerts are turned off', async () => {
    const dir = await dataDir(false);
    const outcome = await run(dir, null, 0, [result('h', { cpu: 99 })], alertSettings({ enabled: false }));
    assert.equal(outcome.enabled, false);
    assert.ok(!existsSync(join(dir, 'alert-state.json')));
  });
});
