// The build's warm-up SSH server (scripts/warmup-sshd.mjs): the code cache holds fleetpoll's SSH path
// only if a real poll through it succeeds, so a server that refused the key, or answered with output the
// parser rejects, would silently leave every scheduled poll compiling that path again.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pollFleet } from '../src/fleet/poll.js';
import { hostsFromCsv, pollOptions, writeKnownHosts } from './helpers/fleet.js';

interface WarmupSshd {
  readonly port: number;
  readonly clientPrivateKey: string;
  readonly knownHostsLine: string;
  close(): Promise<void>;
}

const SCRIPT = new URL('../../scripts/warmup-sshd.mjs', import.meta.url).href;

describe('build warm-up SSH server', () => {
  let dir = '';
  const servers: WarmupSshd[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fleetpoll-warmup-test-'));
    const { startWarmupSshd } = (await import(SCRIPT)) as { startWarmupSshd: () => Promise<WarmupSshd> };
    // Several servers: each draws fresh keys, and ssh2's generator occasionally makes one that does not parse.
    for (let i = 0; i < 5; i += 1) servers.push(await startWarmupSshd());
  });
  after(async () => {
    for (const server of servers) await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers a strict-known_hosts, key-authenticated poll with a probe reply the parser accepts', async () => {
    const rows = servers.map((server, i) => {
      const key = join(dir, `key${i}`);
      writeFileSync(key, server.clientPrivateKey, { mode: 0o600 });
      return `warm${i},127.0.0.1,ssh,${server.port},,key:${key}`;
    });
    const knownHostsPath = writeKnownHosts(dir, servers.map((s) => s.knownHostsLine));
    const results = await pollFleet(hostsFromCsv(`name,address,transport,port,user,auth\n${rows.join('\n')}\n`), await pollOptions({ knownHostsPath, timeoutMs: 10_000 }));
    for (const result of results) {
      assert.equal(result.status, 'ok', result.status === 'ok' ? '' : `${result.host.name}: ${result.error}`);
      if (result.status === 'ok') {
        assert.equal(result.sample.hostname, 'warmup');
        assert.deepEqual(result.sample.procs.map((p) => p.name), ['init', 'nginx: worker']);
      }
    }
  });

  it('refuses a key it did not generate', async () => {
    const server = servers[0] as WarmupSshd;
    const other = servers[1] as WarmupSshd;
    const key = join(dir, 'other');
    writeFileSync(key, other.clientPrivateKey, { mode: 0o600 });
    const knownHostsPath = writeKnownHosts(dir, [server.knownHostsLine], 'known_hosts_one');
    const [result] = await pollFleet(hostsFromCsv(`name,address,transport,port,user,auth\nw,127.0.0.1,ssh,${server.port},,key:${key}\n`), await pollOptions({ knownHostsPath, timeoutMs: 10_000 }));
    assert.equal(result?.status, 'auth_failed');
  });
});
