// scrypt password hashes: the string format, verification, and refusal of what is not a hash.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_SCRYPT_COST, hashPassword, parsePasswordHash, verifyPassword, type PasswordHash } from '../../src/http/password.js';

const cheap = { n: 1024, r: 8, p: 1 };

describe('password hashes', () => {
  it('hash, parse and verify round trip; the salt makes each hash different', async () => {
    const a = await hashPassword('correct horse', cheap);
    const b = await hashPassword('correct horse', cheap);
    assert.match(a, /^scrypt\$1024\$8\$1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    assert.notEqual(a, b);
    const parsed = parsePasswordHash(a) as PasswordHash;
    assert.equal(typeof parsed, 'object');
    assert.equal(await verifyPassword('correct horse', parsed), true);
    assert.equal(await verifyPassword('correct horse ', parsed), false);
    assert.equal(await verifyPassword('', parsed), false);
  });

  it('uses the documented default cost (N=2^15, r=8, p=3)', async () => {
    assert.deepEqual(DEFAULT_SCRYPT_COST, { n: 32768, r: 8, p: 3 });
    assert.match(await hashPassword('x'), /^scrypt\$32768\$8\$3\$/);
  });

  it('says what is wrong with a string that is not a usable hash', () => {
    assert.equal(parsePasswordHash('hunter2'), 'a hash made by "fleetpoll http hash-password" (scrypt$N$r$p$salt$hash), not a password');
    assert.equal(parsePasswordHash('scrypt$1000$8$1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA'), 'a hash whose N is a power of two from 2 to 1048576');
    assert.equal(parsePasswordHash('scrypt$4194304$8$1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA'), 'a hash whose N is a power of two from 2 to 1048576');
    assert.equal(parsePasswordHash('scrypt$1024$0$1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA'), 'a hash whose r is from 1 to 32');
    assert.equal(parsePasswordHash('scrypt$1024$8$99$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA'), 'a hash whose p is from 1 to 16');
    assert.equal(parsePasswordHash('scrypt$1024$8$1$c2Fsd!$aGFzaGhhc2hoYXNoaGFzaA'), 'a hash whose salt and hash are base64');
    assert.equal(parsePasswordHash('scrypt$1024$8$1$c2FsdA$aGFzaGhhc2hoYXNoaGFzaA'), 'a hash with a salt of at least 8 bytes');
  });

  it('refuses to hash an empty password', async () => {
    await assert.rejects(hashPassword('', cheap), /the password is empty/);
  });
});
