// The `http` section: defaults, layering, and one precise message for each bad value.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jsonPathLines } from '../../src/settings-section.js';
import { DEFAULT_HTTP_SETTINGS, parseHttpSettings, type HttpSettings } from '../../src/http/settings.js';
import { configProblems } from '../helpers/config.js';

const HASH = 'scrypt$1024$8$1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g';
const dirs = { fileBase: '/etc/fleetpoll', cwd: '/work' };

function parse(section: unknown, env: NodeJS.ProcessEnv = {}): { settings: HttpSettings; problems: string[] } {
  const text = JSON.stringify({ http: section }, null, 2);
  const problems: string[] = [];
  const settings = parseHttpSettings(section, { file: 'f.json', lines: jsonPathLines(text) }, env, problems, dirs);
  return { settings, problems };
}

describe('http settings', () => {
  it('defaults: loopback, port 8080, no TLS, no credentials, token from FLEETPOLL_HTTP_TOKEN', () => {
    assert.deepEqual(parse(undefined).settings, DEFAULT_HTTP_SETTINGS);
    assert.deepEqual(DEFAULT_HTTP_SETTINGS, { bind: '127.0.0.1', port: 8080, tls: null, insecure: false, tokenEnv: 'FLEETPOLL_HTTP_TOKEN', tokenFile: null, users: [] });
  });

  it('reads every key; paths are relative to the settings file; the environment sets bind and port', () => {
    const { settings, problems } = parse(
      { bind: '0.0.0.0', port: 8443, tls: { certFile: 'tls/cert.pem', keyFile: '/etc/ssl/key.pem' }, tokenFile: 'token', users: { alice: HASH } },
      { FLEETPOLL_HTTP_BIND: '::', FLEETPOLL_HTTP_PORT: '9000' },
    );
    assert.deepEqual(problems, []);
    assert.deepEqual(settings, {
      bind: '::',
      port: 9000,
      tls: { certFile: '/etc/fleetpoll/tls/cert.pem', keyFile: '/etc/ssl/key.pem' },
      insecure: false,
      tokenEnv: 'FLEETPOLL_HTTP_TOKEN',
      tokenFile: '/etc/fleetpoll/token',
      users: [{ name: 'alice', passwordHash: HASH }],
    });
  });

  it('names each bad value with its line', () => {
    const { problems } = parse({ bind: 'localhost', port: 0, insecure: 'maybe', tokenEnv: 'MY-TOKEN', tls: { certFile: 'c.pem' }, users: { 'bob:x': HASH, carol: 'hunter2' }, listen: 1 });
    assert.deepEqual(problems, [
      'f.json:14: unknown setting "http.listen" (known: http.bind, http.port, http.tls, http.insecure, http.tokenEnv, http.tokenFile, http.users)',
      'f.json:3: http.bind must be an IP address such as "127.0.0.1", "0.0.0.0" (every IPv4 address) or "::" (every address) (got "localhost")',
      'f.json:8: http.tls.keyFile is required with http.tls.certFile (HTTPS needs the certificate and its private key, both PEM files)',
      'f.json:4: http.port must be a whole number from 1 to 65535 (got 0)',
      'f.json:5: http.insecure must be true or false (got "maybe")',
      'f.json:6: http.tokenEnv must be an environment variable name (letters, digits, _) (got "MY-TOKEN")',
      'f.json:11: http.users name "bob:x" must be letters, digits and _ . @ - (no colon, at most 64)',
      'f.json:12: http.users.carol must be a hash made by "fleetpoll http hash-password" (scrypt$N$r$p$salt$hash), not a password',
    ]);
  });

  it('refuses a secret in the settings file, and never echoes it', () => {
    const { problems } = parse({ token: 'sekrit-sekrit-sekrit' });
    assert.equal(problems.length, 1);
    assert.match(problems[0] ?? '', /^f\.json:3: http\.token is not allowed: the settings file is no place for a secret; put the token in environment variable FLEETPOLL_HTTP_TOKEN/);
    assert.doesNotMatch(problems.join('\n'), /sekrit/);
    assert.doesNotMatch(parse({ users: { dave: 'sekrit-password' } }).problems.join('\n'), /sekrit/);
  });

  it('tls must be an object', () => {
    assert.deepEqual(parse({ tls: true }).problems, ['f.json:3: http.tls must be an object such as {"certFile": "tls/cert.pem", "keyFile": "tls/key.pem"} (got true)']);
  });

  it('is part of the Config, validated with the rest of the file', () => {
    assert.deepEqual(configProblems(JSON.stringify({ http: { port: 'eighty' } })), ['fleetpoll.config.json:1: http.port must be a whole number from 1 to 65535 (got "eighty")']);
    assert.deepEqual(configProblems('{}', { FLEETPOLL_HTTP_PORT: '70000' }), ['environment variable FLEETPOLL_HTTP_PORT: http.port must be a whole number from 1 to 65535 (got "70000")']);
  });
});
