// POST /api/v1/ingest/:name over real HTTPS on 127.0.0.1, driven by curl: an accepted push lands in the
// spool; a missing or wrong token (the API token included), an unknown host, an oversized body, garbage,
// a sample from the future, a replay and a push too soon after the last are refused with their codes and
// leave the spool as it was. The server reads a fake HistoryReader (fakes.ts); the clock is real.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hashToken, writeTokens } from '../../../src/push/tokens.js';
import { spoolFile } from '../../../src/push/spool.js';
import { DEFAULT_PUSH_SETTINGS } from '../../../src/push/settings.js';
import type { IngestView } from '../../../src/push/view.js';
import { buildHttpServer, listenHttp } from '../../../src/http/server.js';
import { DEFAULT_HTTP_SETTINGS } from '../../../src/http/settings.js';
import { missingTool } from '../../helpers/sshd.js';
import { makeTestCert, type TestCert } from '../../helpers/smtp.js';
import { FakeHistoryReader, FakeServiceStatus, RecordingLog } from '../fakes.js';

const API_TOKEN = 'api-0123456789abcdef-0123456789abcdef';
const PUSH_TOKEN = 'fpp_push-token-of-dmz01-0123456789abcdef0123';
const OTHER_TOKEN = 'fpp_push-token-of-dmz02-0123456789abcdef0123';
const FIXTURE = readFileSync(new URL('../../../../test/fixtures/probe/debian12-dash/output.txt', import.meta.url), 'utf8');

/** The captured Debian probe output with a `time` record after its header. */
export function stamped(timeSec: number, output = FIXTURE): string {
  const at = output.indexOf('\n') + 1;
  return `${output.slice(0, at)}time\t${timeSec}\n${output.slice(at)}`;
}

describe('push ingest over real HTTPS on 127.0.0.1, driven by curl', () => {
  const curl = '/usr/bin/curl';
  const skip = missingTool(curl) ?? missingTool('/usr/bin/openssl');
  const dataDir = mkdtempSync(join(tmpdir(), 'fleetpoll-ingest-'));
  const view: IngestView = {
    hosts: new Map([
      ['dmz01', { name: 'dmz01', intervalSeconds: 300 }],
    ]),
    settings: { ...DEFAULT_PUSH_SETTINGS, minSpacingSeconds: 1.5, maxClockSkewSeconds: 60, graceSeconds: 60 },
  };
  const log = new RecordingLog();
  let cert: TestCert;
  let base = '';
  let close: () => Promise<void> = async () => {};

  before(async () => {
    if (skip !== null) return;
    cert = makeTestCert();
    const keyFile = join(cert.dir, 'key.pem');
    writeFileSync(keyFile, cert.key, { mode: 0o600 });
    // dmz02 has a token but is no longer a push host in servers.csv.
    await writeTokens(dataDir, new Map([
      ['dmz01', { host: 'dmz01', sha256: hashToken(PUSH_TOKEN), createdAt: '2026-12-04T10:00:00.000Z' }],
      ['dmz02', { host: 'dmz02', sha256: hashToken(OTHER_TOKEN), createdAt: '2026-12-04T10:00:00.000Z' }],
    ]));
    const settings = { ...DEFAULT_HTTP_SETTINGS, port: 0, tls: { certFile: cert.certFile, keyFile } };
    const app = buildHttpServer({
      settings,
      env: { FLEETPOLL_HTTP_TOKEN: API_TOKEN },
      reader: new FakeHistoryReader(),
      status: new FakeServiceStatus(),
      log,
      ingest: { dataDir, bodyLimitBytes: 64 * 1024, current: () => view },
    });
    base = await listenHttp(app, settings);
    close = () => app.close();
  });
  after(async () => {
    await close();
    if (skip === null) cert.remove();
    rmSync(dataDir, { recursive: true, force: true });
  });

  // One curl POST of `body` on stdin (as the cron line sends it), verifying the certificate.
  const push = (name: string, body: string | Buffer, token: string | null, extra: readonly string[] = []): Promise<{ status: number; headers: Record<string, string>; body: string }> =>
    new Promise((resolveCurl, reject) => {
      const args = ['-sS', '-i', '--cacert', cert.certFile, '--data-binary', '@-', ...(token === null ? [] : ['-H', `Authorization: Bearer ${token}`]), ...extra, `${base}/api/v1/ingest/${name}`];
      const child = execFile(curl, args, { maxBuffer: 1024 * 1024 }, (error, stdout, stderr) => {
        if (error !== null) return reject(new Error(`curl failed: ${stderr}`));
        const [head = '', ...rest] = stdout.split('\r\n\r\n');
        const lines = head.split('\r\n');
        const headers: Record<string, string> = {};
        for (const line of lines.slice(1)) {
          const colon = line.indexOf(':');
          headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
        }
        resolveCurl({ status: Number(lines[0]?.split(' ')[1]), headers, body: rest.join('\r\n\r\n') });
      });
      child.stdin?.end(body);
    });
  const spool = (): string | null => {
    try {
      return readFileSync(spoolFile(dataDir, 'dmz01'), 'utf8');
    } catch {
      return null;
    }
  };
  const nowSec = (): number => Math.floor(Date.now() / 1000);
  const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
  const error = (res: { body: string }): { error: string; detail: string } => JSON.parse(res.body) as { error: string; detail: string };

  it('refuses a missing or wrong token with 401 before reading anything, the API token included', { skip: skip ?? false }, async () => {
    for (const token of [null, 'fpp_wrong-0123456789', API_TOKEN, OTHER_TOKEN]) {
      const res = await push('dmz01', stamped(nowSec()), token);
      assert.equal(res.status, 401, res.body);
      assert.equal(res.headers['www-authenticate'], 'Bearer realm="fleetpoll push"');
      assert.equal(error(res).error, 'unauthorized');
      assert.doesNotMatch(res.body, /fpp_|api-0123/);
    }
    // An unknown name is 401 too: an unauthenticated client cannot learn which hosts push.
    assert.equal((await push('nosuch', stamped(nowSec()), PUSH_TOKEN)).status, 401);
    assert.equal(spool(), null);
    assert.doesNotMatch(JSON.stringify(log.lines), /fpp_|api-0123/, 'no token in the log');
  });

  it('a valid token of a host servers.csv no longer lists as transport=push: 404', { skip: skip ?? false }, async () => {
    const res = await push('dmz02', stamped(nowSec()), OTHER_TOKEN);
    assert.equal(res.status, 404, res.body);
    assert.match(error(res).detail, /^no push host named "dmz02": servers\.csv has no transport=push row/);
  });

  it('accepts a valid push (202), whatever content type curl sends, and writes it to the spool', { skip: skip ?? false }, async () => {
    const at = nowSec() - 2;
    const res = await push('dmz01', stamped(at), PUSH_TOKEN);
    assert.equal(res.status, 202, res.body);
    assert.deepEqual(JSON.parse(res.body), { status: 'accepted', host: 'dmz01', sampleAt: at });
    const spooled = JSON.parse(spool() ?? '{}') as { host: string; sampleAtSec: number; body: string };
    assert.equal(spooled.host, 'dmz01');
    assert.equal(spooled.sampleAtSec, at);
    assert.equal(spooled.body, stamped(at));
    assert.equal(statSync(spoolFile(dataDir, 'dmz01')).mode & 0o777, 0o600);
  });

  it('refuses a push sooner than push.minSpacingSeconds after the last: 429 with Retry-After', { skip: skip ?? false }, async () => {
    const before = spool();
    const res = await push('dmz01', stamped(nowSec()), PUSH_TOKEN);
    assert.equal(res.status, 429, res.body);
    // The rest of the 1.5 s, rounded up to whole seconds.
    assert.match(res.headers['retry-after'] ?? '', /^[12]$/);
    assert.equal(error(res).detail, `pushes of dmz01 must be at least 1.5 s apart (push.minSpacingSeconds): retry in ${res.headers['retry-after']} s`);
    assert.equal(spool(), before);
  });

  it('refuses garbage and truncated output with 422 and the parser\'s message', { skip: skip ?? false }, async () => {
    const before = spool();
    await pause(1600);
    let res = await push('dmz01', '<html>hello</html>\n', PUSH_TOKEN);
    assert.equal(res.status, 422, res.body);
    assert.deepEqual(error(res), { error: 'unprocessable_entity', detail: 'not a valid probe output: not probe output (first line: "<html>hello</html>")' });
    await pause(1600);
    res = await push('dmz01', stamped(nowSec()).replace('\nend\n', '\n'), PUSH_TOKEN);
    assert.equal(res.status, 422, res.body);
    assert.equal(error(res).detail, 'not a valid probe output: output truncated: no end record');
    await pause(1600);
    res = await push('dmz01', FIXTURE, PUSH_TOKEN);
    assert.equal(res.status, 422, res.body);
    assert.match(error(res).detail, /^no 'time' record: a push must say when its sample was taken/);
    assert.equal(spool(), before);
  });

  it('refuses a sample from the future (422) and a replay or an older one (409)', { skip: skip ?? false }, async () => {
    const before = spool();
    const last = (JSON.parse(before ?? '{}') as { sampleAtSec: number }).sampleAtSec;
    await pause(1600);
    let res = await push('dmz01', stamped(nowSec() + 3600), PUSH_TOKEN);
    assert.equal(res.status, 422, res.body);
    assert.match(error(res).detail, /^the sample is from the future: its time record says .* UTC, (?:359\d|36\d\d) s ahead of the poller's clock .*at most 60 s allowed\): set the host's clock \(NTP\)$/);
    await pause(1600);
    res = await push('dmz01', stamped(last), PUSH_TOKEN);
    assert.equal(res.status, 409, res.body);
    assert.equal(error(res).error, 'conflict');
    assert.match(error(res).detail, /^the sample is not newer than the last one accepted/);
    await pause(1600);
    res = await push('dmz01', stamped(last - 1), PUSH_TOKEN);
    assert.equal(res.status, 409, res.body);
    assert.equal(spool(), before);
  });

  it('refuses a body over the cap with 413 and records nothing', { skip: skip ?? false }, async () => {
    const before = spool();
    await pause(1600);
    const big = stamped(nowSec()).replace('\nend\n', `\n${'x\t'.repeat(40 * 1024)}\nend\n`);
    const res = await push('dmz01', big, PUSH_TOKEN);
    assert.equal(res.status, 413, res.body);
    assert.deepEqual(error(res), { error: 'payload_too_large', detail: 'the body is larger than 64 kB (poll.maxOutputMB): nothing was recorded' });
    assert.equal(spool(), before);
  });

  it('other methods are 405 with Allow: POST (after the API token: only POST has its own check)', { skip: skip ?? false }, async () => {
    const res = await push('dmz01', '', API_TOKEN, ['-X', 'PUT']);
    assert.equal(res.status, 405);
    assert.equal(res.headers.allow, 'POST');
    assert.equal((await push('dmz01', '', PUSH_TOKEN, ['-X', 'PUT'])).status, 401, 'a push token opens nothing but the push');
  });
});
