// Push from a host the poller cannot reach, end to end with real processes: `fleetpoll token create`,
// `fleetpoll push-script --probe`, a real `fleetpoll serve` over HTTPS on loopback (127.93.x.x), the
// shipped probe run by sh and sent by curl exactly as the cron line does. The push host's row goes
// through the same cycle as a polled host's: log.csv and recentlog.csv, the history (read back through
// the API), the alerts (down while it never pushed, then cpu); `fleetpoll poll` reads the same spool;
// once the host is quiet for longer than its interval, both drivers give it a `timeout` row.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readCsv, runCli } from '../helpers/cli.js';
import { cycles, startServe, waitFor, type ServeChild } from '../helpers/serve-child.js';
import { makeTestCert, type TestCert } from '../helpers/smtp.js';
import { missingTool, pickPort } from '../helpers/sshd.js';

const FIXTURE = readFileSync(new URL('../../../test/fixtures/probe/debian12-dash/output.txt', import.meta.url), 'utf8');
const INTERVAL_S = 15;
const BIND = '127.93.0.1';

// Runs a shell pipeline; resolves with its exit code and output.
function sh(script: string, cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolveRun) => {
    execFile('sh', ['-c', script], { cwd }, (error, stdout, stderr) => resolveRun({ code: error === null ? 0 : Number(error.code ?? 1), stdout, stderr }));
  });
}

describe('push end to end: token, push-script, serve over HTTPS, curl, poll', { skip: missingTool('/usr/bin/curl') ?? missingTool('/usr/bin/openssl') ?? false }, () => {
  const port = pickPort(93);
  const base = `https://${BIND}:${port}`;
  let dir: string;
  let cert: TestCert;
  let serve: ServeChild | null = null;
  const data = (): string => join(dir, 'data');
  const row = (file: string, host: string): Record<string, string> | undefined => readCsv(join(data(), file)).filter((r) => r.server === host).at(-1);
  const alerts = (): { host: string; rule: string; phase: string }[] =>
    (JSON.parse(readFileSync(join(data(), 'alert-state.json'), 'utf8')) as { alerts: { host: string; rule: string; phase: string }[] }).alerts;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'fleetpoll-push-e2e-'));
    cert = makeTestCert();
    // The certificate is for IP 127.0.0.1; this test's server listens on 127.93.0.1: curl is told to
    // resolve the certificate's name to it (--connect-to), so verification stays on.
    const keyFile = join(cert.dir, 'key.pem');
    writeFileSync(keyFile, cert.key, { mode: 0o600 });
    mkdirSync(join(dir, 'inventory'));
    writeFileSync(join(dir, 'inventory', 'servers.csv'), `name,address,transport,os,push_interval\nlocal1,localhost,local,linux,\ndmz01,,push,linux,${INTERVAL_S}\n`);
    writeFileSync(
      join(dir, 'fleetpoll.config.json'),
      JSON.stringify({
        http: { bind: BIND, port, tls: { certFile: cert.certFile, keyFile } },
        poll: { cpuWindowSeconds: 0.2, topProcesses: 3, timeoutSeconds: 10, retries: 0 },
        serve: { intervalSeconds: 2, spreadFraction: 0 },
        alerts: { enabled: true, firePolls: 1, resolvePolls: 1, down: { firePolls: 1, resolvePolls: 1 }, cpu: { warn: 90, crit: 98, hysteresis: 5 } },
        push: { graceSeconds: 0, minSpacingSeconds: 1 },
      }),
    );
  });
  after(async () => {
    if (serve !== null && serve.child.exitCode === null) {
      serve.child.kill('SIGTERM');
      await serve.exit;
    }
    cert.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a push lands in the CSV files, the history and the alerts like a polled sample; a quiet push host turns timeout', async () => {
    // The token: printed once, on stdout only; the file holds its hash.
    const created = await runCli(['token', 'create', 'dmz01'], dir);
    assert.equal(created.code, 0, created.stderr);
    const token = created.stdout.trim();
    assert.match(token, /^fpp_[A-Za-z0-9_-]{43}$/);
    assert.doesNotMatch(readFileSync(join(data(), 'push-tokens.json'), 'utf8'), new RegExp(token));
    assert.equal((await runCli(['token', 'create', 'dmz01'], dir)).code, 2, 'a second token only with --replace');
    const refused = await runCli(['token', 'create', 'local1'], dir);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /local1 is transport=local in .*servers\.csv:2: push tokens and scripts are for transport=push hosts/);

    // The walk-through and the probe file, as an admin would take them to the host.
    const lines = await runCli(['push-script', 'dmz01', '--url', base], dir);
    assert.equal(lines.code, 0, lines.stderr);
    const cron = lines.stdout.split('\n').find((l) => l.startsWith('* * * * * '));
    assert.ok(cron !== undefined, lines.stdout);
    assert.equal(cron, `* * * * * sh /opt/fleetpoll/probe.sh | curl -sS --fail --max-time 60 --data-binary @- -H @/opt/fleetpoll/push-auth -H 'Content-Type: text/plain' ${base}/api/v1/ingest/dmz01 >/dev/null`);
    const probe = await runCli(['push-script', 'dmz01', '--probe'], dir);
    assert.equal(probe.code, 0, probe.stderr);
    writeFileSync(join(dir, 'probe.sh'), probe.stdout);
    writeFileSync(join(dir, 'push-auth'), `Authorization: Bearer ${token}\n`, { mode: 0o600 });
    const tls = `--cacert ${cert.certFile} --connect-to 127.0.0.1:${port}:${BIND}:${port}`;
    const curl = (from: string): string => `curl -sS --fail-with-body --max-time 60 ${tls} --data-binary @${from} -H @push-auth -H 'Content-Type: text/plain' https://127.0.0.1:${port}/api/v1/ingest/dmz01`;

    serve = startServe([], dir);
    const s = serve;
    await waitFor('the first cycle', () => cycles(s) >= 1, 30_000, s);
    // Never pushed: a timeout row, and the host-down alert fires as for an unreachable host.
    assert.equal(row('recentlog.csv', 'dmz01')?.status, 'timeout');
    assert.match(row('recentlog.csv', 'dmz01')?.error ?? '', /^never pushed/);
    assert.ok(alerts().some((a) => a.host === 'dmz01' && a.rule === 'down' && a.phase === 'firing'), JSON.stringify(alerts()));

    // The shipped probe, run by sh on "the host", piped to curl: the real cron pipeline.
    const pushed = await sh(`sh probe.sh | ${curl('-')}`, dir);
    assert.equal(pushed.code, 0, pushed.stderr + pushed.stdout);
    assert.match(pushed.stdout, /^\{"status":"accepted","host":"dmz01","sampleAt":\d+\}$/);
    const afterPush = cycles(s);
    await waitFor('a cycle after the push', () => cycles(s) >= afterPush + 2, 30_000, s);
    const okRow = row('recentlog.csv', 'dmz01');
    assert.equal(okRow?.status, 'ok', JSON.stringify(okRow));
    assert.ok(!alerts().some((a) => a.host === 'dmz01' && a.rule === 'down'), 'down resolved');

    // A second push (the captured Debian output at 99 % CPU, stamped now): the cpu alert fires for it.
    await new Promise((r) => setTimeout(r, 1100));
    const at = Math.floor(Date.now() / 1000);
    writeFileSync(join(dir, 'busy.txt'), FIXTURE.replace('fleetpoll-probe\t1\n', `fleetpoll-probe\t1\ntime\t${at}\n`));
    const busy = await sh(curl('busy.txt'), dir);
    assert.equal(busy.code, 0, busy.stderr + busy.stdout);
    const afterBusy = cycles(s);
    await waitFor('a cycle after the busy push', () => cycles(s) >= afterBusy + 2, 30_000, s);
    const busyRow = row('recentlog.csv', 'dmz01');
    assert.equal(busyRow?.status, 'ok');
    assert.ok(alerts().some((a) => a.host === 'dmz01' && a.rule === 'cpu' && a.phase === 'firing'), JSON.stringify(alerts()));
    // log.csv has the rows too, one per cycle, like the polled host's.
    const log = readCsv(join(data(), 'log.csv'));
    const count = (host: string): number => log.filter((r) => r.server === host).length;
    assert.equal(count('dmz01'), count('local1'));
    assert.equal(log.filter((r) => r.server === 'dmz01' && r.status === 'ok').at(-1)?.transport, 'push');
    // The history, read back through the API: the pushed values, as for the polled host.
    const hosts = await sh(`curl -sS --fail ${tls} https://127.0.0.1:${port}/api/v1/hosts`, dir);
    const byName = new Map((JSON.parse(hosts.stdout) as { hosts: { host: string; status: string; transport: string; cpuPct: number | null; hostname: string | null }[] }).hosts.map((h) => [h.host, h]));
    assert.deepEqual([byName.get('dmz01')?.status, byName.get('dmz01')?.transport, byName.get('dmz01')?.cpuPct, byName.get('dmz01')?.hostname], ['ok', 'push', 99, 'vm']);
    assert.equal(byName.get('local1')?.status, 'ok');

    // The service stops; `fleetpoll poll` reads the same spool: still within the interval, an ok row.
    s.child.kill('SIGTERM');
    assert.equal((await s.exit).code, 0, s.stderr);
    const polled = await runCli(['poll', '--quiet'], dir);
    assert.equal(polled.code, 0, polled.stderr + polled.stdout);
    if (Math.floor(Date.now() / 1000) - at < INTERVAL_S) assert.equal(row('recentlog.csv', 'dmz01')?.status, 'ok');

    // Quiet for longer than its interval: timeout, "no push since", in poll and in serve.
    await waitFor('the interval to pass', () => Date.now() / 1000 > at + INTERVAL_S + 2, 30_000);
    const quiet = await runCli(['poll', '--quiet'], dir);
    assert.equal(quiet.code, 0, quiet.stderr + quiet.stdout);
    assert.equal(row('recentlog.csv', 'dmz01')?.status, 'timeout');
    assert.match(row('recentlog.csv', 'dmz01')?.error ?? '', /^no push since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(interval 15 s\)$/);
    const once = startServe(['--once'], dir);
    assert.equal((await once.exit).code, 0, once.stderr);
    assert.equal(row('recentlog.csv', 'dmz01')?.status, 'timeout');
    assert.equal(row('recentlog.csv', 'local1')?.status, 'ok');
  });
});
