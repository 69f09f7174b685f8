// End to end: the real CLI polls a real sshd fleet and the shipped inventory, and writes the CSV contract.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { CLI, readCsv, runCli } from './helpers/cli.js';
import { ensureTestUser, loopbackAddresses, makeKeys, missingTool, pickPort, removeKeys, SSHD, startSshdFleet, TEST_USER, type Sshd, type SshdKeys } from './helpers/sshd.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const FAST = JSON.stringify({ poll: { cpuWindowSeconds: 0.2, timeoutSeconds: 10 } });

function workdir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  writeFileSync(join(dir, 'fleetpoll.config.json'), FAST);
  return dir;
}

function meminfoKb(field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(readFileSync('/proc/meminfo', 'utf8'));
  assert.ok(match !== null);
  return Number(match[1]);
}

describe('fleetpoll poll over SSH: a fleet of 20 loopback hosts', { skip: missingTool(SSHD) ?? false }, () => {
  let keys: SshdKeys;
  let fleet: Sshd[] = [];
  let dir: string;
  const port = pickPort(2);
  const addresses = loopbackAddresses(20, 80);

  before(async () => {
    ensureTestUser();
    keys = makeKeys();
    fleet = await startSshdFleet(addresses, port, keys);
    dir = workdir('fleetpoll-cli-');
    writeFileSync(join(dir, 'known_hosts'), `${fleet.flatMap((s) => s.knownHostsLines()).join('\n')}\n`);
    const rows = addresses.map((a, i) => `host${String(i + 1).padStart(2, '0')},${a},ssh,${port},${TEST_USER},key:${keys.clientKeyPath},linux,fleet,yes`);
    // One host with nothing listening: it must still get its row.
    rows.push(`down01,127.80.9.9,ssh,${port},${TEST_USER},key:${keys.clientKeyPath},linux,fleet,yes`);
    mkdirSync(join(dir, 'inventory'));
    writeFileSync(join(dir, 'inventory', 'servers.csv'), `name,address,transport,port,user,auth,os,tags,enabled\n${rows.join('\n')}\n`);
  });

  after(async () => {
    await Promise.all(fleet.map((s) => s.stop()));
    if (keys !== undefined) removeKeys(keys);
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('writes one row per host to every CSV, matching what the hosts really have', async () => {
    const run = await runCli(['poll', '--known-hosts', join(dir, 'known_hosts'), '--json'], dir);
    assert.equal(run.code, 0, run.stderr);
    const report = JSON.parse(run.stdout) as { counts: Record<string, number> };
    assert.equal(report.counts.ok, 20);
    assert.equal(report.counts.unreachable, 1);

    const data = join(dir, 'data');
    const recent = readCsv(join(data, 'recentlog.csv'));
    const log = readCsv(join(data, 'log.csv'));
    assert.equal(recent.length, 21);
    assert.equal(log.length, 21);
    assert.deepEqual(
      recent.map((r) => r.server),
      [...addresses.map((_, i) => `host${String(i + 1).padStart(2, '0')}`), 'down01'].sort(),
    );
    const down = recent.find((r) => r.server === 'down01');
    assert.equal(down?.status, 'unreachable');
    assert.match(down?.error ?? '', /refused/);
    assert.equal(down?.cpu_pct, '');

    const memTotalGb = (meminfoKb('MemTotal') / 1024 / 1024).toFixed(2);
    const rootDf = execFileSync('df', ['-kP', '/'], { encoding: 'utf8' }).trim().split('\n')[1]?.split(/\s+/) ?? [];
    const dfTotalGb = (Number(rootDf[1]) / 1024 / 1024).toFixed(2);
    for (const row of recent.filter((r) => r.server !== 'down01')) {
      assert.equal(row.status, 'ok', `${row.server}: ${row.error}`);
      assert.equal(row.mem_total_gb, memTotalGb);
      assert.match(row.time ?? '', /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
      assert.ok(Number(row.cpu_pct) >= 0 && Number(row.cpu_pct) <= 100);
      assert.equal(Number(row.cores), Number(execFileSync('nproc', { encoding: 'utf8' }).trim()));
      assert.ok(row.top_cpu !== '' && row.top_mem !== '', 'top processes are listed');
    }

    const disks = readCsv(join(data, 'disks.csv'));
    const rootRows = disks.filter((d) => d.mount === '/');
    assert.equal(rootRows.length, 20, 'every ok host reports /');
    for (const d of rootRows) assert.equal(d.total_gb, dfTotalGb);

    const processes = readCsv(join(data, 'processes.csv'));
    const users = readCsv(join(data, 'users.csv'));
    assert.ok(processes.length >= 20 * 5);
    assert.ok(users.some((u) => u.user === TEST_USER), 'the polling account shows among the users');
  });

  it('a hashed known_hosts (ssh-keygen -H) works, and the host each line names is found once, then kept', async () => {
    const hashed = join(dir, 'known_hosts.hashed');
    writeFileSync(hashed, readFileSync(join(dir, 'known_hosts')));
    execFileSync('ssh-keygen', ['-H', '-f', hashed], { stdio: 'ignore' });
    assert.ok(!readFileSync(hashed, 'utf8').includes(addresses[0] ?? '?'), 'the file is hashed');
    const data = join(dir, 'data-hashed');
    const poll = async (): Promise<void> => {
      const run = await runCli(['poll', '--known-hosts', hashed, '--data-dir', data, '--only', 'host*', '--json'], dir);
      assert.equal(run.code, 0, run.stderr);
      assert.equal((JSON.parse(run.stdout) as { counts: Record<string, number> }).counts.ok, 20);
    };
    await poll();
    const namesFile = join(data, 'known-hosts-names.json');
    const saved = JSON.parse(readFileSync(namesFile, 'utf8')) as { lines: Record<string, string> };
    assert.deepEqual(Object.values(saved.lines).sort(), addresses.map((a) => `[${a}]:${port}`).sort());
    assert.equal(statSync(namesFile).mode & 0o777, 0o600);
    const before = statSync(namesFile).mtimeMs;
    await poll();
    // Rewritten only when a poll had to find a line by scanning: this one found every line saved.
    assert.equal(statSync(namesFile).mtimeMs, before);
  });
});

describe('fleetpoll poll on the shipped inventory', () => {
  let dir: string;
  before(() => {
    dir = workdir('fleetpoll-shipped-');
    cpSync(join(REPO, 'inventory'), join(dir, 'inventory'), { recursive: true });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('polls this machine with the local transport and writes every file', async () => {
    const run = await runCli(['poll'], dir);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /polled 1 host\(s\) in [\d.]+ s: 1 ok/);
    for (const f of ['log.csv', 'recentlog.csv', 'processes.csv', 'disks.csv', 'users.csv', 'fleetpoll.log']) {
      assert.ok(existsSync(join(dir, 'data', f)), `${f} written`);
    }
    const [row] = readCsv(join(dir, 'data', 'recentlog.csv'));
    assert.equal(row?.status, 'ok');
    assert.equal(row?.transport, 'local');
  });

  it('two overlapping runs: exactly one writes, the other exits 3 naming the holder', async () => {
    const slow = join(dir, 'slow.json');
    writeFileSync(slow, JSON.stringify({ poll: { cpuWindowSeconds: 2 } }));
    const before = readCsv(join(dir, 'data', 'log.csv')).length;
    const [a, b] = await Promise.all([runCli(['poll', '--config', slow], dir), runCli(['poll', '--config', slow], dir)]);
    assert.deepEqual([a.code, b.code].sort(), [0, 3], `${a.stderr}\n${b.stderr}`);
    const loser = a.code === 3 ? a : b;
    assert.match(loser.stderr, /another poll is running: .* held by pid \d+/);
    assert.equal(readCsv(join(dir, 'data', 'log.csv')).length, before + 1);
  });

  it('a process named =HYPERLINK(...) is written neutralised', async () => {
    // Writing /proc/<pid>/comm renames the process as the kernel (and the probe) sees it.
    const child = spawn('sh', ['-c', `printf '%s' '=HYPERLINK("http://x","y")' > /proc/$$/comm; while :; do :; done`], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 300));
      // The top 100 by CPU, so a busy machine cannot push the test's process off the list.
      const wide = join(dir, 'wide.json');
      writeFileSync(wide, JSON.stringify({ poll: { cpuWindowSeconds: 0.3, topProcesses: 100 } }));
      const run = await runCli(['poll', '--config', wide], dir);
      assert.equal(run.code, 0, run.stderr);
      const text = readFileSync(join(dir, 'data', 'processes.csv'), 'utf8');
      assert.match(text, /,"?'=HYPERLINK\(/, 'the cell starts with an apostrophe');
      assert.doesNotMatch(text, /,"?=HYPERLINK\(/, 'never a bare formula');
    } finally {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    }
  });
});

describe('fleetpoll poll: inventory and usage errors', () => {
  let dir: string;
  before(() => {
    dir = workdir('fleetpoll-badinv-');
    mkdirSync(join(dir, 'inventory'));
    writeFileSync(
      join(dir, 'inventory', 'servers.csv'),
      [
        'name,address,transport,port,user,auth,os,tags,enabled',
        'good1,,local,,,,linux,,yes',
        '# a comment line',
        'bad1,10.0.0.1,telnet,,,,linux,,yes',
        'bad2,10.0.0.2,ssh,99999,,,linux,,yes',
        '',
        'good2,,local,,,,linux,,yes',
        'good1,,local,,,,linux,,yes',
      ].join('\n'),
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reports each bad row with its line and still polls the good rows', async () => {
    const run = await runCli(['poll'], dir);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /servers\.csv:4: error: unknown transport "telnet"/);
    assert.match(run.stderr, /servers\.csv:5: error: port "99999" is not a number from 1 to 65535/);
    assert.match(run.stderr, /servers\.csv:8: error: duplicate name "good1" \(first defined on line 2\)/);
    const recent = readCsv(join(dir, 'data', 'recentlog.csv'));
    assert.deepEqual(recent.map((r) => [r.server, r.status]), [['good1', 'ok'], ['good2', 'ok']]);
  });

  it('--strict refuses to poll anything and exits 2', async () => {
    rmSync(join(dir, 'data'), { recursive: true, force: true });
    const run = await runCli(['poll', '--strict'], dir);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /--strict/);
    assert.equal(existsSync(join(dir, 'data', 'log.csv')), false);
  });

  it('--only polls a subset; recentlog.csv keeps the other servers\' last rows', async () => {
    assert.equal((await runCli(['poll'], dir)).code, 0);
    const firstTime = readCsv(join(dir, 'data', 'recentlog.csv')).find((r) => r.server === 'good1')?.duration_ms;
    const one = await runCli(['poll', '--only', 'good2', '--json'], dir);
    assert.equal(one.code, 0, one.stderr);
    assert.deepEqual((JSON.parse(one.stdout) as { results: { name: string }[] }).results.map((r) => r.name), ['good2']);
    const recent = readCsv(join(dir, 'data', 'recentlog.csv'));
    assert.deepEqual(recent.map((r) => r.server), ['good1', 'good2']);
    assert.equal(recent[0]?.duration_ms, firstTime, 'good1 is the row of the earlier full poll');
    assert.equal(readCsv(join(dir, 'data', 'log.csv')).length, 3, 'log.csv only gets the polled host');
    const none = await runCli(['poll', '--only', 'web*'], dir);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /--only web\* matched none/);
  });

  it('a bad setting is a usage error (exit 2) naming the field', async () => {
    const run = await runCli(['poll', '--concurrency', '0'], dir);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /--concurrency: poll\.concurrency must be a whole number from 1 to 10000 \(got 0\)/);
  });

  it('an unwritable data dir is an internal error (exit 4), told apart from hosts down (exit 1)', async () => {
    writeFileSync(join(dir, 'afile'), 'x');
    const run = await runCli(['poll', '--data-dir', join(dir, 'afile', 'data')], dir);
    assert.equal(run.code, 4, run.stderr);
    const failOnDown = await runCli(['poll', '--data-dir', join(dir, 'afile', 'data'), '--fail-on-down'], dir);
    assert.equal(failOnDown.code, 4, failOnDown.stderr);
    assert.match(run.stderr, /afile/);
  });

  it('--fail-on-down exits 1 when a host is not ok', async () => {
    const inv = join(dir, 'down.csv');
    writeFileSync(inv, 'name,address,transport,port\nnobody,127.80.9.10,ssh,1\n');
    const run = await runCli(['poll', '--inventory', inv, '--fail-on-down', '--timeout', '3'], dir);
    assert.equal(run.code, 1, run.stderr);
    const plain = await runCli(['poll', '--inventory', inv, '--timeout', '3'], dir);
    assert.equal(plain.code, 0, plain.stderr);
  });
});

// util-linux's script(1) runs a command on a real pseudo-terminal.
const SCRIPT = '/usr/bin/script';
function missingScript(): string | null {
  if (existsSync(SCRIPT)) return null;
  const message = `${SCRIPT} is not installed (apt-get install bsdutils, util-linux's script)`;
  if (process.env.CI === 'true') throw new Error(`CI requires ${message}`);
  return message;
}

// A POSIX shell word: the checkout may live in a path with spaces or quotes.
function shQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

describe('fleetpoll poll: the progress line', () => {
  let dir: string;
  before(() => {
    dir = workdir('fleetpoll-progress-');
    mkdirSync(join(dir, 'inventory'));
    writeFileSync(join(dir, 'inventory', 'servers.csv'), 'name,address,transport\nlocal1,,local\nlocal2,,local\nlocal3,,local\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('on a real terminal (a pseudo-terminal from script(1)): one line redrawn in place, erased before the summary', { skip: missingScript() ?? false }, () => {
    const command = [process.execPath, CLI, 'poll', '--data-dir', join(dir, 'data-tty')].map(shQuote).join(' ');
    // -e: script exits with the command's code; -q: no "Script started" lines; the typescript goes nowhere.
    const output = execFileSync(SCRIPT, ['-qefc', command, '/dev/null'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
    assert.match(output, /\r\x1b\[2Kfleetpoll: 0\/3 hosts done, 0 ok, 0 failed, \d+\.\d s/);
    const summaryAt = output.indexOf('fleetpoll: polled 3 host(s)');
    assert.ok(summaryAt > 0, output);
    assert.equal(output.slice(summaryAt - 5, summaryAt), '\r\x1b[2K', 'the line is erased right before the summary');
    assert.doesNotMatch(output.slice(0, summaryAt), /\n/, 'the progress line never adds a line');
  });

  it('not on a terminal (pipes, as under cron): no progress line, no control characters', async () => {
    const run = await runCli(['poll', '--data-dir', join(dir, 'data-pipe')], dir);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, '');
    assert.match(run.stdout, /^fleetpoll: polled 3 host\(s\)/);
    assert.doesNotMatch(run.stdout, /\x1b/);
  });

  it('--quiet and --json show no progress line on a terminal either', { skip: missingScript() ?? false }, () => {
    for (const flag of ['--quiet', '--json']) {
      const command = [process.execPath, CLI, 'poll', flag, '--data-dir', join(dir, `data-tty${flag}`)].map(shQuote).join(' ');
      const output = execFileSync(SCRIPT, ['-qefc', command, '/dev/null'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
      assert.doesNotMatch(output, /hosts done|\x1b/, flag);
    }
  });
});
