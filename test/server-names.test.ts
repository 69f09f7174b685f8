import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareServerNames } from '../src/server-names.js';

describe('compareServerNames', () => {
  it('orders digit runs by value, ignores letter case and puts a prefix first', () => {
    const names = ['web10', 'web', 'WEB2', 'web2a', 'db-01', 'db-1', 'db-002', 'web01.example', 'app99999999999999999999', 'app100000000000000000000'];
    assert.deepEqual([...names].sort(compareServerNames), [
      'app99999999999999999999',
      'app100000000000000000000',
      'db-01',
      'db-1',
      'db-002',
      'web',
      'web01.example',
      'WEB2',
      'web2a',
      'web10',
    ]);
  });

  it('is a total order: antisymmetric, zero only for identical names, and consistent with sorting', () => {
    const alphabet = ['a', 'B', '0', '1', '9', '-', '.', '_', '00', '10'];
    let seed = 7;
    const random = (): number => ((seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648);
    const names = Array.from({ length: 300 }, () => Array.from({ length: 1 + Math.floor(random() * 5) }, () => alphabet[Math.floor(random() * alphabet.length)]).join(''));
    for (const a of names) {
      for (const b of names) {
        const ab = Math.sign(compareServerNames(a, b));
        assert.equal(ab + Math.sign(compareServerNames(b, a)), 0, `${a} vs ${b}`);
        assert.equal(ab === 0, a === b, `${a} vs ${b}`);
      }
    }
    const sorted = [...names].sort(compareServerNames);
    for (let k = 1; k < sorted.length; k += 1) assert.ok(compareServerNames(sorted[k - 1] as string, sorted[k] as string) <= 0);
    for (let k = 2; k < sorted.length; k += 1) assert.ok(compareServerNames(sorted[k - 2] as string, sorted[k] as string) <= 0, 'transitive');
  });
});

