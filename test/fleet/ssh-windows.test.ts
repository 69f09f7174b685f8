// The SSH transport on os=windows hosts, against a real OpenSSH sshd on loopback: the fixed
// -EncodedCommand bootstrap, started by the account's shell, reads the probe from stdin and
// runs it in PowerShell 7 (test/helpers/pwsh.ts stands in for the host's powershell.exe).
import assert from 'node:assert/strict';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pollHost } from '../../src/fleet/poll.js';
import type { PollResult } from '../../src/model.js';
import { buildProbeScript } from '../../src/probes/scripts.js';
import { hostsFromCsv, pollOptions, writeKnownHosts } from '../helpers/fleet.js';
import { findPwsh, type TestPwsh } from '../helpers/pwsh.js';
import { ensureTestUser, makeKeys, missingTool, pickPort, removeKeys, SSHD, startSshd, TEST_USER, type Sshd, type SshdKeys } from '../helpers/sshd.js';
import { fixtureProbeScript, WINDOWS_FIXTURES } from '../helpers/windows-fixtures.js';

const noSshd = missingTool(SSHD);
const found = noSshd === null ? findPwsh() : noSshd;
const skip = typeof found === 'string' ? found : false;
// PowerShell starts slowly on a busy CI machine; the deadline is generous, the checks are not.
const TIMEOUT_MS = 60_000;
const ADDRESS = '127.81.0.1';

function failureOf(result: PollResult): Exclude<PollResult, { status: 'ok' }> {
  if (result.status === 'ok') assert.fail('the host answered ok');
  return result;
}

describe('ssh transport to os=windows hosts (PowerShell over OpenSSH)', { skip }, () => {
  const pwsh = found as TestPwsh;
  let keys: SshdKeys;
  let sshd: Sshd;
  let knownHostsPath: string;
  const port = pickPort(21);
  // A pwsh under root's home (dotnet tool) is not runnable by the unprivileged test account.
  const user = pwsh.path.startsWith(homedir()) ? 'root' : TEST_USER;

  before(async () => {
    ensureTestUser();
    keys = makeKeys('fleetpoll-sshwin-');
    sshd = await startSshd({ addresses: [ADDRESS], port, keys });
    knownHostsPath = writeKnownHosts(keys.dir, sshd.knownHostsLines());
  });

  after(async () => {
    await sshd?.stop();
    if (keys !== undefined) removeKeys(keys);
  });

  const poll = async (windowsScript: string): Promise<PollResult> => {
    const [host] = hostsFromCsv(`name,address,transport,port,user,auth,os\nwin01,${ADDRESS},ssh,${port},${user},key:${keys.clientKeyPath},windows\n`);
    assert.ok(host !== undefined);
    assert.equal(host.transport, 'ssh');
    const options = await pollOptions({ knownHostsPath, timeoutMs: TIMEOUT_MS, windowsPowerShell: pwsh.path, windowsScript, retries: 0 });
    return pollHost(host, options);
  };

  it('documentation-based: runs the Windows probe streamed on stdin and parses its sample', async () => {
    const result = await poll(fixtureProbeScript(join(WINDOWS_FIXTURES, 'server2016-rds')));
    assert.equal(result.status, 'ok', result.status === 'ok' ? '' : `${result.phase}: ${result.error}`);
    if (result.status !== 'ok') return;
    assert.equal(result.sample.hostname, 'rds01');
    assert.equal(result.sample.cpuBusyPct, 27.5);
    assert.deepEqual(
      result.sample.disks.map((d) => d.mount),
      ['C:', 'D:'],
    );
    assert.equal(result.sample.procs[0]?.user, 'NT Service\\MSSQLSERVER');
  });

  it('the real probe, which needs Windows (CIM), fails as probe_error with PowerShell\'s reason', async () => {
    const result = await poll(buildProbeScript('windows', { cpuWindowSec: 0.2, topProcesses: 5 }));
    assert.equal(result.status, 'probe_error');
    assert.match(failureOf(result).error, /exit 1: fleetpoll probe failed: cannot read Win32_PerfRawData_PerfOS_Processor/);
  });

  it('output that is not the protocol is probe_error, like any host', async () => {
    const result = await poll("'<html>not a probe</html>'\n");
    assert.equal(result.status, 'probe_error');
    assert.match(failureOf(result).error, /not probe output/);
  });
});
