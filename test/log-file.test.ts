// The run log's file: appended, rotated by size under winston's tailable names (fleetpoll.log is always the newest).
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { RotatingFile } from '../src/log-file.js';

function withDir(run: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'fleetpoll-log-file-'));
  try {
    run(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function contents(dir: string): Record<string, string> {
  return Object.fromEntries(
    readdirSync(dir)
      .sort()
      .map((name) => [name, readFileSync(join(dir, name), 'utf8')]),
  );
}

describe('RotatingFile', () => {
  it('appends to the file, keeping what an earlier run wrote', () => {
    withDir((dir) => {
      writeFileSync(join(dir, 'fleetpoll.log'), 'earlier\n');
      const file = new RotatingFile(join(dir, 'fleetpoll.log'), 1000, 5);
      file.write('one\n');
      file.write('two\n');
      file.close();
      assert.deepEqual(contents(dir), { 'fleetpoll.log': 'earlier\none\ntwo\n' });
    });
  });

  it('rotates after the write that reaches the limit: newest in fleetpoll1.log, at most maxFiles files', () => {
    withDir((dir) => {
      const file = new RotatingFile(join(dir, 'fleetpoll.log'), 10, 3);
      for (const line of ['a1234\n', 'b1234\n', 'c1234\n', 'd1234\n', 'e1234\n', 'f1234\n', 'g1234\n']) file.write(line);
      file.close();
      // a+b reach 12 bytes: rotated; then c+d, then e+f; g is in the current file. a+b fell off the end.
      assert.deepEqual(contents(dir), { 'fleetpoll.log': 'g1234\n', 'fleetpoll1.log': 'e1234\nf1234\n', 'fleetpoll2.log': 'c1234\nd1234\n' });
    });
  });

  it('the current file exists again, empty, right after a rotation', () => {
    withDir((dir) => {
      const file = new RotatingFile(join(dir, 'fleetpoll.log'), 4, 5);
      file.write('long line\n');
      file.close();
      assert.deepEqual(contents(dir), { 'fleetpoll.log': '', 'fleetpoll1.log': 'long line\n' });
    });
  });

  it('a file an earlier run left at the limit is rotated before this run writes', () => {
    withDir((dir) => {
      writeFileSync(join(dir, 'fleetpoll.log'), 'x'.repeat(20));
      writeFileSync(join(dir, 'fleetpoll1.log'), 'older\n');
      const file = new RotatingFile(join(dir, 'fleetpoll.log'), 20, 5);
      file.write('new\n');
      file.close();
      assert.deepEqual(contents(dir), { 'fleetpoll.log': 'new\n', 'fleetpoll1.log': 'x'.repeat(20), 'fleetpoll2.log': 'older\n' });
    });
  });

  it('throws the file system error when the file cannot be opened', () => {
    withDir((dir) => {
      const file = new RotatingFile(join(dir, 'missing-dir', 'fleetpoll.log'), 100, 5);
      assert.throws(() => file.write('x\n'), { code: 'ENOENT' });
    });
  });
});
