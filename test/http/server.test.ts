// The server as a whole: authentication (token, Basic with scrypt hashes), the one error shape for
// every failure, refusal to start when exposed without TLS or credentials, and a real HTTPS
// listen on 127.0.0.1 driven by curl. Routes read a fake HistoryReader (see fakes.ts).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HttpStartError, MIN_TOKEN_LENGTH } from '../../src/http/auth.js';
import { hashPassword } from '../../src/http/password.js';
import { listenHttp } from '../../src/http/server.js';
import { DEFAULT_HTTP_SETTINGS } from '../../src/http/settings.js';
import { missingTool } from '../helpers/sshd.js';
import { makeTestCert, type TestCert } from '../helpers/smtp.js';
import { assertApiError, fakeServer } from './fakes.js';

const TOKEN = 'tok-0123456789abcdef-0123456789abcdef';
const cheap = { n: 1024, r: 8, p: 1 };
const dir = mkdtempSync(join(tmpdir(), 'fleetpoll-http-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function startProblems(fn: () => unknown): readonly string[] {
  try {
    const built = fn() as { app?: { close(): unknown } };
    void built.app?.close();
  } catch (error) {
    if (error instanceof HttpStartError) return error.problems;
    throw error;
  }
  return [];
}

describe('no credentials configured, on loopback', () => {
  it('answers without authentication', async () => {
    const { app } = fakeServer();
    const res = await app.inject({ method: 'GET', url: '/api/v1/hosts' });
    assert.equal(res.statusCode, 200);
    await app.close();
  });
});

describe('access token', () => {
  const { app, log } = fakeServer({}, { FLEETPOLL_HTTP_TOKEN: TOKEN });
  after(() => app.close());

  it('missing or wrong token: 401 with WWW-Authenticate and nothing else (no host data, no secret)', async () => {
    for (const authorization of [undefined, 'Bearer wrong-token-0123456789', `Bearer ${TOKEN}x`, TOKEN, `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}`, 'Bearer']) {
      const res = await app.inject({ method: 'GET', url: '/api/v1/hosts', headers: authorization === undefined ? {} : { authorization } });
      assertApiError(res, 401, 'unauthorized', authorization === undefined ? 'credentials are required: send "Authorization: Bearer <token>"' : 'the credentials were not accepted');
      assert.equal(res.headers['www-authenticate'], 'Bearer realm="fleetpoll"');
      assert.doesNotMatch(res.body + JSON.stringify(res.headers), /web01|db01|tok-0123/);
    }
    assert.ok(log.lines.some((l) => l.level === 'warn' && l.message === 'http request refused: credentials not accepted'));
    assert.doesNotMatch(JSON.stringify(log.lines), /tok-0123/, 'the log never holds the token');
  });

  it('the right token opens every route; the scheme name is case-insensitive', async () => {
    for (const scheme of ['Bearer', 'bearer']) {
      const res = await app.inject({ method: 'GET', url: '/api/v1/hosts', headers: { authorization: `${scheme} ${TOKEN}` } });
      assert.equal(res.statusCode, 200);
    }
  });

  it('is required before anything else: unknown routes and other methods are 401 too (no route discovery)', async () => {
    assertApiError(await app.inject({ method: 'GET', url: '/nosuch' }), 401, 'unauthorized', /^credentials are required/);
    assertApiError(await app.inject({ method: 'DELETE', url: '/api/v1/hosts' }), 401, 'unauthorized', /^credentials are required/);
    assertApiError(await app.inject({ method: 'GET', url: '/healthz' }), 401, 'unauthorized', /^credentials are required/);
  });

  it('comes from a file named in the settings, which must be private and long enough', () => {
    const file = join(dir, 'token');
    writeFileSync(file, `${TOKEN}\n`);
    chmodSync(file, 0o600);
    assert.deepEqual(startProblems(() => fakeServer({ tokenFile: file })), []);
    chmodSync(file, 0o644);
    assert.deepEqual(startProblems(() => fakeServer({ tokenFile: file })), [`http.tokenFile ${file} is readable by every user of this machine: chmod o-r (or 600) it`]);
    writeFileSync(file, 'short\n', { mode: 0o600 });
    chmodSync(file, 0o600);
    assert.deepEqual(startProblems(() => fakeServer({ tokenFile: file })), [`http.tokenFile ${file}: the access token must be at least ${MIN_TOKEN_LENGTH} characters`]);
    writeFileSync(file, '\n');
    assert.match(startProblems(() => fakeServer({ tokenFile: file }))[0] ?? '', /is empty: put the access token in it/);
    assert.match(startProblems(() => fakeServer({ tokenFile: join(dir, 'missing') }))[0] ?? '', /^http\.tokenFile .*missing cannot be read: ENOENT/);
    assert.deepEqual(startProblems(() => fakeServer({}, { FLEETPOLL_HTTP_TOKEN: 'short' })), [
      'environment variable FLEETPOLL_HTTP_TOKEN: the access token must be at least 16 characters (e.g. openssl rand -hex 32)',
    ]);
    assert.deepEqual(startProblems(() => fakeServer({}, { FLEETPOLL_HTTP_TOKEN: 'two words but long enough' })), [
      'environment variable FLEETPOLL_HTTP_TOKEN: the access token must be one word, without spaces (e.g. openssl rand -hex 32)',
    ]);
  });
});

describe('users with scrypt hashes (Basic)', async () => {
  const users = [{ name: 'alice', passwordHash: await hashPassword('s3cret pass', cheap) }];
  const { app } = fakeServer({ users }, { FLEETPOLL_HTTP_TOKEN: TOKEN });
  after(() => app.close());
  const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });

  it('the right password opens, twice (the second from the verified cache); a token still works', async () => {
    assert.equal((await app.inject({ method: 'GET', url: '/api/v1/hosts', headers: basic('alice', 's3cret pass') })).statusCode, 200);
    assert.equal((await app.inject({ method: 'GET', url: '/api/v1/hosts', headers: basic('alice', 's3cret pass') })).statusCode, 200);
    assert.equal((await app.inject({ method: 'GET', url: '/api/v1/hosts', headers: { authorization: `Bearer ${TOKEN}` } })).statusCode, 200);
  });

  it('a wrong password, an unknown user or a garbled header is 401, offering both schemes', async () => {
    for (const headers of [basic('alice', 's3cret pas'), basic('alice', ''), basic('mallory', 's3cret pass'), { authorization: 'Basic !!!' }, { authorization: 'Digest x' }]) {
      const res = await app.inject({ method: 'GET', url: '/api/v1/hosts', headers });
      assertApiError(res, 401, 'unauthorized', 'the credentials were not accepted');
      assert.deepEqual(res.headers['www-authenticate'], ['Bearer realm="fleetpoll"', 'Basic realm="fleetpoll", charset="UTF-8"']);
    }
    // A verified password stays verified only for itself.
    assertApiError(await app.inject({ method: 'GET', url: '/api/v1/hosts', headers: basic('alice', 's3cret pass!') }), 401, 'unauthorized', /not accepted/);
    const missing = await app.inject({ method: 'GET', url: '/api/v1/hosts' });
    assertApiError(missing, 401, 'unauthorized', 'credentials are required: send "Authorization: Bearer <token>" or a user name and password (Basic)');
  });
});

describe('errors: one shape, the right status, nothing internal', () => {
  const { app, reader, log } = fakeServer();
  // A route that takes a body, as push ingest will: only to drive the 413 and 415 paths of the error handler.
  app.post('/test-only/upload', async () => ({ ok: true }));
  after(() => app.close());

  it('404 for an unknown route', async () => {
    assertApiError(await app.inject({ method: 'GET', url: '/api/v2/hosts?x=1' }), 404, 'not_found', 'no such endpoint: GET /api/v2/hosts');
  });

  it('405 with Allow for a method a read-only route does not take', async () => {
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE'] as const) {
      const res = await app.inject({ method, url: '/api/v1/hosts/web01/series', payload: 'x'.repeat(2 * 1024 * 1024) });
      assertApiError(res, 405, 'method_not_allowed', `${method} is not allowed here: this endpoint is read-only (GET or HEAD)`);
      assert.equal(res.headers.allow, 'GET, HEAD');
    }
  });

  it('413 for a body over the limit, 415 for a content type nobody parses, 400 for broken JSON', async () => {
    assertApiError(
      await app.inject({ method: 'POST', url: '/test-only/upload', payload: JSON.stringify({ a: 'x'.repeat(1024 * 1024) }), headers: { 'content-type': 'application/json' } }),
      413,
      'payload_too_large',
      'the request body is larger than this endpoint accepts',
    );
    assertApiError(
      await app.inject({ method: 'POST', url: '/test-only/upload', payload: 'a', headers: { 'content-type': 'application/x-nope' } }),
      415,
      'unsupported_media_type',
      'this endpoint does not accept a body of that content type',
    );
    assertApiError(await app.inject({ method: 'POST', url: '/test-only/upload', payload: '{"a":', headers: { 'content-type': 'application/json' } }), 400, 'bad_request', 'the body is not valid JSON');
  });

  it('400 for a URL that does not decode', async () => {
    assertApiError(await app.inject({ method: 'GET', url: '/api/v1/hosts/%E0%A4%A/series' }), 400, 'bad_request', /^the URL is not valid/);
  });

  it('500 without internals when the store fails; the log has the cause', async () => {
    reader.failWith = new Error('SQLITE_CORRUPT: database disk image is malformed (/var/lib/fleetpoll/history.sqlite)');
    try {
      const res = await app.inject({ method: 'GET', url: '/api/v1/hosts' });
      assertApiError(res, 500, 'internal_error', 'fleetpoll could not answer this request; the service log has the details');
      assert.doesNotMatch(res.body, /SQLITE|sqlite|at |\.js/);
      assert.ok(log.lines.some((l) => l.level === 'error' && String(l.meta?.error).includes('SQLITE_CORRUPT')));
    } finally {
      reader.failWith = null;
    }
  });
});

describe('refusal to start when exposed unsafely', () => {
  it('beyond loopback without TLS or insecure, and without credentials: both reasons', () => {
    assert.deepEqual(startProblems(() => fakeServer({ bind: '0.0.0.0' })), [
      'http.bind is 0.0.0.0, which is not loopback: set http.tls.certFile and http.tls.keyFile for HTTPS, or "insecure": true to accept plain HTTP on the network (tokens and passwords then travel in clear)',
      'http.bind is 0.0.0.0, which is not loopback: set an access token (environment variable FLEETPOLL_HTTP_TOKEN or a file named by http.tokenFile) or http.users with password hashes from "fleetpoll http hash-password"',
    ]);
  });

  it('beyond loopback with insecure but no credentials: refused', () => {
    assert.deepEqual(startProblems(() => fakeServer({ bind: '10.1.2.3', insecure: true })), [
      'http.bind is 10.1.2.3, which is not loopback: set an access token (environment variable FLEETPOLL_HTTP_TOKEN or a file named by http.tokenFile) or http.users with password hashes from "fleetpoll http hash-password"',
    ]);
  });

  it('beyond loopback with a token but plain HTTP: refused unless insecure', () => {
    const env = { FLEETPOLL_HTTP_TOKEN: TOKEN };
    assert.match(startProblems(() => fakeServer({ bind: '::' }, env))[0] ?? '', /^http\.bind is ::, which is not loopback: set http\.tls\.certFile/);
    assert.deepEqual(startProblems(() => fakeServer({ bind: '::', insecure: true }, env)), []);
  });

  it('TLS files that cannot be read or used are named', () => {
    const garbage = join(dir, 'garbage.pem');
    writeFileSync(garbage, 'not a pem');
    const missing = join(dir, 'nope.pem');
    assert.deepEqual(startProblems(() => fakeServer({ tls: { certFile: missing, keyFile: garbage } })), [
      `http.tls.certFile ${missing} cannot be read: ENOENT: no such file or directory, open '${missing}'`,
    ]);
    assert.match(startProblems(() => fakeServer({ tls: { certFile: garbage, keyFile: garbage } }))[0] ?? '', /^http\.tls: .*garbage\.pem and .*garbage\.pem are not a usable certificate and private key \(PEM\): /);
  });
});

describe('real HTTPS on 127.0.0.1, driven by curl', () => {
  const curl = '/usr/bin/curl';
  const skip = missingTool(curl) ?? missingTool('/usr/bin/openssl');
  let cert: TestCert;
  let base = '';
  let close: () => Promise<unknown> = async () => undefined;

  before(async () => {
    if (skip !== null) return;
    cert = makeTestCert();
    const keyFile = join(cert.dir, 'key.pem');
    const users = [{ name: 'alice', passwordHash: await hashPassword('s3cret pass', cheap) }];
    const { app } = fakeServer({ port: 0, tls: { certFile: cert.certFile, keyFile }, users }, { FLEETPOLL_HTTP_TOKEN: TOKEN });
    close = () => app.close();
    base = await listenHttp(app, { ...DEFAULT_HTTP_SETTINGS, port: 0, tls: { certFile: cert.certFile, keyFile } });
  });
  after(async () => {
    await close();
    if (skip === null) cert.remove();
  });

  // One curl request verifying the certificate; returns the status, headers (lower-cased) and body.
  const request = (path: string, ...args: string[]) =>
    new Promise<{ statusCode: number; headers: Record<string, string>; body: string }>((resolveRun, reject) => {
      execFile(curl, ['-sS', '-i', '--cacert', cert.certFile, ...args, `${base}${path}`], (error, stdout, stderr) => {
        if (error !== null) return reject(new Error(`curl failed: ${stderr}`));
        const [head = '', ...rest] = stdout.split('\r\n\r\n');
        const [statusLine = '', ...headerLines] = head.split('\r\n');
        const headers: Record<string, string> = {};
        for (const line of headerLines) {
          const colon = line.indexOf(':');
          const name = line.slice(0, colon).toLowerCase();
          headers[name] = headers[name] === undefined ? line.slice(colon + 1).trim() : `${headers[name]}, ${line.slice(colon + 1).trim()}`;
        }
        resolveRun({ statusCode: Number(statusLine.split(' ')[1]), headers, body: rest.join('\r\n\r\n') });
      });
    });

  it('serves HTTPS with the configured certificate', { skip: skip ?? false }, async () => {
    assert.match(base, /^https:\/\/127\.0\.0\.1:\d+$/);
    const res = await request('/api/v1/hosts', '-H', `Authorization: Bearer ${TOKEN}`);
    assert.equal(res.statusCode, 200);
    assert.deepEqual((JSON.parse(res.body) as { hosts: { host: string }[] }).hosts.map((h) => h.host), ['web01', 'db01']);
  });

  it('no token or a wrong one: 401, WWW-Authenticate, nothing leaks', { skip: skip ?? false }, async () => {
    for (const args of [[], ['-H', 'Authorization: Bearer not-the-token-at-all'], ['-u', 'alice:wrong']]) {
      const res = await request('/api/v1/hosts/web01/processes', ...args);
      assertApiError(res, 401, 'unauthorized', /^(credentials are required|the credentials were not accepted)/);
      assert.equal(res.headers['www-authenticate'], 'Bearer realm="fleetpoll", Basic realm="fleetpoll", charset="UTF-8"');
      assert.doesNotMatch(res.body, /web01|img|www-data/);
    }
  });

  it('Basic auth with a hashed password (curl -u)', { skip: skip ?? false }, async () => {
    const res = await request('/api/v1/hosts/web01/processes?at=2026-12-04T11:58:20Z', '-u', 'alice:s3cret pass');
    assert.equal(res.statusCode, 200);
    assert.equal((JSON.parse(res.body) as { processes: { name: string }[] }).processes[0]?.name, '<img src=x onerror=alert(1)>');
    assert.match(res.headers['content-type'] ?? '', /^application\/json/);
  });

  it('bad input over the wire: 400 and 404 in the one shape', { skip: skip ?? false }, async () => {
    const auth = ['-H', `Authorization: Bearer ${TOKEN}`];
    assertApiError(await request('/api/v1/hosts/web01/series?from=2026-12-05&to=2026-12-04', ...auth), 400, 'bad_request', /^the range is empty/);
    assertApiError(await request('/api/v1/hosts/ghost/series', ...auth), 404, 'not_found', 'no host named "ghost" in the history');
    assertApiError(await request('/api/v1/nope', ...auth), 404, 'not_found', 'no such endpoint: GET /api/v1/nope');
    assertApiError(await request('/api/v1/hosts', '-X', 'DELETE', ...auth), 405, 'method_not_allowed', /read-only/);
  });
});
