// `fleetpoll serve` as a real child process against real sshd hosts on loopback (127.89.x.x): cycles on
// the interval with the CSV files written each time, the run lock held for the service's life (a cron
// `poll` exits 3), reload of a bad and a good servers.csv edit, on SIGHUP and of a restart-only setting, and a clean stop.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import { readCsv, runCli } from '../helpers/cli.js';
import { cycles, startServe, waitFor } from '../helpers/serve-child.js';
import { ensureTestUser, loopbackAddresses, makeKeys, missingTool, pickPort, removeKeys, SSHD, startSshdFleet, TEST_USER, type Sshd, type SshdKeys } from '../helpers/sshd.js';

const HEADER = 'name,address,transport,port,user,auth,os,tags,enabled';

function runLog(dir: string): string {
  const file = join(dir, 'data', 'fleetpoll.log');
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
}

// Every record of a CSV file has as many fields as its header: no half-written row.
function assertWhole(file: string): number {
  const records = parse(readFileSync(file, 'utf8'), { bom: true, relax_column_count: true }) as string[][];
  const width = records[0]?.length ?? 0;
  assert.ok(width > 5, `${file}: header`);
  for (const [i, record] of records.entries()) assert.equal(record.length, width, `${file} record ${i + 1}`);
  return records.length - 1;
}

describe('fleetpoll serve over SSH: real sshd hosts, a real service process', { skip: missingTool(SSHD) ?? false }, () => {
  let keys: SshdKeys;
  let fleet: Sshd[] = [];
  let blackhole: Server;
  const held: Socket[] = [];
  const port = pickPort(89);
  const addresses = loopbackAddresses(4, 89);
  const blackholeAddress = '127.89.9.1';
  const dirs: string[] = [];
  const httpPort = pickPort(90);
  // The API listens on an address of its own: on 127.0.0.1 a picked port can be some client's ephemeral port.
  const httpAddress = '127.89.9.2';

  const row = (name: string, address: string, p = port): string => `${name},${address},ssh,${p},${TEST_USER},key:${keys.clientKeyPath},linux,serve,yes`;

  function workdir(rows: readonly string[], settings: Record<string, unknown>): string {
    const dir = mkdtempSync(join(tmpdir(), 'fleetpoll-serve-'));
    dirs.push(dir);
    mkdirSync(join(dir, 'inventory'));
    writeFileSync(join(dir, 'inventory', 'servers.csv'), `${HEADER}\n${rows.join('\n')}\n`);
    writeFileSync(join(dir, 'known_hosts'), `${fleet.flatMap((s) => s.knownHostsLines()).join('\n')}\n`);
    // Each service gets its own API port: 8080 may be taken on a shared machine.
    const base = { http: { bind: httpAddress, port: httpPort + dirs.length }, poll: { cpuWindowSeconds: 0.2, topProcesses: 3, timeoutSeconds: 5, retries: 0 }, alerts: { enabled: false }, ssh: { knownHosts: 'known_hosts' } };
    writeFileSync(join(dir, 'fleetpoll.config.json'), `${JSON.stringify({ ...base, ...settings }, null, 2)}\n`);
    return dir;
  }

  before(async () => {
    ensureTestUser();
    keys = makeKeys();
    fleet = await startSshdFleet(addresses, port, keys);
    // Accepts TCP and never says a word: a host that hangs until its deadline.
    blackhole = createServer((socket) => {
      held.push(socket);
      socket.on('error', () => {});
    });
    await new Promise<void>((r) => blackhole.listen(port, blackholeAddress, r));
  });

  after(async () => {
    for (const s of held) s.destroy();
    await new Promise<void>((r) => blackhole.close(() => r()));
    await Promise.all(fleet.map((s) => s.stop()));
    if (keys !== undefined) removeKeys(keys);
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('runs a cycle every interval, holds the lock (cron poll exits 3), reloads good edits, refuses bad ones, reloads on SIGHUP, stops cleanly', async () => {
    const dir = workdir([row('web1', addresses[0]!), row('web2', addresses[1]!), row('web3', addresses[2]!)], { serve: { intervalSeconds: 3, spreadFraction: 0.3 } });
    const serve = startServe([], dir);
    try {
      await waitFor('two cycles', () => cycles(serve) >= 2, 40_000, serve);
      const data = join(dir, 'data');
      assert.equal(assertWhole(join(data, 'log.csv')) % 3, 0);
      assert.ok(readCsv(join(data, 'log.csv')).length >= 6, 'three rows per cycle');
      assert.equal(readCsv(join(data, 'recentlog.csv')).length, 3);
      assert.ok(readCsv(join(data, 'recentlog.csv')).every((r) => r.status === 'ok'), readFileSync(join(data, 'recentlog.csv'), 'utf8'));

      // The API answers from the history the service recorded: every host, with its status.
      const settings = JSON.parse(readFileSync(join(dir, 'fleetpoll.config.json'), 'utf8')) as { http: { bind: string; port: number } };
      const api = `http://${settings.http.bind}:${settings.http.port}`;
      assert.equal((await fetch(`${api}/readyz`)).status, 200);
      const hosts = (await (await fetch(`${api}/api/v1/hosts`)).json()) as { hosts: { host: string; status: string }[] };
      assert.deepEqual(hosts.hosts.map((h) => [h.host, h.status]).sort(), [['web1', 'ok'], ['web2', 'ok'], ['web3', 'ok']]);
      const status = (await (await fetch(`${api}/api/v1/status`)).json()) as {
        intervalSeconds: number;
        hosts: number;
        lastCycle: { hostsOk: number };
        connections: { open: number; connects: number };
      };
      // Warm connections: one kept per host, not one per cycle.
      assert.equal(status.connections.open, 3);
      assert.equal(status.connections.connects, 3);
      assert.equal(status.intervalSeconds, 3);
      assert.equal(status.hosts, 3);
      assert.equal(status.lastCycle.hostsOk, 3);

      // A cron poll on the same data dir: told who holds the lock, exit 3, nothing written by it.
      const cron = await runCli(['poll', '--quiet'], dir);
      assert.equal(cron.code, 3, cron.stderr);
      assert.match(cron.stderr, /another poll is running: .*\.fleetpoll\.lock is held by pid \d+ .*serve/);

      // A bad edit: the old inventory keeps running and the log names the line.
      writeFileSync(join(dir, 'inventory', 'servers.csv'), `${HEADER}\n${row('web1', addresses[0]!)}\n${row('web2', addresses[1]!)}\n${row('web3', addresses[2]!)}\nbad1,127.89.0.9,telnet\n`);
      await waitFor('the refused reload', () => /reload refused/.test(runLog(dir)), 20_000, serve);
      assert.match(runLog(dir), /reload: .*servers\.csv:5: error: .*telnet/);
      const refused = (await (await fetch(`${api}/api/v1/status`)).json()) as { reload: { ok: boolean; problems: string[] } };
      assert.equal(refused.reload.ok, false);
      assert.match(refused.reload.problems.join('\n'), /servers\.csv:5: error: .*telnet/);
      const before = cycles(serve);
      await waitFor('a cycle after the bad edit', () => cycles(serve) > before, 20_000, serve);
      assert.match(serve.stdout.trim().split('\n').at(-1)!, /: 3 host\(s\) in .*3 ok/);

      // A good edit: the new host is polled in the next cycle.
      writeFileSync(join(dir, 'inventory', 'servers.csv'), `${HEADER}\n${row('web1', addresses[0]!)}\n${row('web2', addresses[1]!)}\n${row('web3', addresses[2]!)}\n${row('web4', addresses[3]!)}\n`);
      await waitFor('the good reload', () => /reloaded \(.*servers\.csv changed\) hosts=4 added=1/.test(runLog(dir)), 20_000, serve);
      const afterGood = cycles(serve);
      await waitFor('a cycle with 4 hosts', () => cycles(serve) > afterGood && /: 4 host\(s\) in .*4 ok/.test(serve.stdout.trim().split('\n').at(-1)!), 20_000, serve);
      assert.equal(readCsv(join(data, 'recentlog.csv')).length, 4);

      // SIGHUP: a reload before the next cycle, nothing changed.
      serve.child.kill('SIGHUP');
      await waitFor('the SIGHUP reload', () => /reloaded \(SIGHUP\) hosts=4 added=0 removed=0/.test(runLog(dir)), 20_000, serve);

      // An edit to a section the service builds once (the API's port): the reload applies the rest,
      // says the port waits for a restart, and the API keeps answering where it was.
      const edited = JSON.parse(readFileSync(join(dir, 'fleetpoll.config.json'), 'utf8')) as { http: { port: number } };
      edited.http.port += 100;
      writeFileSync(join(dir, 'fleetpoll.config.json'), `${JSON.stringify(edited, null, 2)}\n`);
      await waitFor('the settings reload', () => /the http settings changed: they take effect at the next restart/.test(runLog(dir)), 20_000, serve);
      const pending = (await (await fetch(`${api}/api/v1/status`)).json()) as { reload: { ok: boolean; problems: string[] } };
      assert.equal(pending.reload.ok, true);
      assert.match(pending.reload.problems.join('\n'), /the http settings changed/);

      // SIGTERM: exit 0, lock released, whole files.
      serve.child.kill('SIGTERM');
      const exit = await serve.exit;
      assert.equal(exit.code, 0, serve.stderr);
      assert.equal(existsSync(join(data, '.fleetpoll.lock')), false);
      await assert.rejects(fetch(`${api}/healthz`), 'the API stopped with the service');
      assertWhole(join(data, 'log.csv'));
      assertWhole(join(data, 'recentlog.csv'));
      assert.match(runLog(dir), /service stopped cycles=\d+/);
    } finally {
      serve.child.kill('SIGKILL');
    }
  });

  it('SIGTERM mid-cycle: running hosts end within their deadline, the files stay whole, exit 0, lock released', async () => {
    // The black hole holds its host until the 5 s deadline; spread 0: every host starts at once.
    const dir = workdir([row('web1', addresses[0]!), row('web2', addresses[1]!), row('hole', blackholeAddress)], { serve: { intervalSeconds: 600, spreadFraction: 0 } });
    const serve = startServe([], dir);
    try {
      await waitFor('the cycle to start', () => /poll started/.test(runLog(dir)), 20_000, serve);
      await new Promise((r) => setTimeout(r, 1500));
      const stoppedAt = Date.now();
      serve.child.kill('SIGTERM');
      const exit = await serve.exit;
      assert.equal(exit.code, 0, serve.stderr);
      // The cycle's deadline is 5 s per host; the margin is for a loaded machine.
      assert.ok(exit.atMs - stoppedAt < 20_000, `stopped after ${exit.atMs - stoppedAt} ms`);
      const data = join(dir, 'data');
      assert.equal(existsSync(join(data, '.fleetpoll.lock')), false);
      assert.equal(assertWhole(join(data, 'log.csv')), 3);
      const rows = readCsv(join(data, 'recentlog.csv'));
      assert.equal(rows.length, 3);
      assert.match(readFileSync(join(data, 'recentlog.csv'), 'utf8'), /hole.*timeout/);
      assert.match(serve.stdout, /3 host\(s\) in .*2 ok, 1 failed/);
    } finally {
      serve.child.kill('SIGKILL');
    }
  });

  it('a second SIGTERM exits at once with a message', async () => {
    const dir = workdir([row('hole', blackholeAddress)], { serve: { intervalSeconds: 600, spreadFraction: 0 } });
    const serve = startServe([], dir);
    try {
      await waitFor('the cycle to start', () => /poll started/.test(runLog(dir)), 20_000, serve);
      serve.child.kill('SIGTERM');
      await waitFor('the stop to be logged', () => /SIGTERM: stopping/.test(runLog(dir)), 10_000, serve);
      const secondAt = Date.now();
      serve.child.kill('SIGTERM');
      const exit = await serve.exit;
      assert.equal(exit.code, 143);
      assert.ok(exit.atMs - secondAt < 3000, `exited after ${exit.atMs - secondAt} ms`);
      assert.match(serve.stderr, /second SIGTERM: exiting now/);
    } finally {
      serve.child.kill('SIGKILL');
    }
  });

  it('--once runs one cycle and exits 0; a bad inventory at start is refused with its line, exit 2', async () => {
    const dir = workdir([row('web1', addresses[0]!)], { serve: { intervalSeconds: 2, spreadFraction: 0 } });
    const once = await runCli(['serve', '--once'], dir);
    assert.equal(once.code, 0, once.stderr);
    assert.equal(once.stdout.split('\n').filter((l) => l.startsWith('fleetpoll serve: cycle')).length, 1);
    assert.equal(readCsv(join(dir, 'data', 'log.csv')).length, 1);

    writeFileSync(join(dir, 'inventory', 'servers.csv'), `${HEADER}\n${row('web1', addresses[0]!)}\nbad,,telnet\n`);
    const bad = await runCli(['serve', '--once'], dir);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /servers\.csv:3: error: .*telnet/);
    const interval = await runCli(['serve', '--interval', '0'], dir);
    assert.equal(interval.code, 2);
    assert.match(interval.stderr, /--interval must be a number of seconds from 1 to 86400 \(got 0\)/);
  });
});
