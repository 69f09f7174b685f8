// data/alert-state.json: round trip, atomic replacement, missing and corrupt files.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { emptyState, loadState, saveState, StateCache } from '../../src/alerts/state.js';
import type { AlertState } from '../../src/alerts/types.js';
import { AlertSim, result } from '../helpers/alerts.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fleetpoll-alertstate-'));
  dirs.push(dir);
  return dir;
}
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function realisticState(): AlertState {
  const sim = new AlertSim();
  sim.poll([result('web01', { cpu: 99, memPct: 95 }), result('db01', { down: { status: 'timeout', phase: 'connect', error: 'no answer' } })]);
  const fired = sim.poll([result('web01', { cpu: 99, memPct: 95 }), result('db01', { down: { status: 'timeout', phase: 'connect', error: 'no answer' } })]);
  return {
    version: 1,
    alerts: sim.alerts,
    queue: fired.map((n) => ({ notification: n, recipients: ['ops@example.com'], queuedAt: n.at, attempts: 1, lastError: 'connect ECONNREFUSED' })),
  };
}

describe('alert state file', () => {
  it('reads back exactly what was saved, and leaves no temporary file', async () => {
    const dir = tempDir();
    const file = join(dir, 'alert-state.json');
    const state = realisticState();
    assert.ok(state.alerts.length >= 3 && state.queue.length >= 3);
    await saveState(file, state);
    const loaded = await loadState(file);
    assert.deepEqual(loaded, { kind: 'ok', state });
    assert.deepEqual(readdirSync(dir), ['alert-state.json']);
  });

  it('replaces the previous state as a whole', async () => {
    const dir = tempDir();
    const file = join(dir, 'alert-state.json');
    await saveState(file, realisticState());
    await saveState(file, emptyState());
    assert.deepEqual(await loadState(file), { kind: 'ok', state: emptyState() });
  });

  it('says missing when there is no file', async () => {
    assert.deepEqual(await loadState(join(tempDir(), 'alert-state.json')), { kind: 'missing' });
  });

  for (const [name, content, reason] of [
    ['truncated JSON', '{"version":1,"alerts":[{"host":', /not valid JSON/],
    ['another version', '{"version":7,"alerts":[],"queue":[]}', /unknown version 7/],
    ['a bad entry', '{"version":1,"alerts":[{"host":"h","rule":"cpu"}],"queue":[]}', /alerts\[0\] is not a valid alert/],
    ['an empty file', '', /not valid JSON/],
  ] as const) {
    it(`moves a corrupt file (${name}) aside and reports why`, async () => {
      const dir = tempDir();
      const file = join(dir, 'alert-state.json');
      writeFileSync(file, content);
      const loaded = await loadState(file, { now: new Date('2026-11-22T10:00:00Z') });
      assert.equal(loaded.kind, 'corrupt');
      if (loaded.kind !== 'corrupt') return;
      assert.match(loaded.reason, reason);
      assert.match(loaded.movedTo ?? '', /alert-state\.corrupt-20261122-100000-[0-9a-f]{4}\.json$/);
      assert.equal(readFileSync(loaded.movedTo ?? '', 'utf8'), content, 'kept for a post-mortem');
      assert.deepEqual(await loadState(file), { kind: 'missing' });
    });
  }

  it('leaves a corrupt file in place when reading only (alerts status)', async () => {
    const dir = tempDir();
    const file = join(dir, 'alert-state.json');
    writeFileSync(file, 'garbage');
    const loaded = await loadState(file, { readOnly: true });
    assert.equal(loaded.kind, 'corrupt');
    assert.equal(readFileSync(file, 'utf8'), 'garbage');
  });
});

describe('alert state kept in memory (StateCache, serve)', () => {
  it('gives back the state it saved without reading the file again while the file is the one it wrote', async () => {
    const dir = tempDir();
    const file = join(dir, 'alert-state.json');
    const cache = new StateCache();
    assert.deepEqual(await cache.load(file), { kind: 'missing' });
    const state = realisticState();
    await cache.save(file, state);
    const again = await cache.load(file);
    assert.ok(again.kind === 'ok');
    assert.equal(again.state, state, 'the very object saved: no read, no parse');
    assert.deepEqual(await loadState(file), { kind: 'ok', state }, 'and the file holds it');
  });

  it('reads the file again once someone else replaced it, and says missing once it is gone', async () => {
    const dir = tempDir();
    const file = join(dir, 'alert-state.json');
    const cache = new StateCache();
    const mine = realisticState();
    await cache.save(file, mine);
    // Another writer (an admin's fleetpoll, a restore) replaces the file: same size or not, it is another file.
    await saveState(file, emptyState());
    const loaded = await cache.load(file);
    assert.deepEqual(loaded, { kind: 'ok', state: emptyState() });
    const kept = await cache.load(file);
    assert.ok(kept.kind === 'ok' && loaded.kind === 'ok');
    assert.equal(kept.state, loaded.state, 'what it read is kept in turn');
    rmSync(file);
    assert.deepEqual(await cache.load(file), { kind: 'missing' });
  });

  it('a file rewritten in place (same inode) with other content is read again', async () => {
    const dir = tempDir();
    const file = join(dir, 'alert-state.json');
    const cache = new StateCache();
    await cache.save(file, realisticState());
    const text = readFileSync(file, 'utf8');
    // Same length, other content, a later modification time: an editor saving in place.
    await new Promise((r) => setTimeout(r, 20));
    writeFileSync(file, `${JSON.stringify(emptyState())}\n`.padEnd(text.length, ' '));
    assert.deepEqual(await cache.load(file), { kind: 'ok', state: emptyState() });
  });

  it('a corrupt file is not kept: it is moved aside as by loadState', async () => {
    const dir = tempDir();
    const file = join(dir, 'alert-state.json');
    const cache = new StateCache();
    await cache.save(file, realisticState());
    writeFileSync(file, 'garbage');
    const loaded = await cache.load(file);
    assert.equal(loaded.kind, 'corrupt');
    assert.deepEqual(await cache.load(file), { kind: 'missing' });
  });
});
