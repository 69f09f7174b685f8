// Settings: defaults, then file, then environment, then flags; every bad value named precisely.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../src/config.js';

const dir = mkdtempSync(join(tmpdir(), 'fleetpoll-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function problems(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  assert.fail('expected a ConfigError');
}

describe('config', () => {
  it('has sensible defaults relative to the working directory', () => {
    const config = loadConfig({}, {}, dir, 'me');
    assert.equal(config.inventoryPath, join(dir, 'inventory/servers.csv'));
    assert.equal(config.dataDir, join(dir, 'data'));
    assert.equal(config.poll.concurrency, 50);
    assert.equal(config.poll.timeoutMs, 30_000);
    assert.equal(config.poll.maxOutputBytes, 4 * 1024 * 1024);
    assert.equal(config.ssh.hostKeyChecking, 'strict');
    assert.equal(config.ssh.user, 'me');
    assert.equal(config.csv.delimiter, ',');
    assert.equal(config.csv.decimalSeparator, '.');
    assert.ok(Object.isFrozen(config.poll));
  });

  it('layers file < environment < flags; file paths are relative to the file', () => {
    const sub = join(dir, 'etc');
    const file = join(dir, 'layer.json');
    writeFileSync(file, JSON.stringify({ dataDir: 'var/data', poll: { concurrency: 10, timeoutSeconds: 5 }, csv: { delimiter: ';' } }));
    const config = loadConfig({ config: file, timeout: 7 }, { FLEETPOLL_CONCURRENCY: '20' }, sub, 'me');
    assert.equal(config.dataDir, join(dir, 'var/data'));
    assert.equal(config.poll.concurrency, 20);
    assert.equal(config.poll.timeoutMs, 7000);
    assert.equal(config.csv.delimiter, ';');
    assert.equal(config.csv.decimalSeparator, ',', "';' implies a decimal comma, as Excel expects");
  });

  it('names file, line and field for every bad value at once', () => {
    const file = join(dir, 'bad.json');
    writeFileSync(
      file,
      ['{', '  "poll": {', '    "concurrency": "many",', '    "timeoutSecs": 5', '  },', '  "ssh": { "hostKeyChecking": "yes" }', '}'].join('\n'),
    );
    assert.deepEqual(problems(() => loadConfig({ config: file }, {}, dir, 'me')), [
      `${file}:4: unknown setting "poll.timeoutSecs" (known: poll.concurrency, poll.timeoutSeconds, poll.cpuWindowSeconds, poll.topProcesses, poll.maxOutputMB, poll.retries, poll.retryBackoffSeconds, poll.maxConnections, poll.maxSessions, poll.maxConnectsPerSecond)`,
      `${file}:3: poll.concurrency must be a whole number from 1 to 10000 (got "many")`,
      `${file}:6: ssh.hostKeyChecking must be one of "strict", "accept-new", "off" (got "yes")`,
    ]);
  });

  it('reports invalid JSON and a missing explicit file', () => {
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{ "poll": ');
    assert.match(problems(() => loadConfig({ config: file }, {}, dir, 'me'))[0] ?? '', /broken\.json: not valid JSON/);
    assert.deepEqual(problems(() => loadConfig({ config: 'nope.json' }, {}, dir, 'me')), [`${join(dir, 'nope.json')}: settings file not found`]);
  });

  it('names the environment variable or flag that carried a bad value', () => {
    assert.deepEqual(problems(() => loadConfig({ concurrency: 0 }, { FLEETPOLL_TIMEOUT: 'soon' }, dir, 'me')), [
      '--concurrency: poll.concurrency must be a whole number from 1 to 10000 (got 0)',
      'environment variable FLEETPOLL_TIMEOUT: poll.timeoutSeconds must be a number from 1 to 3600 (got "soon")',
    ]);
  });

  it('leaves the alerts, smtp and report sections to their own validators', () => {
    const file = join(dir, 'later.json');
    writeFileSync(file, JSON.stringify({ alerts: {}, report: {} }));
    assert.equal(loadConfig({ config: file }, {}, dir, 'me').configFile, file);
    // alerts and smtp are validated by src/alerts/settings.ts and src/mail/smtp.ts (tested there).
    writeFileSync(file, JSON.stringify({ alerts: { anything: 1 }, smtp: {} }));
    const found = problems(() => loadConfig({ config: file }, {}, dir, 'me'));
    assert.ok(found.some((p) => p.includes('unknown setting "alerts.anything"')), found.join('\n'));
    assert.ok(found.some((p) => p.includes('smtp.host is required')), found.join('\n'));
  });

  it('expands ~ by one rule in every path setting, its own sections and the report\'s alike', () => {
    const file = join(dir, 'home.json');
    writeFileSync(file, JSON.stringify({ ssh: { knownHosts: '~\\kh', identity: '~/.ssh/fleet' }, report: { outDir: '~\\reports' } }));
    const config = loadConfig({ config: file }, {}, dir, 'me');
    assert.equal(config.ssh.knownHostsPath, join(homedir(), 'kh'));
    assert.equal(config.ssh.identityPath, join(homedir(), '.ssh', 'fleet'));
    assert.equal(config.report.outDir, join(homedir(), 'reports'));
  });

  it('reads the Windows settings and refuses a Windows PowerShell program that could carry shell syntax', () => {
    const defaults = loadConfig({}, {}, dir, 'me');
    assert.equal(defaults.ssh.windowsPowerShell, 'powershell');
    assert.deepEqual({ ...defaults.winrm }, { powershell: process.platform === 'win32' ? 'powershell' : 'pwsh', useSsl: false, authentication: 'default' });
    const file = join(dir, 'windows.json');
    writeFileSync(file, JSON.stringify({ ssh: { windowsPowerShell: 'pwsh' }, winrm: { powershell: 'C:\\Program Files\\PowerShell\\7\\pwsh.exe', useSsl: true, authentication: 'kerberos' } }));
    const config = loadConfig({ config: file }, {}, dir, 'me');
    assert.equal(config.ssh.windowsPowerShell, 'pwsh');
    assert.deepEqual({ ...config.winrm }, { powershell: 'C:\\Program Files\\PowerShell\\7\\pwsh.exe', useSsl: true, authentication: 'kerberos' });
    writeFileSync(file, JSON.stringify({ ssh: { windowsPowerShell: 'powershell & calc' }, winrm: { useSsl: 'maybe', authentication: 'ntlm' } }));
    assert.deepEqual(problems(() => loadConfig({ config: file }, {}, dir, 'me')), [
      `${file}:1: ssh.windowsPowerShell must be a program name or path without spaces (got "powershell & calc")`,
      `${file}:1: winrm.useSsl must be true or false (got "maybe")`,
      `${file}:1: winrm.authentication must be one of "default", "negotiate", "kerberos", "credssp", "basic" (got "ntlm")`,
    ]);
  });
});
