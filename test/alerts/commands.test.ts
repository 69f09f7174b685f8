// End to end through the real CLI: `fleetpoll poll` mails a digest; `alerts test` and `alerts status`.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { closedPort, startSmtpServer, type SmtpTestServer } from '../helpers/smtp.js';

const HEADER = 'name,address,transport,port,user,auth,os,tags,enabled,cpu_warn,cpu_crit,alert_to';
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

// A working directory with settings, an inventory and (unless told) an existing empty alert state.
function workdir(settings: unknown, rows: string[], options: { state?: boolean } = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'fleetpoll-alertcli-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'fleetpoll.config.json'), `${JSON.stringify(settings, null, 2)}\n`);
  mkdirSync(join(dir, 'inventory'));
  writeFileSync(join(dir, 'inventory', 'servers.csv'), `${[HEADER, ...rows].join('\n')}\n`);
  if (options.state !== false) {
    mkdirSync(join(dir, 'data'));
    writeFileSync(join(dir, 'data', 'alert-state.json'), '{"version":1,"alerts":[],"queue":[]}\n');
  }
  return dir;
}

function settingsFor(port: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    poll: { cpuWindowSeconds: 0.2, timeoutSeconds: 5, retries: 0 },
    smtp: { host: '127.0.0.1', port, security: 'none', from: 'fleetpoll@example.com', to: ['ops@example.com'], timeoutSeconds: 5 },
    // Only the rules the tests drive: this machine's real memory, swap, load and disks must not fire.
    alerts: { firePolls: 1, down: { firePolls: 1 }, mem: false, swap: false, load: false, disk: false },
    ...extra,
  };
}

describe('fleetpoll poll sends alert digests', () => {
  let server: SmtpTestServer;
  let sshPort: number;
  before(async () => {
    server = await startSmtpServer();
    sshPort = await closedPort();
  });
  after(async () => {
    await server?.stop();
  });

  it('mails one digest for a CPU alert on this machine and a host that is down, and lists them in alerts status', async () => {
    // cpu_warn 0: this machine is always "over" it, so the rule fires on the first poll.
    const dir = workdir(settingsFor(server.port), [
      'localhost,,local,,,,linux,,yes,0,off,team@example.com',
      `down01,127.0.0.1,ssh,${sshPort},nobody,password-env:FP_TEST_PW,linux,,yes,,,`,
    ]);
    const run = await runCli(['poll'], dir, { ...process.env, FP_TEST_PW: 'unused' });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /Alerts: 2 firing, 2 new notification\(s\), 2 mail\(s\) sent/);
    await server.waitFor(2);
    const ops = server.messages.find((m) => m.envelopeTo.includes('ops@example.com'));
    const team = server.messages.find((m) => m.envelopeTo.includes('team@example.com'));
    assert.match(ops?.subject ?? '', /^\[fleetpoll\] 2 firing — down01 down, localhost CPU \d+%$/);
    assert.match(ops?.text ?? '', /unreachable \(connect\): 1 host\(s\)/);
    assert.match(ops?.text ?? '', /top processes by CPU:/);
    assert.match(team?.subject ?? '', /^\[fleetpoll\] 1 firing — localhost CPU \d+%$/);

    const status = await runCli(['alerts', 'status'], dir);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /down01 +down +critical +unreachable \(connect\): connection refused/);
    assert.match(status.stdout, /2 alert\(s\) firing:\nHOST +RULE +LEVEL +VALUE +SINCE\n/);
    assert.match(status.stdout, /down01 +down +critical +unreachable \(connect\)/);
    assert.match(status.stdout, /localhost +cpu +warning +\d+\.\d% \(>= 0%\)/);
    const json = JSON.parse((await runCli(['alerts', 'status', '--json'], dir)).stdout) as { firing: { host: string; rule: string }[]; queue: unknown[] };
    assert.deepEqual(json.firing.map((f) => `${f.host} ${f.rule}`), ['down01 down', 'localhost cpu']);
    assert.deepEqual(json.queue, []);
  });

  it('still succeeds when the mail server is down, keeps the notification queued and says so', async () => {
    const dir = workdir(settingsFor(await closedPort()), ['localhost,,local,,,,linux,,yes,0,off,']);
    const run = await runCli(['poll'], dir);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /Alerts: 1 firing, 1 new notification\(s\), 0 mail\(s\) sent, 1 waiting for delivery/);
    assert.match(run.stdout, /Warning: alert mail not delivered \(.*ECONNREFUSED.*\); 1 notification\(s\) stay queued for the next run/);
    const status = await runCli(['alerts', 'status'], dir);
    assert.match(status.stdout, /1 notification\(s\) waiting for delivery since .* UTC; last error: .*ECONNREFUSED/);
  });

  it('keeps the notification queued and names the server and smtp.timeoutSeconds when the mail server never answers', async () => {
    const sockets: Socket[] = [];
    const listener = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const port = (listener.address() as AddressInfo).port;
    try {
      const settings = settingsFor(port);
      const dir = workdir({ ...settings, smtp: { ...(settings.smtp as object), timeoutSeconds: 1 } }, ['localhost,,local,,,,linux,,yes,0,off,']);
      const run = await runCli(['poll'], dir);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /1 waiting for delivery/);
      const status = await runCli(['alerts', 'status'], dir);
      assert.match(status.stdout, new RegExp(`1 notification\\(s\\) waiting for delivery since .* UTC; last error: 127\\.0\\.0\\.1:${port} did not answer within 1 s \\(smtp\\.timeoutSeconds\\)\\.`));
      assert.doesNotMatch(status.stdout, /aborted/i);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => listener.close(resolve));
    }
  });

  it('reports bad per-host override values with file and line before polling, and refuses with --strict', async () => {
    const dir = workdir(settingsFor(server.port), ['localhost,,local,,,,linux,,yes,,abc,']);
    const strict = await runCli(['poll', '--strict'], dir);
    assert.equal(strict.code, 2);
    assert.match(strict.stderr, /inventory\/servers\.csv:2: error: cpu_crit "abc" is not a percentage \(0 to 100, or off\)/);
    assert.match(strict.stderr, /nothing was polled/);
  });

  it('refuses a settings file with bad alert or smtp values, naming file and line', async () => {
    const dir = workdir({ smtp: { host: 'm', port: 'abc', from: 'a@b.c', to: ['a@b.c'] }, alerts: { cpu: { crit: 150 } } }, ['localhost,,local,,,,linux,,yes,,,']);
    const run = await runCli(['poll'], dir);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /fleetpoll: config: .*fleetpoll\.config\.json:4: smtp\.port must be a whole number from 1 to 65535 \(got "abc"\)/);
    assert.match(run.stderr, /fleetpoll\.config\.json:\d+: alerts\.cpu\.crit must be a number from 0 to 100, or null to turn it off \(got 150\)/);
  });
});

describe('fleetpoll alerts test', () => {
  it('sends a sample digest and exits 0 when the server accepted it', async () => {
    const server = await startSmtpServer();
    try {
      const dir = workdir(settingsFor(server.port), []);
      const run = await runCli(['alerts', 'test', '--to', 'me@example.com'], dir);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /test mail accepted by 127\.0\.0\.1:\d+ \(none\) for me@example\.com/);
      const [mail] = await server.waitFor(1);
      assert.deepEqual(mail?.envelopeTo, ['me@example.com']);
      assert.match(mail?.subject ?? '', /^\[fleetpoll\] TEST 2 firing, 1 resolved — /);
      assert.match(mail?.text ?? '', /\*\*\* TEST \*\*\*/);
    } finally {
      await server.stop();
    }
  });

  it('exits 1 with the SMTP error when the server is down or refuses', async () => {
    const dir = workdir(settingsFor(await closedPort()), []);
    const down = await runCli(['alerts', 'test'], dir);
    assert.equal(down.code, 1);
    assert.match(down.stderr, /test mail NOT sent through 127\.0\.0\.1:\d+ \(none\): .*ECONNREFUSED/);

    const server = await startSmtpServer();
    try {
      server.mode = 'reject';
      const refused = await runCli(['alerts', 'test'], workdir(settingsFor(server.port), []));
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /554/);
    } finally {
      await server.stop();
    }
  });

  it('exits 2 when smtp is not configured', async () => {
    const dir = workdir({ poll: { cpuWindowSeconds: 0.2 } }, []);
    const run = await runCli(['alerts', 'test'], dir, { ...process.env, FLEETPOLL_SMTP_HOST: '' });
    assert.equal(run.code, 2);
    assert.match(run.stderr, /smtp is not configured/);
  });

  it('says when there is no alert state yet', async () => {
    const dir = workdir({}, [], { state: false });
    const run = await runCli(['alerts', 'status'], dir);
    assert.equal(run.code, 0);
    assert.match(run.stdout, /No alert state yet/);
  });
});
