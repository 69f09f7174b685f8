// The exposure rule: loopback is open; anything else needs TLS (or insecure) and credentials.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { exposureProblems, isLoopback } from '../../src/http/exposure.js';
import { DEFAULT_HTTP_SETTINGS } from '../../src/http/settings.js';

describe('isLoopback', () => {
  it('knows 127.0.0.0/8, ::1 and the IPv4-mapped form', () => {
    for (const a of ['127.0.0.1', '127.42.0.9', '::1', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', '0:0:0:0:0:ffff:127.1.2.3']) assert.equal(isLoopback(a), true, a);
  });
  it('0.0.0.0, :: and real addresses are not loopback', () => {
    for (const a of ['0.0.0.0', '::', '10.0.0.1', '128.0.0.1', '::2', '::ffff:10.0.0.1', 'fe80::1', 'localhost']) assert.equal(isLoopback(a), false, a);
  });
});

describe('exposureProblems', () => {
  const tls = { certFile: '/c.pem', keyFile: '/k.pem' };
  it('loopback without credentials or TLS is fine', () => {
    assert.deepEqual(exposureProblems(DEFAULT_HTTP_SETTINGS, false), []);
    assert.deepEqual(exposureProblems({ ...DEFAULT_HTTP_SETTINGS, bind: '::1' }, false), []);
  });
  it('beyond loopback: TLS or insecure, and credentials, each with its own message', () => {
    const open = { ...DEFAULT_HTTP_SETTINGS, bind: '0.0.0.0' };
    assert.deepEqual(exposureProblems(open, false), [
      'http.bind is 0.0.0.0, which is not loopback: set http.tls.certFile and http.tls.keyFile for HTTPS, or "insecure": true to accept plain HTTP on the network (tokens and passwords then travel in clear)',
      'http.bind is 0.0.0.0, which is not loopback: set an access token (environment variable FLEETPOLL_HTTP_TOKEN or a file named by http.tokenFile) or http.users with password hashes from "fleetpoll http hash-password"',
    ]);
    assert.equal(exposureProblems({ ...open, tls }, false).length, 1);
    assert.equal(exposureProblems({ ...open, insecure: true }, false).length, 1);
    assert.match(exposureProblems(open, true)[0] ?? '', /http\.tls\.certFile/);
    assert.deepEqual(exposureProblems({ ...open, tls }, true), []);
    assert.deepEqual(exposureProblems({ ...open, insecure: true }, true), []);
  });
});
