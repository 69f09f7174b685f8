// The pace of new connections (src/fleet/start-rate.ts) with a fake clock: evenly spaced start
// times at the set rate, no wait when the pace has room, times booked ahead (reserveAt/untilMs),
// and a refusal of a rate that is not positive.
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

  it('reserveAt gives the booked start time itself, and untilMs the wait for it, never below 0', () => {
    let now = 1000;
    const rate = new StartRate(500, () => now);
    assert.deepEqual([rate.reserveAt(), rate.reserveAt(), rate.reserveAt()], [1000, 1002, 1004]);
    assert.equal(rate.untilMs(1004), 4);
    now = 1010;
    assert.equal(rate.untilMs(1004), 0);
    // reserve() books the next time after those reserveAt() took.
    now = 1005;
    assert.equal(rate.reserve(), 1);
  });

  it('a rate that is not positive is refused with the value', () => {
    assert.throws(() => new StartRate(0), /a positive number of starts a second \(got 0\)/);
  });
});
