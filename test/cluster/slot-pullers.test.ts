// The room for hosts in a worker (src/cluster/slot-pullers.ts HostRoom): a job is taken while a whole
// batch fits, or whatever its size when nothing is in hand; a host finished wakes the waiting pulls.
// The pull loops themselves run against a real nats-server in zones.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_HOSTS_PER_JOB } from '../../src/cluster/messages.js';
import { HostRoom } from '../../src/cluster/slot-pullers.js';

const settled = async (p: Promise<void>): Promise<boolean> => Promise.race([p.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 20))]);

describe('host room of a worker', () => {
  it('nothing in hand: a job may be taken whatever the capacity', async () => {
    assert.equal(await settled(new HostRoom(1).untilRoom(new AbortController().signal)), true);
  });

  it('a full room waits until a host is finished and a batch fits again; every waiting pull wakes', async () => {
    const room = new HostRoom(2 * MAX_HOSTS_PER_JOB);
    room.taken(MAX_HOSTS_PER_JOB + 1);
    const first = room.untilRoom(new AbortController().signal);
    const second = room.untilRoom(new AbortController().signal);
    assert.equal(await settled(first), false);
    room.finished();
    assert.equal(await settled(first), true);
    assert.equal(await settled(second), true);
    assert.deepEqual({ inFlight: room.inFlight, done: room.done }, { inFlight: MAX_HOSTS_PER_JOB, done: 1 });
  });

  it('a stop ends the wait', async () => {
    const room = new HostRoom(MAX_HOSTS_PER_JOB);
    room.taken(MAX_HOSTS_PER_JOB);
    const stop = new AbortController();
    const waiting = room.untilRoom(stop.signal);
    assert.equal(await settled(waiting), false);
    stop.abort();
    assert.equal(await settled(waiting), true);
  });
});
