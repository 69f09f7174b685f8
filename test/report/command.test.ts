// `fleetpoll report` end to end: the real CLI, a generated data dir, and a real SMTP server on loopback.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { writeFleetLogs } from '../helpers/report-log.js';
import { startSmtpServer, type SmtpTestServer } from '../helpers/smtp.js';

const SPEC = { servers: 6, start: new Date('2026-11-16T00:00:00Z'), days: 3, pollMinutes: 30, seed: 3, failureRate: 0.05, details: true };

function workdir(settings: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'fleetpoll-report-cli-'));
  writeFileSync(join(dir, 'fleetpoll.config.json'), JSON.stringify(settings));
  mkdirSync(join(dir, 'data'));
  return dir;
}

describe('fleetpoll report', () => {
  let server: SmtpTestServer;
  const dirs: string[] = [];
  before(async () => {
    server = await startSmtpServer();
  });
  after(async () => {
    await server.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const smtp = (): Record<string, unknown> => ({ host: '127.0.0.1', port: server.port, security: 'none', from: 'fleetpoll@example.com', to: ['ops@example.com'], timeoutSeconds: 10 });

  it('writes data/reports/report-3d-<end>.html and mails it with an HTML body and a plain-text part', async () => {
    const dir = workdir({ smtp: smtp(), report: { to: ['capacity@example.com', 'boss@example.com'] } });
    dirs.push(dir);
    writeFleetLogs(join(dir, 'data'), SPEC);
    const before = server.messages.length;
    const run = await runCli(['report', '--days', '3', '--end', '2026-11-18', '--email'], dir);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /report 2026-11-16 to 2026-11-18: 6 server\(s\), \d+ capacity warning\(s\); rollup rebuilt/);
    assert.match(run.stdout, /Wrote data\/reports\/report-3d-2026-11-18\.html/);
    assert.match(run.stdout, /Mailed to capacity@example\.com, boss@example\.com/);
    const [mail] = (await server.waitFor(before + 1)).slice(before);
    assert.ok(mail !== undefined);
    assert.deepEqual([...mail.envelopeTo].sort(), ['boss@example.com', 'capacity@example.com']);
    assert.match(mail.subject, /^\[fleetpoll\] utilisation report 2026-11-16 to 2026-11-18: 6 servers/);
    const file = readFileSync(join(dir, 'data', 'reports', 'report-3d-2026-11-18.html'), 'utf8');
    assert.ok(mail.html.includes('fleetpoll utilisation report') && mail.html.includes('id="server-srv0006"'), 'the HTML body is the report');
    assert.equal(mail.html.trim(), file.trim(), 'the whole report, as written to the file');
    assert.match(mail.text, /fleetpoll utilisation report 2026-11-16 to 2026-11-18/);
    assert.match(mail.text, /== srv0001: available \d+\.\d %/);
    assert.equal(mail.parsed.attachments.length, 0);
  });

  it('a large fleet gets the summary and the servers it names, with the full report attached', async () => {
    const dir = workdir({ smtp: smtp(), report: { emailMaxServers: 2, top: 1 } });
    dirs.push(dir);
    writeFleetLogs(join(dir, 'data'), SPEC);
    const before = server.messages.length;
    const run = await runCli(['report', '--days', '3', '--end', '2026-11-18', '--email', '--out', join(dir, 'week.html')], dir);
    assert.equal(run.code, 0, run.stderr);
    const [mail] = (await server.waitFor(before + 1)).slice(before);
    assert.ok(mail !== undefined);
    const sections = mail.html.match(/id="server-/g) ?? [];
    assert.ok(sections.length >= 1 && sections.length <= 2, `${sections.length} server sections in the mail`);
    assert.match(mail.html, /This e-mail details the \d servers the summary names; all 6 are in week\.html/);
    const attachment = mail.parsed.attachments[0];
    assert.equal(attachment?.filename, 'week.html');
    assert.equal(attachment?.content.toString('utf8'), readFileSync(join(dir, 'week.html'), 'utf8'));
  });

  it('exits 1 when the mail server refuses the report, and still writes the file', async () => {
    const dir = workdir({ smtp: smtp() });
    dirs.push(dir);
    writeFleetLogs(join(dir, 'data'), SPEC);
    server.mode = 'reject';
    try {
      const run = await runCli(['report', '--days', '3', '--end', '2026-11-18', '--email'], dir);
      assert.equal(run.code, 1, run.stderr);
      assert.match(run.stderr, /the report was NOT mailed: .*554/);
      assert.ok(existsSync(join(dir, 'data', 'reports', 'report-3d-2026-11-18.html')));
    } finally {
      server.mode = 'accept';
    }
  });

  it('usage errors exit 2: bad --days, bad --end, --email without smtp settings', async () => {
    const dir = workdir({});
    dirs.push(dir);
    const days = await runCli(['report', '--days', '0'], dir);
    assert.equal(days.code, 2);
    assert.match(days.stderr, /--days must be a whole number from 1 to 366 \(got 0\)/);
    const end = await runCli(['report', '--end', '2026-02-30'], dir);
    assert.equal(end.code, 2);
    assert.match(end.stderr, /--end must be a date YYYY-MM-DD \(got "2026-02-30"\)/);
    const email = await runCli(['report', '--email'], dir);
    assert.equal(email.code, 2);
    assert.match(email.stderr, /--email needs the "smtp" settings/);
    const setting = workdir({ report: { horizonDays: 0, colour: 'red' } });
    dirs.push(setting);
    const bad = await runCli(['report'], setting);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /fleetpoll\.config\.json:1: report\.horizonDays must be a number from 1 to 3650 \(got 0\)/);
    assert.match(bad.stderr, /unknown setting "report\.colour"/);
  });

  it('the default window is the last 7 complete days: weekly-<yesterday>.html, "no data" when nothing was polled', async () => {
    const dir = workdir({});
    dirs.push(dir);
    const run = await runCli(['report'], dir);
    assert.equal(run.code, 0, run.stderr);
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    assert.match(run.stdout, /no data in the window/);
    assert.match(readFileSync(join(dir, 'data', 'reports', `weekly-${yesterday}.html`), 'utf8'), /No data/);
  });
});
