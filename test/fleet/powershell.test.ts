// The WinRM transport (src/fleet/powershell.ts). Its failure mapping against documented WinRM
// errors; then the real thing end to end: node-powershell drives a long-lived PowerShell 7 that
// runs Invoke-Command against a real OpenSSH sshd on loopback through PowerShell remoting over
// SSH (`Subsystem powershell ... -sshs`), the same remoting layer (PSRP) as WinRM.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import { pollFleet, pollHost, type PollOptions } from '../../src/fleet/poll.js';
import { classifyRemotingFailure, PowerShellTransport, type RemotingFailure } from '../../src/fleet/powershell.js';
import { silentLog } from '../../src/log.js';
import type { PollResult } from '../../src/model.js';
import { LOG_COLUMNS } from '../../src/store/columns.js';
import { writeCycle } from '../../src/store/write-cycle.js';
import { hostsFromCsv, pollOptions, writeKnownHosts } from '../helpers/fleet.js';
import { findPwsh, type TestPwsh } from '../helpers/pwsh.js';
import { ensureTestUser, makeKeys, missingTool, pickPort, removeKeys, SSHD, startSshd, TEST_USER, type Sshd, type SshdKeys } from '../helpers/sshd.js';
import { fixtureProbeScript, WINDOWS_FIXTURES } from '../helpers/windows-fixtures.js';

const ERRORS = join(WINDOWS_FIXTURES, '..', 'windows-remoting-errors', 'cases.json');

type Failure = Exclude<PollResult, { status: 'ok' }>;
function failureOf(result: PollResult): Failure {
  if (result.status === 'ok') assert.fail('the host answered ok');
  return result;
}
function okOf(result: PollResult): Extract<PollResult, { status: 'ok' }> {
  if (result.status !== 'ok') assert.fail(`${result.status} during ${result.phase}: ${result.error}`);
  return result;
}

describe('documentation-based: PowerShell remoting failures map to statuses', () => {
  const cases = JSON.parse(readFileSync(ERRORS, 'utf8')) as (RemotingFailure & { name: string; status: string; phase: string; errorIncludes?: string })[];
  for (const c of cases) {
    it(`documentation-based: ${c.name} -> ${c.status}`, () => {
      const got = classifyRemotingFailure(c);
      assert.equal(got.status, c.status);
      assert.equal(got.phase, c.phase);
      if (c.errorIncludes !== undefined) assert.ok(got.error.includes(c.errorIncludes), got.error);
      assert.ok(got.error.length <= 300, 'errors stay short enough for a CSV cell');
    });
  }
});

describe('winrm transport without a usable PowerShell', () => {
  it('a PowerShell that cannot start makes each WinRM host unreachable, naming the setting', async () => {
    const transport = new PowerShellTransport({ executable: '/nonexistent/pwsh', env: process.env, log: silentLog });
    try {
      const [host] = hostsFromCsv('name,address,os\nwin01,10.0.1.1,windows\n');
      assert.ok(host !== undefined);
      const outcome = await transport.run(host, { script: "'x'", signal: AbortSignal.timeout(10_000), maxOutputBytes: 1024 });
      assert.equal(outcome.ok, false);
      if (outcome.ok) return;
      assert.deepEqual([outcome.status, outcome.phase, outcome.retryable], ['unreachable', 'connect', false]);
      assert.match(outcome.error, /cannot start PowerShell "\/nonexistent\/pwsh".*winrm\.powershell/);
    } finally {
      await transport.close();
    }
  });
});

// PowerShell starts slowly on a loaded CI machine (several seconds per process, and each
// remoting-over-SSH session starts one on the "host"): deadlines are generous.
const OK_TIMEOUT_MS = 60_000;
const HANG_TIMEOUT_MS = 25_000;
const A = { ok: '127.82.0.1', hang: '127.82.0.2', refused: '127.82.1.1' };

const noSshd = missingTool(SSHD);
const found = noSshd === null ? findPwsh() : noSshd;
const skip = typeof found === 'string' ? found : false;

describe('winrm transport: node-powershell + Invoke-Command against a real remoting endpoint', { skip }, () => {
  const pwsh = found as TestPwsh;
  const port = pickPort(23);
  // A pwsh under root's home (dotnet tool) is not runnable by the unprivileged test account.
  const user = pwsh.path.startsWith(homedir()) ? 'root' : TEST_USER;
  const fixtureDir = join(WINDOWS_FIXTURES, 'server2016-rds');
  const probe = fixtureProbeScript(fixtureDir);
  let keys: SshdKeys;
  let sshd: Sshd;
  let knownHostsPath: string;
  let transport: PowerShellTransport;
  let dataDir: string;

  const newTransport = (extra: { stuckAfterMs?: number } = {}): PowerShellTransport =>
    new PowerShellTransport({
      executable: pwsh.path,
      env: process.env,
      log: silentLog,
      remoting: { kind: 'ssh', knownHostsPath, keyPath: keys.clientKeyPath },
      timeoutMs: OK_TIMEOUT_MS,
      ...extra,
    });
  const row = (name: string, address: string, extra = ''): string => `${name},${address},winrm,${port},${user},${extra},windows`;
  const hosts = (...rows: string[]) => hostsFromCsv(`name,address,transport,port,user,auth,os\n${rows.join('\n')}\n`, { ...process.env, FP_WIN_PW: 'not used by ssh remoting' });
  const options = async (winrm: PowerShellTransport, timeoutMs: number, windowsScript = probe, retries = 0): Promise<PollOptions> =>
    pollOptions({ knownHostsPath, timeoutMs, windowsScript, windowsPowerShell: pwsh.path, winrm, retries });

  before(async () => {
    ensureTestUser();
    keys = makeKeys('fleetpoll-psrp-');
    sshd = await startSshd({
      addresses: [A.ok, A.hang],
      port,
      keys,
      // ForceCommand also replaces subsystems: that host accepts the session and never speaks PSRP.
      extraConfig: `Subsystem powershell ${pwsh.path} -sshs -NoLogo -NoProfile\nMatch LocalAddress ${A.hang}\n  ForceCommand sleep 40\n`,
    });
    knownHostsPath = writeKnownHosts(keys.dir, sshd.knownHostsLines());
    transport = newTransport();
    dataDir = mkdtempSync(join(tmpdir(), 'fleetpoll-windows-csv-'));
  });

  after(async () => {
    await transport?.close();
    await sshd?.stop();
    if (keys !== undefined) removeKeys(keys);
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
  });

  it('documentation-based: a Windows host answers through Invoke-Command, and its sample is the recorded one', async () => {
    const [host] = hosts(row('win01', A.ok));
    assert.ok(host !== undefined);
    const result = okOf(await pollHost(host, await options(transport, OK_TIMEOUT_MS)));
    assert.deepEqual(result.sample, JSON.parse(readFileSync(join(fixtureDir, 'expected.json'), 'utf8')));
    assert.ok(transport.processId !== undefined, 'the PowerShell process stays up for the next hosts');
  });

  it('a host that never answers costs its own deadline; the others are not held up', async () => {
    const fleet = hosts(row('win-ok', A.ok), row('win-hang', A.hang), row('win-refused', A.refused));
    const started = Date.now();
    const results = await pollFleet(fleet, await options(transport, HANG_TIMEOUT_MS));
    const elapsed = Date.now() - started;
    assert.deepEqual(
      results.map((r) => [r.host.name, r.status]),
      [
        ['win-ok', 'ok'],
        ['win-hang', 'timeout'],
        ['win-refused', 'unreachable'],
      ],
    );
    const [ok, hang] = results;
    assert.ok(ok !== undefined && hang !== undefined);
    assert.ok(ok.durationMs < hang.durationMs, `ok took ${ok.durationMs} ms, the hung host ${hang.durationMs} ms`);
    assert.ok(hang.durationMs >= HANG_TIMEOUT_MS - 100, `timed out after ${hang.durationMs} ms`);
    assert.ok(elapsed <= HANG_TIMEOUT_MS + 5000, `the fleet took ${elapsed} ms for a ${HANG_TIMEOUT_MS} ms deadline`);
    assert.ok(transport.processId !== undefined, 'a stuck host does not cost the PowerShell process');
  });

  it('the probe failing on the host, non-protocol output and oversized output are probe_error', async () => {
    const [host] = hosts(row('win01', A.ok));
    assert.ok(host !== undefined);
    const thrown = failureOf(await pollHost(host, await options(transport, OK_TIMEOUT_MS, "throw 'cannot read Win32_OperatingSystem: Access denied'\n")));
    assert.equal(thrown.status, 'probe_error');
    assert.match(thrown.error, /the probe failed on the host: cannot read Win32_OperatingSystem: Access denied/);
    const garbage = failureOf(await pollHost(host, await options(transport, OK_TIMEOUT_MS, "'<html>hello</html>'\n")));
    assert.equal(garbage.status, 'probe_error');
    assert.match(garbage.error, /not probe output/);
    const huge = failureOf(await pollHost(host, { ...(await options(transport, OK_TIMEOUT_MS, "'x' * 3000000\n")), maxOutputBytes: 1024 * 1024 }));
    assert.equal(huge.status, 'probe_error');
    assert.match(huge.error, /output exceeded 1 MB/);
  });

  it('a stuck PowerShell process is killed and replaced, and the host is polled on the new one', async () => {
    const stuck = newTransport({ stuckAfterMs: 4000 });
    try {
      const [host] = hosts(row('win01', A.ok));
      assert.ok(host !== undefined);
      okOf(await pollHost(host, await options(stuck, OK_TIMEOUT_MS)));
      const first = stuck.processId;
      assert.ok(first !== undefined);
      process.kill(first, 'SIGSTOP');
      const result = okOf(await pollHost(host, await options(stuck, 2 * OK_TIMEOUT_MS, probe, 1)));
      assert.equal(result.attempts, 2, 'the first attempt died with the stuck process');
      assert.ok(stuck.processId !== undefined && stuck.processId !== first, 'a new PowerShell process runs');
      assert.throws(() => process.kill(first, 0), /ESRCH/, 'the stuck process is gone');
    } finally {
      await stuck.close();
    }
  });

  it('a Linux poller has no WinRM client: WinRM hosts get a row saying so', async () => {
    const wsman = new PowerShellTransport({ executable: pwsh.path, env: process.env, log: silentLog, timeoutMs: OK_TIMEOUT_MS });
    try {
      const [host] = hosts(row('win01', '127.0.0.1'));
      assert.ok(host !== undefined);
      const result = failureOf(await pollHost(host, await options(wsman, OK_TIMEOUT_MS)));
      assert.equal(result.status, 'unreachable');
      assert.match(result.error, /no WinRM client/);
    } finally {
      await wsman.close();
    }
  });

  it('a password variable that is not set is auth_failed before anything connects', async () => {
    const lonely = new PowerShellTransport({ executable: '/nonexistent/pwsh', env: {}, log: silentLog });
    const [host] = hosts(row('win01', A.ok, 'password-env:FP_WIN_PW'));
    assert.ok(host !== undefined);
    const result = failureOf(await pollHost(host, await options(lonely, OK_TIMEOUT_MS)));
    assert.equal(result.status, 'auth_failed');
    assert.match(result.error, /FP_WIN_PW is not set/);
    assert.equal(lonely.processId, undefined, 'no PowerShell was started');
  });

  it('Windows rows, through WinRM and through SSH, land in the same CSV files as Linux rows', async () => {
    const fleet = hostsFromCsv(
      [
        'name,address,transport,port,user,auth,os',
        `win-winrm,${A.ok},winrm,${port},${user},,windows`,
        `win-ssh,${A.ok},ssh,${port},${user},key:${keys.clientKeyPath},windows`,
        `lin-ssh,${A.ok},ssh,${port},${user},key:${keys.clientKeyPath},linux`,
      ].join('\n'),
    );
    const cycleStart = new Date();
    const results = await pollFleet(fleet, await options(transport, OK_TIMEOUT_MS));
    for (const r of results) okOf(r);
    await writeCycle(results, cycleStart, { dataDir, delimiter: ',', decimalSeparator: '.' });

    const read = (file: string): Record<string, string>[] =>
      parse(readFileSync(join(dataDir, file), 'utf8').replace(/^\uFEFF/, ''), { columns: true }) as Record<string, string>[];
    const log = read('log.csv');
    assert.deepEqual(Object.keys(log[0] ?? {}), [...LOG_COLUMNS]);
    const byName = new Map(log.map((r) => [r.server, r]));
    for (const name of ['win-winrm', 'win-ssh']) {
      const r = byName.get(name);
      assert.ok(r !== undefined, name);
      assert.equal(r.status, 'ok');
      assert.equal(r.os, 'Microsoft Windows Server 2016 Standard');
      assert.equal(r.kernel, '10.0.14393.1480');
      assert.equal(r.cores, '4');
      assert.equal(r.cpu_pct, '27.5');
      assert.equal(r.load_1m, '', 'Windows has no load average');
      assert.equal(r.swap_total_gb, '2.38', 'the page file stands in for swap');
      assert.equal(r.disk_worst_mount, 'C:');
      assert.match(r.top_cpu ?? '', /^sqlservr \[NT Service\\MSSQLSERVER\] 50\.0%; pwsh \[CORP\\vertigoray\] 30\.0%/);
      assert.match(r.logged_in ?? '', /CORP\\vertigoray/);
    }
    assert.equal(byName.get('win-winrm')?.transport, 'winrm');
    assert.equal(byName.get('win-ssh')?.transport, 'ssh');
    assert.equal(byName.get('lin-ssh')?.status, 'ok');
    assert.equal(read('recentlog.csv').length, 3);
    assert.ok(read('disks.csv').some((d) => d.server === 'win-winrm' && d.mount === 'D:' && d.fstype === 'NTFS'));
    assert.ok(read('users.csv').some((u) => u.server === 'win-ssh' && u.user === '(services)' && u.processes === '9'));
    assert.ok(read('processes.csv').some((p) => p.server === 'win-winrm' && p.user === 'IIS APPPOOL\\DefaultAppPool' && p.process === 'w3wp'));
  });
});
