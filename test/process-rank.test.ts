import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Proc } from '../src/model.js';
import { byCpu, byMemory, topProcesses, type ProcOrder } from '../src/process-rank.js';

// The obvious way: sort everything, keep each pid's first record, take the head.
function reference(procs: readonly Proc[], order: ProcOrder, count: number): Proc[] {
  const seen = new Set<number>();
  return [...procs].sort(order).filter((p) => (seen.has(p.pid) ? false : (seen.add(p.pid), true))).slice(0, Math.max(0, count));
}

describe('topProcesses', () => {
  it('picks what a full sort would, for both orders, on random lists with ties and repeated pids', () => {
    let seed = 11;
    const random = (n: number): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return Math.floor((seed / 2_147_483_648) * n);
    };
    for (let trial = 0; trial < 2000; trial += 1) {
      // Few distinct values, so ties on the first and second measure are common.
      const procs: Proc[] = Array.from({ length: random(25) }, () => ({ pid: 1 + random(15), user: 'u', name: 'p', cpuPct: random(4) * 12.5, rssKb: random(4) * 1024 }));
      for (const order of [byCpu, byMemory]) {
        for (const count of [0, 1, 3, 5, 30]) assert.deepEqual(topProcesses(procs, order, count), reference(procs, order, count), `trial ${trial}, count ${count}`);
      }
    }
  });

  it('ranks CPU first by CPU, then memory, then pid; memory the other way round', () => {
    const a = { pid: 3, user: 'u', name: 'a', cpuPct: 50, rssKb: 10 };
    const b = { pid: 2, user: 'u', name: 'b', cpuPct: 50, rssKb: 20 };
    const c = { pid: 1, user: 'u', name: 'c', cpuPct: 10, rssKb: 20 };
    assert.deepEqual(topProcesses([a, b, c], byCpu, 3).map((p) => p.name), ['b', 'a', 'c']);
    assert.deepEqual(topProcesses([a, b, c], byMemory, 3).map((p) => p.name), ['b', 'c', 'a']);
  });
});
