// The smtp settings (validation, layering, precise errors) and sendMail against a real SMTP server.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { silentLog } from '../../src/log.js';
import { parseSmtpSettings, sendMail, type SmtpSettings } from '../../src/mail/smtp.js';
import { configProblems } from '../helpers/config.js';
import { closedPort, makeTestCert, startSmtpServer, type TestCert } from '../helpers/smtp.js';

const DIRS = { fileBase: '/etc/fleetpoll', cwd: '/work' };

function settings(over: Partial<SmtpSettings> = {}): SmtpSettings {
  return {
    host: '127.0.0.1',
    port: 25,
    security: 'none',
    auth: null,
    from: 'fleetpoll <fleetpoll@example.com>',
    to: ['ops@example.com'],
    connectTimeoutMs: 2000,
    timeoutMs: 3000,
    caFile: null,
    ...over,
  };
}

const MESSAGE = { to: ['ops@example.com', 'oncall@example.com'], subject: 'test subject', text: 'plain body', html: '<p>html body</p>' };

describe('smtp settings', () => {
  it('is null (not configured) without a section or FLEETPOLL_SMTP_HOST', () => {
    const problems: string[] = [];
    assert.equal(parseSmtpSettings(undefined, null, {}, problems, DIRS), null);
    assert.deepEqual(problems, []);
  });

  it('applies defaults: STARTTLS on 587, no auth, 10 s connect and 30 s send timeouts', () => {
    const problems: string[] = [];
    const s = parseSmtpSettings({ host: 'mail.example.com', from: 'fp@example.com', to: ['a@example.com'] }, null, {}, problems, DIRS);
    assert.deepEqual(problems, []);
    assert.deepEqual(s, {
      host: 'mail.example.com',
      port: 587,
      security: 'starttls',
      auth: null,
      from: 'fp@example.com',
      to: ['a@example.com'],
      connectTimeoutMs: 10_000,
      timeoutMs: 30_000,
      caFile: null,
    });
  });

  it('defaults the port to 465 for implicit TLS and 25 for none', () => {
    const base = { host: 'm', from: 'fp@example.com', to: ['a@example.com'] };
    assert.equal(parseSmtpSettings({ ...base, security: 'tls' }, null, {}, [], DIRS)?.port, 465);
    assert.equal(parseSmtpSettings({ ...base, security: 'none' }, null, {}, [], DIRS)?.port, 25);
  });

  it('lets FLEETPOLL_SMTP_* variables override the file, and configure SMTP without one', () => {
    const env = { FLEETPOLL_SMTP_HOST: 'relay.internal', FLEETPOLL_SMTP_PORT: '2525', FLEETPOLL_SMTP_TO: 'a@example.com, b@example.com', FLEETPOLL_SMTP_FROM: 'fp@example.com' };
    const problems: string[] = [];
    const s = parseSmtpSettings(undefined, null, env, problems, DIRS);
    assert.deepEqual(problems, []);
    assert.equal(s?.host, 'relay.internal');
    assert.equal(s?.port, 2525);
    assert.deepEqual(s?.to, ['a@example.com', 'b@example.com']);
    const fromFile = parseSmtpSettings({ host: 'file-host', port: 25, from: 'x@example.com', to: ['c@example.com'] }, null, { FLEETPOLL_SMTP_HOST: 'env-host' }, [], DIRS);
    assert.equal(fromFile?.host, 'env-host');
    assert.equal(fromFile?.port, 25);
  });

  it('keeps the user and the name of the password variable, never a password', () => {
    const s = parseSmtpSettings({ host: 'm', from: 'fp@example.com', to: ['a@example.com'], user: 'fleetpoll', passwordEnv: 'MAIL_PW' }, null, {}, [], DIRS);
    assert.deepEqual(s?.auth, { user: 'fleetpoll', passwordEnv: 'MAIL_PW' });
    const d = parseSmtpSettings({ host: 'm', from: 'fp@example.com', to: ['a@example.com'], user: 'fleetpoll' }, null, {}, [], DIRS);
    assert.deepEqual(d?.auth, { user: 'fleetpoll', passwordEnv: 'FLEETPOLL_SMTP_PASSWORD' });
  });

  it('reports every bad value with the file and the line of its key', () => {
    const json = [
      '{',
      '  "ssh": { "port": 22 },',
      '  "smtp": {',
      '    "host": "mail.example.com",',
      '    "port": "abc",',
      '    "security": "ssl",',
      '    "password": "hunter2",',
      '    "from": "not an address",',
      '    "to": [',
      '      "ops@example.com",',
      '      "nobody"',
      '    ],',
      '    "timeoutSeconds": 0,',
      '    "prot": 25',
      '  }',
      '}',
    ].join('\n');
    assert.deepEqual(configProblems(json), [
      'fleetpoll.config.json:7: smtp.password is not allowed: put the password in an environment variable and name it in smtp.passwordEnv (default FLEETPOLL_SMTP_PASSWORD)',
      'fleetpoll.config.json:14: unknown setting "smtp.prot" (known: smtp.host, smtp.port, smtp.security, smtp.user, smtp.passwordEnv, smtp.from, smtp.to, smtp.connectTimeoutSeconds, smtp.timeoutSeconds, smtp.caFile)',
      'fleetpoll.config.json:6: smtp.security must be one of "starttls", "tls", "none" (got "ssl")',
      'fleetpoll.config.json:11: smtp.to must be a list of e-mail addresses (got "nobody")',
      'fleetpoll.config.json:13: smtp.timeoutSeconds must be a number from 1 to 600 (got 0)',
      'fleetpoll.config.json:5: smtp.port must be a whole number from 1 to 65535 (got "abc")',
      'fleetpoll.config.json:8: smtp.from must be an e-mail address, optionally as "Name <address>" (got "not an address")',
    ]);
  });

  it('names the missing required settings and the variable that gave a bad value', () => {
    assert.deepEqual(configProblems('{\n  "smtp": {\n    "port": 25\n  }\n}\n'), [
      'fleetpoll.config.json:2: smtp.host is required (the mail server\'s name or address)',
      'fleetpoll.config.json:2: smtp.from is required (the sender address, e.g. "fleetpoll <fleetpoll@example.com>")',
      'fleetpoll.config.json:2: smtp.to is required (a list of recipient addresses)',
    ]);
    assert.deepEqual(configProblems('{ "smtp": { "host": "m", "from": "a@b.c", "to": ["a@b.c"] } }', { FLEETPOLL_SMTP_PORT: '99999' }), [
      'environment variable FLEETPOLL_SMTP_PORT: smtp.port must be a whole number from 1 to 65535 (got "99999")',
    ]);
    assert.deepEqual(configProblems('{ "smtp": { "host": "m", "from": "a@b.c", "to": [] } }'), [
      'fleetpoll.config.json:1: smtp.to must be a non-empty list of e-mail addresses (got [])',
    ]);
  });

  it('appears on Config as null when not configured, and still rejects unknown top-level settings', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fleetpoll-smtpcfg-'));
    try {
      assert.equal(loadConfig({}, {}, dir, 'me').smtp, null);
      writeFileSync(join(dir, 'fleetpoll.config.json'), '{ "smtp": { "host": "m", "from": "a@b.c", "to": ["a@b.c"] } }');
      assert.equal(loadConfig({}, {}, dir, 'me').smtp?.host, 'm');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('sendMail through a real SMTP server', () => {
  let cert: TestCert;
  before(() => {
    cert = makeTestCert();
  });
  after(() => cert?.remove());

  it('delivers text and HTML parts to every recipient', async () => {
    const server = await startSmtpServer();
    try {
      const outcome = await sendMail(settings({ port: server.port }), MESSAGE, silentLog);
      assert.equal(outcome.kind, 'sent', JSON.stringify(outcome));
      const [mail] = await server.waitFor(1);
      assert.deepEqual(mail?.envelopeTo, ['ops@example.com', 'oncall@example.com']);
      assert.equal(mail?.envelopeFrom, 'fleetpoll@example.com');
      assert.equal(mail?.subject, 'test subject');
      assert.equal(mail?.text.trim(), 'plain body');
      assert.match(mail?.html ?? '', /<p>html body<\/p>/);
      assert.equal(mail?.secure, false);
    } finally {
      await server.stop();
    }
  });

  it('delivers attachments', async () => {
    const server = await startSmtpServer();
    try {
      const attachments = [{ filename: 'report.html', content: '<h1>week 47</h1>', contentType: 'text/html' }, { filename: 'data.csv', content: Buffer.from('a,b\n1,2\n') }];
      const outcome = await sendMail(settings({ port: server.port }), { ...MESSAGE, attachments }, silentLog);
      assert.equal(outcome.kind, 'sent', JSON.stringify(outcome));
      const [mail] = await server.waitFor(1);
      assert.deepEqual(
        mail?.parsed.attachments.map((a) => [a.filename, a.content.toString()]),
        [
          ['report.html', '<h1>week 47</h1>'],
          ['data.csv', 'a,b\n1,2\n'],
        ],
      );
    } finally {
      await server.stop();
    }
  });

  it('uses STARTTLS with the CA from smtp.caFile and logs in with the password from the environment', async () => {
    const server = await startSmtpServer({ tls: { key: cert.key, cert: cert.cert }, users: { fleetpoll: 's3cret' } });
    try {
      const s = settings({ port: server.port, security: 'starttls', caFile: cert.certFile, auth: { user: 'fleetpoll', passwordEnv: 'TEST_SMTP_PW' } });
      const outcome = await sendMail(s, MESSAGE, silentLog, { env: { TEST_SMTP_PW: 's3cret' } });
      assert.equal(outcome.kind, 'sent', JSON.stringify(outcome));
      const [mail] = await server.waitFor(1);
      assert.equal(mail?.user, 'fleetpoll');
      assert.equal(mail?.secure, true);

      const wrong = await sendMail(s, MESSAGE, silentLog, { env: { TEST_SMTP_PW: 'nope' } });
      assert.equal(wrong.kind, 'failed');
      assert.equal(wrong.kind === 'failed' && wrong.code, 'EAUTH');
      assert.equal(wrong.kind === 'failed' && wrong.responseCode, 535);
    } finally {
      await server.stop();
    }
  });

  it('refuses to send without the password variable, before connecting', async () => {
    const s = settings({ port: await closedPort(), auth: { user: 'fleetpoll', passwordEnv: 'TEST_SMTP_PW_UNSET' } });
    const outcome = await sendMail(s, MESSAGE, silentLog, { env: {} });
    assert.deepEqual(outcome, {
      kind: 'failed',
      reason: 'smtp.user is set but environment variable TEST_SMTP_PW_UNSET (the password) is not set',
      code: 'ENOAUTH',
      responseCode: null,
    });
  });

  it('speaks TLS from the first byte with security "tls"', async () => {
    const server = await startSmtpServer({ secure: true, tls: { key: cert.key, cert: cert.cert } });
    try {
      const outcome = await sendMail(settings({ port: server.port, security: 'tls', caFile: cert.certFile }), MESSAGE, silentLog);
      assert.equal(outcome.kind, 'sent', JSON.stringify(outcome));
      const [mail] = await server.waitFor(1);
      assert.equal(mail?.secure, true);
    } finally {
      await server.stop();
    }
  });

  it('fails rather than send in clear text when STARTTLS is required but not offered', async () => {
    const server = await startSmtpServer();
    try {
      const outcome = await sendMail(settings({ port: server.port, security: 'starttls' }), MESSAGE, silentLog);
      assert.equal(outcome.kind, 'failed');
      assert.equal(server.messages.length, 0);
    } finally {
      await server.stop();
    }
  });

  it('fails on an untrusted certificate', async () => {
    const server = await startSmtpServer({ secure: true, tls: { key: cert.key, cert: cert.cert } });
    try {
      const outcome = await sendMail(settings({ port: server.port, security: 'tls' }), MESSAGE, silentLog);
      assert.equal(outcome.kind, 'failed');
      assert.match(outcome.kind === 'failed' ? outcome.reason : '', /certificate/i);
    } finally {
      await server.stop();
    }
  });

  it('returns the server reply for a temporary (451) and a permanent (554) refusal', async () => {
    const server = await startSmtpServer();
    try {
      server.mode = 'tempfail';
      const temp = await sendMail(settings({ port: server.port }), MESSAGE, silentLog);
      assert.equal(temp.kind === 'failed' && temp.responseCode, 451);
      assert.match(temp.kind === 'failed' ? temp.reason : '', /temporarily unavailable/);
      server.mode = 'reject';
      const perm = await sendMail(settings({ port: server.port }), MESSAGE, silentLog);
      assert.equal(perm.kind === 'failed' && perm.responseCode, 554);
      assert.equal(server.messages.length, 0);
    } finally {
      await server.stop();
    }
  });

  it('fails fast when nothing listens, and within the timeout when the server never answers', async () => {
    const refused = await sendMail(settings({ port: await closedPort() }), MESSAGE, silentLog);
    assert.equal(refused.kind, 'failed');
    assert.match(refused.kind === 'failed' ? refused.reason : '', /ECONNREFUSED/);

    const hung = await startSmtpServer({ silent: true });
    try {
      const started = Date.now();
      const outcome = await sendMail(settings({ port: hung.port, connectTimeoutMs: 500, timeoutMs: 1000 }), MESSAGE, silentLog);
      const elapsed = Date.now() - started;
      assert.equal(outcome.kind, 'failed');
      assert.ok(elapsed < 2500, `took ${elapsed} ms`);
      assert.equal(outcome.kind === 'failed' && outcome.reason, `127.0.0.1:${hung.port} did not answer within 0.5 s (smtp.connectTimeoutSeconds)`);
    } finally {
      await hung.stop();
    }
  });

  it('names the server and smtp.timeoutSeconds when a TCP listener accepts and never speaks, whichever deadline aborts', async () => {
    const sockets: Socket[] = [];
    const listener = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const port = (listener.address() as AddressInfo).port;
    try {
      const s = settings({ port, connectTimeoutMs: 1000, timeoutMs: 1000 });
      // As run-alerts does: the caller's deadline of the same length, started first, aborts the send.
      const outer = AbortSignal.timeout(1000);
      for (const signal of [outer, undefined]) {
        const outcome = await sendMail(s, MESSAGE, silentLog, { signal });
        assert.deepEqual(outcome, { kind: 'failed', reason: `127.0.0.1:${port} did not answer within 1 s (smtp.timeoutSeconds)`, code: 'ETIMEDOUT', responseCode: null });
      }
      assert.ok(sockets.length >= 2, 'the listener really accepted the connections');
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => listener.close(resolve));
    }
  });
});
