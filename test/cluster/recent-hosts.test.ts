// Which warm connections a worker keeps (src/cluster/recent-hosts.ts): the hosts of its slots polled
// in the latest two cycles it has seen; a host gone to another worker or out of the inventory is let go.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RecentHosts } from '../../src/cluster/recent-hosts.js';
import { JOB_SLOTS, slotOf } from '../../src/cluster/slots.js';

const every = new Set(Array.from({ length: JOB_SLOTS }, (_, i) => i));

describe('recent hosts of a worker', () => {
  it('a cycle not seen before is told apart from one seen already (a second job of it, a redelivery)', () => {
    const recent = new RecentHosts();
    assert.equal(recent.polled('c1', ['h1']), true);
    assert.equal(recent.polled('c1', ['h2']), false);
    assert.equal(recent.polled('c2', ['h1']), true);
  });

  it('hosts polled in the latest two cycles are kept; one not polled since is let go, once', () => {
    const recent = new RecentHosts();
    recent.polled('c1', ['h1', 'h2', 'gone']);
    recent.polled('c2', ['h1', 'h2']);
    assert.deepEqual(recent.keep(every).sort(), ['gone', 'h1', 'h2'], 'polled in c1, still within two cycles');
    recent.polled('c3', ['h1']);
    assert.deepEqual(recent.keep(every).sort(), ['h1', 'h2']);
    recent.polled('c4', ['h1']);
    assert.deepEqual(recent.keep(every), ['h1']);
  });

  it('a host of a slot no longer owned is let go at once', () => {
    const recent = new RecentHosts();
    recent.polled('c1', ['h1', 'h2']);
    const owned = new Set([slotOf('h1')]);
    assert.notEqual(slotOf('h1'), slotOf('h2'));
    assert.deepEqual(recent.keep(owned), ['h1']);
    assert.deepEqual(recent.keep(every), ['h1'], 'h2 stays forgotten until polled again');
  });
});
