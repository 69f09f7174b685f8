// Push tokens (src/push/tokens.ts): 256-bit random, stored only as SHA-256 in a 0600 file, matched per host.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { hashToken, newToken, readTokens, tokenMatches, tokensPath, TokenFileError, writeTokens } from '../../src/push/tokens.js';

const dir = mkdtempSync(join(tmpdir(), 'fleetpoll-tokens-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('push tokens', () => {
  it('are 32 random bytes, base64url, with a recognisable prefix', () => {
    const a = newToken();
    assert.match(a, /^fpp_[A-Za-z0-9_-]{43}$/);
    assert.notEqual(a, newToken());
  });

  it('are written as hashes only, mode 0600, and matched per host, case-insensitively', async () => {
    const token = newToken();
    await writeTokens(join(dir, 'data'), new Map([['dmz01', { host: 'DMZ01', sha256: hashToken(token), createdAt: '2026-12-04T10:00:00.000Z' }]]));
    const file = tokensPath(join(dir, 'data'));
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.doesNotMatch(readFileSync(file, 'utf8'), new RegExp(token));
    const table = await readTokens(join(dir, 'data'));
    assert.equal(tokenMatches(table, 'dmz01', token), true);
    assert.equal(tokenMatches(table, 'DMZ01', token), true);
    assert.equal(tokenMatches(table, 'dmz01', `${token}x`), false);
    assert.equal(tokenMatches(table, 'dmz02', token), false, 'another host');
    assert.equal(tokenMatches(table, 'dmz01', ''), false);
  });

  it('an absent file is no token; a damaged one is an error naming the file', async () => {
    assert.equal((await readTokens(join(dir, 'none'))).size, 0);
    writeFileSync(join(dir, 'push-tokens.json'), '{"hosts": {"dmz01": {"sha256": "abc"}}}');
    await assert.rejects(readTokens(dir), (error: unknown) => error instanceof TokenFileError && /push-tokens\.json: the entry of "dmz01" must be \{"sha256": "<64 hex>"/.test(error.message));
  });
});
