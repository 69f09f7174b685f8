// Tests for src/fleet/transports.ts: what a poll sets up before it connects (known_hosts, the saved
// names of hashed lines, a stand-in for a transport no host uses). No host is contacted here;
// test/fleet/ssh.test.ts and test/cli.test.ts poll through these transports against real sshd.
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { KNOWN_HOSTS_NAMES_FILE, readKnownHostsNames, writeKnownHostsNames } from '../../src/fleet/known-hosts-names.js';
import { buildTransports } from '../../src/fleet/transports.js';
import { silentLog, type Log } from '../../src/log.js';
import { host } from '../helpers/store-fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'fleetpoll-transports-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const ED25519_BLOB = (): string => {
  const type = Buffer.from('ssh-ed25519');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(type.length);
  const keyLength = Buffer.alloc(4);
  keyLength.writeUInt32BE(32);
  return Buffer.concat([length, type, keyLength, randomBytes(32)]).toString('base64');
};

function hashedField(name: string): string {
  const salt = randomBytes(20);
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
}

// A config whose files all live under `root`; hostKeyChecking as given.
function configIn(root: string, hostKeyChecking = 'strict') {
  mkdirSync(root, { recursive: true });
  // The machine's own /etc/ssh/ssh_known_hosts stays out of it.
  writeFileSync(join(root, 'fleetpoll.config.json'), JSON.stringify({ ssh: { systemKnownHosts: 'no-system-known-hosts' } }));
  return loadConfig({ dataDir: join(root, 'data'), knownHosts: join(root, 'known_hosts'), hostKeyChecking }, {}, root, 'me');
}

function recordingLog(): { log: Log; warnings: string[] } {
  const warnings: string[] = [];
  const log: Log = { ...silentLog, warn: (m: string) => void warnings.push(m), child: () => log };
  return { log, warnings };
}

describe('buildTransports', () => {
  it('sets up every kind; a kind no host uses is a stand-in that refuses to run', async () => {
    const config = configIn(join(dir, 'local'));
    const { transports, saveKnownHostsNames } = await buildTransports(config, [host('here', { transport: 'local' })], {}, silentLog);
    assert.deepEqual(Object.keys(transports).sort(), ['local', 'push', 'ssh', 'winrm']);
    await assert.rejects(transports.winrm.run(host('w', { transport: 'winrm' }), { script: 'probe', signal: AbortSignal.timeout(1000), maxOutputBytes: 1024 }), /transport winrm was not set up for this run/);
    await saveKnownHostsNames();
    await Promise.all(Object.values(transports).map((t) => t.close()));
  });

  it('reads known_hosts only when a host uses ssh', async () => {
    const root = join(dir, 'unreadable');
    const config = configIn(root);
    // A directory where the file should be: reading it fails.
    mkdirSync(join(root, 'known_hosts'));
    const local = await buildTransports(config, [host('here', { transport: 'local' })], {}, silentLog);
    await Promise.all(Object.values(local.transports).map((t) => t.close()));
    await assert.rejects(buildTransports(config, [host('web1')], {}, silentLog), /cannot read known_hosts file/);
  });

  it('reports bad known_hosts lines and host key checking turned off as warnings', async () => {
    const root = join(dir, 'warnings');
    const config = configIn(root, 'off');
    writeFileSync(join(root, 'known_hosts'), 'web1 ssh-ed25519\n');
    const { log, warnings } = recordingLog();
    const built = await buildTransports(config, [host('web1')], {}, log);
    await Promise.all(Object.values(built.transports).map((t) => t.close()));
    assert.match(warnings[0] ?? '', /host key checking is OFF/);
    assert.equal(warnings.length, 1, "'off' reads no file, so no line is reported");
    const strict = recordingLog();
    await buildTransports(configIn(root), [host('web1')], {}, strict.log);
    assert.deepEqual(strict.warnings, [`known_hosts: ${join(root, 'known_hosts')}:1: expected "hosts keytype key"`]);
  });

  it('keeps the saved names of hashed lines, and drops the ones that no longer verify', async () => {
    const root = join(dir, 'hashed');
    const config = configIn(root);
    const web1 = hashedField('web1.example.net');
    writeFileSync(join(root, 'known_hosts'), `${web1} ssh-ed25519 ${ED25519_BLOB()}\n`);
    const namesFile = join(config.dataDir, KNOWN_HOSTS_NAMES_FILE);
    mkdirSync(config.dataDir, { recursive: true });

    // Every saved pair verifies and nothing new was matched: the file is left alone.
    await writeKnownHostsNames(namesFile, new Map([[web1, 'web1.example.net']]));
    const before = readFileSync(namesFile, 'utf8');
    const current = await buildTransports(config, [host('web1')], {}, silentLog);
    await current.saveKnownHostsNames();
    await Promise.all(Object.values(current.transports).map((t) => t.close()));
    assert.equal(readFileSync(namesFile, 'utf8'), before);

    // A pair whose line was removed from known_hosts is dropped on save.
    const removed = hashedField('gone.example.net');
    await writeKnownHostsNames(namesFile, new Map([[web1, 'web1.example.net'], [removed, 'gone.example.net']]));
    const stale = await buildTransports(config, [host('web1')], {}, silentLog);
    await stale.saveKnownHostsNames();
    await Promise.all(Object.values(stale.transports).map((t) => t.close()));
    assert.deepEqual([...(await readKnownHostsNames(namesFile))], [[web1, 'web1.example.net']]);
  });
});
