// The view of the workers from their heartbeats (src/cluster/workers.ts), on a fake clock (a unit
// seam): live while beats come and until one says it is stopping, gone after 3 missed beats,
// forgotten after 60; by zone.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Heartbeat } from '../../src/cluster/messages.js';
import { WorkerRegistry } from '../../src/cluster/workers.js';

const beat = (id: string, zone: string, stopping = false): Heartbeat => ({ v: 1, id, zone, version: '1.0.0', hostname: 'h', pid: 1, startedAtSec: 0, sentAtSec: 0, inFlight: 0, done: 0, stopping });

describe('worker registry', () => {
  it('live ids by zone; a stopping worker is not live; 3 missed beats make a worker gone, 60 forget it', () => {
    let now = 0;
    const registry = new WorkerRegistry(1000, () => now);
    registry.heard(beat('a1', 'a'));
    registry.heard(beat('a2', 'a'));
    registry.heard(beat('b1', 'b'));
    assert.deepEqual(registry.liveIds('a').sort(), ['a1', 'a2']);
    assert.equal(registry.hasLive('b'), true);
    assert.equal(registry.hasLive('c'), false);
    registry.heard(beat('a2', 'a', true));
    assert.deepEqual(registry.liveIds('a'), ['a1']);
    now = 3500;
    registry.heard(beat('b1', 'b'));
    assert.deepEqual(registry.liveIds('a'), [], 'a1 missed 3 beats');
    assert.deepEqual(registry.list().map((w) => `${w.id}:${w.live}`), ['a1:false', 'a2:false', 'b1:true']);
    now = 61_000;
    assert.deepEqual(registry.list().map((w) => w.id), ['b1'], 'a1 and a2 forgotten after 60 beats');
    now = 64_000;
    assert.deepEqual(registry.liveIds('b'), []);
  });
});
