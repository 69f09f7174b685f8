// The coordinator's note of the cycle it is collecting (data/cluster-cycle.json): written whole,
// read back as it was, forgotten once the cycle is written; a missing or torn note is no cycle.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { clearPendingCycle, PENDING_CYCLE_FILE, readPendingCycle, writePendingCycle, type PendingCycle } from '../../src/cluster/pending-cycle.js';

describe('pending cycle note', () => {
  const dirs: string[] = [];
  const fresh = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'fleetpoll-pending-'));
    dirs.push(dir);
    return dir;
  };
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const cycle: PendingCycle = { id: 'c1796426400000', startMs: 1796426400000, deadlineMs: 1796426640000 };

  it('none written: null', async () => assert.equal(await readPendingCycle(fresh()), null));

  it('written, read back as it was, then cleared (twice is fine)', async () => {
    const dir = fresh();
    await writePendingCycle(dir, cycle);
    assert.deepEqual(await readPendingCycle(dir), cycle);
    await clearPendingCycle(dir);
    assert.equal(existsSync(join(dir, PENDING_CYCLE_FILE)), false);
    assert.equal(await readPendingCycle(dir), null);
    await clearPendingCycle(dir);
  });

  it('a newer note replaces the older one', async () => {
    const dir = fresh();
    await writePendingCycle(dir, cycle);
    const next = { id: 'c1796426700000', startMs: 1796426700000, deadlineMs: 1796426940000 };
    await writePendingCycle(dir, next);
    assert.deepEqual(await readPendingCycle(dir), next);
  });

  for (const [what, text] of [
    ['a torn note (half a JSON object)', '{"id":"c1796426400000","startMs":17964'],
    ['an empty file', ''],
    ['an id that is not c<digits>', JSON.stringify({ ...cycle, id: 'cycle-1' })],
    ['a start that is text', JSON.stringify({ ...cycle, startMs: '1796426400000' })],
    ['no deadline', JSON.stringify({ id: cycle.id, startMs: cycle.startMs })],
    ['JSON that is not an object', '[1,2,3]'],
  ] as const) {
    it(`${what}: null (a fresh cycle starts and replaces it)`, async () => {
      const dir = fresh();
      writeFileSync(join(dir, PENDING_CYCLE_FILE), text);
      assert.equal(await readPendingCycle(dir), null);
    });
  }

  it('a note that cannot be read for another reason than absence is an error, not silence', async () => {
    const dir = fresh();
    // A directory where the file should be: EISDIR.
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(dir, PENDING_CYCLE_FILE));
    await assert.rejects(readPendingCycle(dir), /EISDIR|illegal operation on a directory/);
  });
});
