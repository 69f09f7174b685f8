// File fingerprints (src/serve/fingerprint.ts): an edit that keeps size and mtime is still a change.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { changedFiles, fingerprintAll } from '../../src/serve/fingerprint.js';

describe('fingerprints', () => {
  it('sees a same-size edit with the mtime put back, a new file and a removed one; nothing when nothing changed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fleetpoll-fp-'));
    try {
      const a = join(dir, 'servers.csv');
      const b = join(dir, 'fleetpoll.config.json');
      writeFileSync(a, 'name\nweb1\n');
      const before = await fingerprintAll([a, b]);
      assert.deepEqual(changedFiles(before, await fingerprintAll([a, b])), []);
      const { atime, mtime } = statSync(a);
      writeFileSync(a, 'name\nweb2\n');
      utimesSync(a, atime, mtime);
      assert.deepEqual(changedFiles(before, await fingerprintAll([a, b])), [a]);
      writeFileSync(b, '{}');
      assert.deepEqual(changedFiles(before, await fingerprintAll([a, b])), [a, b]);
      rmSync(a);
      assert.deepEqual(changedFiles(await fingerprintAll([a]), await fingerprintAll([a])), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
