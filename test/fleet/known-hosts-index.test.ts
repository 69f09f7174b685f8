// Tests for src/fleet/known-hosts-index.ts: the index gives the same lines, in the same order, as
// matching every line (known-hosts-format.ts), and resolves each hashed line once.
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { hostFieldMatches, lookupName, type KnownHostEntry } from '../../src/fleet/known-hosts-format.js';
import { KnownHostsIndex } from '../../src/fleet/known-hosts-index.js';

// A blob that starts like an ed25519 key; the index never looks inside it.
function blob(): Buffer {
  const type = Buffer.from('ssh-ed25519');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(type.length);
  return Buffer.concat([length, type, randomBytes(32)]);
}

function hashed(name: string): string {
  const salt = randomBytes(20);
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
}

let lineNumber = 0;
function entry(patterns: string, marker: KnownHostEntry['marker'] = null): KnownHostEntry {
  lineNumber += 1;
  return { file: 'known_hosts', line: lineNumber, marker, patterns, keyType: 'ssh-ed25519', keyBlob: blob() };
}

// What the index must agree with: every line tried against the name, in file order.
function matchEveryLine(entries: readonly KnownHostEntry[], address: string, port: number): KnownHostEntry[] {
  const name = lookupName(address, port);
  return entries.filter((e) => e.marker !== 'cert-authority' && hostFieldMatches(e.patterns, name));
}

describe('KnownHostsIndex', () => {
  const entries = [
    entry('web1,web1.example.org'),
    entry('*.example.org,!db*.example.org'),
    entry(hashed('web1')),
    entry('web1', 'revoked'),
    entry('*', 'cert-authority'),
    entry('[web1]:2222'),
    entry('db1.example.org'),
    entry(hashed('[web1]:2222')),
    entry('WEB1'),
    entry('web?'),
  ];
  const hosts: [string, number][] = [
    ['web1', 22],
    ['web1', 2222],
    ['web1.example.org', 22],
    ['db1.example.org', 22],
    ['web2', 22],
    ['nowhere', 22],
  ];

  test('names the same lines, in file order, as matching every line', () => {
    const index = new KnownHostsIndex(entries);
    for (const [address, port] of hosts) {
      assert.deepEqual(index.named(address, port), matchEveryLine(entries, address, port), `${address}:${port}`);
    }
    // Asked again (from the memo and from the resolved hashed lines), the answer is the same.
    for (const [address, port] of hosts) assert.deepEqual(index.named(address, port), matchEveryLine(entries, address, port));
  });

  test('resolves each hashed line once, by scanning, and records the name it hashes', () => {
    const index = new KnownHostsIndex(entries);
    assert.equal(index.unresolvedCount, 2);
    index.named('web1', 22);
    assert.equal(index.unresolvedCount, 1);
    assert.equal(index.scannedResolutions, 1);
    assert.equal(index.resolved.get((entries[2] as KnownHostEntry).patterns), 'web1');
    index.named('web1', 22);
    index.named('nowhere', 22);
    assert.equal(index.scannedResolutions, 1, 'a line already resolved is not scanned again');
    index.named('web1', 2222);
    assert.equal(index.unresolvedCount, 0);
    assert.equal(index.resolved.get((entries[7] as KnownHostEntry).patterns), '[web1]:2222');
  });

  test('seed() trusts a saved name only when its HMAC verifies', () => {
    const index = new KnownHostsIndex(entries);
    const web1 = (entries[2] as KnownHostEntry).patterns;
    const port2222 = (entries[7] as KnownHostEntry).patterns;
    const verified = index.seed(new Map([
      [web1, 'web1'],
      [port2222, 'web2'],
    ]));
    assert.equal(verified, 1);
    assert.equal(index.unresolvedCount, 1);
    assert.equal(index.scannedResolutions, 0);
    assert.deepEqual(index.named('web1', 22), matchEveryLine(entries, 'web1', 22));
    assert.equal(index.scannedResolutions, 0, 'the seeded line needed no scan');
    assert.deepEqual(index.named('web1', 2222), matchEveryLine(entries, 'web1', 2222));
    assert.equal(index.scannedResolutions, 1, 'the wrongly named line was found by its scan');
  });

  test('a line added after a lookup is seen by the next lookup', () => {
    const index = new KnownHostsIndex([entry('web7')]);
    assert.equal(index.named('web7', 22).length, 1);
    const added = entry('web7');
    index.add(added);
    assert.deepEqual(index.named('web7', 22).at(-1), added);
  });
});
