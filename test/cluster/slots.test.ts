// Host affinity among a zone's workers (src/cluster/slots.ts): a host's slot is stable and the slots
// spread evenly; the live workers of a zone share the slots out evenly, each slot to one of them,
// and every worker with the same view works out the same shares.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JOB_SLOTS, slotOf, slotsOwnedBy } from '../../src/cluster/slots.js';

describe('job slots', () => {
  it('a host keeps its slot: the same name gives the same slot, in every version (FNV-1a, pinned here)', () => {
    assert.deepEqual(['a1', 'a2', 'b1', 'web-01.example.org', ''].map(slotOf), [55, 54, 48, 7, 1]);
    assert.equal(slotOf('db042'), slotOf('db042'));
  });

  it('10,000 hosts spread over the slots within 20 % of the mean', () => {
    const counts = new Array<number>(JOB_SLOTS).fill(0);
    for (let i = 0; i < 10_000; i++) counts[slotOf(`srv${String(i).padStart(5, '0')}.dc1.example.net`)]! += 1;
    const mean = 10_000 / JOB_SLOTS;
    for (const [slot, n] of counts.entries()) assert.ok(Math.abs(n - mean) < 0.2 * mean, `slot ${slot}: ${n} hosts, mean ${mean.toFixed(0)}`);
  });

  it('the live workers of a zone own every slot exactly once, none more than its share rounded up, and agree on who owns which', () => {
    for (const ids of [['w1'], ['w1', 'w2'], ['x:9:aa', 'a:1:ff', 'm:5:00'], ['1', '2', '3', '4', '5', '6', '7']]) {
      const shares = ids.map((id) => slotsOwnedBy(id, ids));
      const all = shares.flatMap((s) => [...s]).sort((x, y) => x - y);
      assert.deepEqual(all, Array.from({ length: JOB_SLOTS }, (_, i) => i), `${ids.join(',')}: each slot once`);
      // None has more than its share rounded up: for 2 to 6 workers, exactly 60 / n each.
      const sizes = shares.map((s) => s.size);
      assert.ok(Math.max(...sizes) <= Math.ceil(JOB_SLOTS / ids.length), `${ids.join(',')}: shares ${sizes.join(',')}`);
      // The same view in another order gives the same shares.
      assert.deepEqual(ids.map((id) => [...slotsOwnedBy(id, [...ids].reverse())]), shares.map((s) => [...s]));
    }
  });

  it('a worker not yet in its own view counts itself: alone, it owns every slot', () => {
    assert.equal(slotsOwnedBy('new', []).size, JOB_SLOTS);
    assert.equal(slotsOwnedBy('new', ['old']).size, JOB_SLOTS / 2);
    assert.deepEqual(slotsOwnedBy('new', ['old', 'new']), slotsOwnedBy('new', ['old']));
  });

  it('a worker joining or leaving moves about its own share of the slots, not most of them', () => {
    const owners = (ids: string[]): string[] => {
      const out = new Array<string>(JOB_SLOTS).fill('');
      for (const id of ids) for (const slot of slotsOwnedBy(id, ids)) out[slot] = id;
      return out;
    };
    const moved = (a: string[], b: string[]): number => a.filter((id, slot) => b[slot] !== id).length;
    let joinMoves = 0;
    let leaveMoves = 0;
    let leaveIdeal = 0;
    const rounds = 50;
    for (let round = 0; round < rounds; round++) {
      const n = 2 + (round % 5);
      const ids = Array.from({ length: n }, (_, i) => `poller${round}-${i}:${1000 + i}:${(round * 7919 + i).toString(16)}`);
      const before = owners(ids);
      const joined = owners([...ids, `poller${round}-new:99:abc`]);
      joinMoves += moved(before, joined);
      const gone = ids[round % n] as string;
      const left = owners(ids.filter((id) => id !== gone));
      leaveMoves += moved(before, left);
      leaveIdeal += before.filter((id) => id === gone).length;
    }
    // Ideal: a joiner takes 60/(n+1) slots (12 to 20 here, 15 on average); a leaver's slots only.
    assert.ok(joinMoves / rounds < 20, `a join moved ${(joinMoves / rounds).toFixed(1)} slots on average`);
    assert.ok(leaveMoves < 1.3 * leaveIdeal, `a leave moved ${leaveMoves} slots for ${leaveIdeal} of the leavers'`);
  });
});
