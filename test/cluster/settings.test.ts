// The nats section: absent = standalone; servers required; one way to authenticate; secrets only by reference.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseNatsSettings } from '../../src/cluster/settings.js';

const DIRS = { fileBase: '/etc/fleetpoll', cwd: '/work' };
function parse(section: unknown, env: NodeJS.ProcessEnv = {}): { settings: ReturnType<typeof parseNatsSettings>; problems: string[] } {
  const problems: string[] = [];
  return { settings: parseNatsSettings(section, null, env, problems, DIRS), problems };
}

describe('nats settings', () => {
  it('absent: null (standalone serve)', () => {
    assert.deepEqual(parse(undefined), { settings: null, problems: [] });
  });

  it('reads servers, a user with a password variable, TLS files and the timings', () => {
    const { settings, problems } = parse({
      servers: ['nats://127.0.0.1:4222', 'tls://nats.example.net:4222'],
      user: 'fleetpoll',
      passwordEnv: 'NATS_PW',
      tls: { caFile: 'tls/ca.pem' },
      ackWaitSeconds: 10,
      heartbeatSeconds: 2,
    });
    assert.deepEqual(problems, []);
    assert.deepEqual(settings?.servers, ['nats://127.0.0.1:4222', 'tls://nats.example.net:4222']);
    assert.deepEqual(settings?.auth, { kind: 'user', user: 'fleetpoll', passwordEnv: 'NATS_PW', passwordFile: null });
    assert.deepEqual(settings?.tls, { caFile: '/etc/fleetpoll/tls/ca.pem', certFile: null, keyFile: null });
    assert.equal(settings?.ackWaitMs, 10_000);
    assert.equal(settings?.heartbeatMs, 2000);
  });

  it('FLEETPOLL_NATS_SERVERS alone turns zones on', () => {
    const { settings, problems } = parse(undefined, { FLEETPOLL_NATS_SERVERS: 'nats://10.0.0.5:4222' });
    assert.deepEqual(problems, []);
    assert.deepEqual(settings?.servers, ['nats://10.0.0.5:4222']);
    assert.deepEqual(settings?.auth, { kind: 'none' });
  });

  it('refuses a missing server list, bad URLs, two auth methods, secrets in the file and a lone client certificate', () => {
    assert.deepEqual(parse({}).problems, ['settings: nats.servers is required (e.g. ["nats://127.0.0.1:4222"]) when the nats section is present']);
    assert.match(parse({ servers: ['http://x:4222'] }).problems.join('\n'), /nats.servers must be a list of server URLs/);
    assert.match(parse({ servers: ['nats://x'], user: 'u', tokenEnv: 'T' }).problems.join('\n'), /choose one way to authenticate, not user and token/);
    assert.match(parse({ servers: ['nats://x'], user: 'u', password: 'hunter2' }).problems.join('\n'), /nats.password is not allowed: the settings file is no place for a secret/);
    assert.doesNotMatch(parse({ servers: ['nats://x'], user: 'u', password: 'hunter2' }).problems.join('\n'), /hunter2/);
    assert.match(parse({ servers: ['nats://x'], tls: { certFile: 'c.pem' } }).problems.join('\n'), /nats.tls.keyFile is required with nats.tls.certFile/);
    assert.match(parse({ servers: ['nats://x'], ackWaitSeconds: 0 }).problems.join('\n'), /nats.ackWaitSeconds must be a number from 1 to 3600/);
    assert.match(parse({ servers: ['nats://x'], color: 'red' }).problems.join('\n'), /unknown setting "nats.color"/);
  });
});
