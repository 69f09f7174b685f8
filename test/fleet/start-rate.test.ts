// The pace of new connections (src/fleet/start-rate.ts) with a fake clock: evenly spaced start
// times at the set rate, no wait when the pace has room, and a refusal of a rate that is not positive.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StartRate } from '../../src/fleet/start-rate.js';

describe('start rate (fake clock)', () => {
  it('spaces a burst evenly at the rate: 5 starts at 500 a second wait 0, 2, 4, 6 and 8 ms', () => {
    const rate = new StartRate(500, () => 1000);
    assert.deepEqual([1, 2, 3, 4, 5].map(() => rate.reserve()), [0, 2, 4, 6, 8]);
  });

  it('does not save up unused time: after a quiet spell the next start waits nothing, the one after waits its spacing', () => {
    let now = 0;
    const rate = new StartRate(100, () => now);
    assert.equal(rate.reserve(), 0);
    now = 5000;
    assert.equal(rate.reserve(), 0);
    assert.equal(rate.reserve(), 10);
  });

  it('a rate that is not positive is refused with the value', () => {
    assert.throws(() => new StartRate(0), /a positive number of starts a second \(got 0\)/);
  });
});
