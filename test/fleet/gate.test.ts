// The Gate (src/fleet/gate.ts): a counting semaphore with a FIFO queue, a front lane and give-up.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Gate } from '../../src/fleet/gate.js';

describe('Gate', () => {
  it('holds at most its limit; waiters get slots in order, the front lane first', async () => {
    const gate = new Gate(2);
    assert.equal(await gate.acquire(), true);
    assert.equal(await gate.acquire(), true);
    const order: string[] = [];
    const a = gate.acquire().then(() => order.push('a'));
    const b = gate.acquire().then(() => order.push('b'));
    const first = gate.acquire(undefined, true).then(() => order.push('first'));
    assert.equal(gate.waiting, 3);
    gate.release();
    gate.release();
    await Promise.all([first, a]);
    assert.deepEqual(order, ['first', 'a']);
    gate.release();
    await b;
    assert.deepEqual(order, ['first', 'a', 'b']);
    assert.equal(gate.peak, 2);
    assert.equal(gate.active, 2);
  });

  it('a waiter whose signal aborts gives up and is skipped', async () => {
    const gate = new Gate(1);
    assert.equal(gate.tryAcquire(), true);
    const controller = new AbortController();
    const quitter = gate.acquire(controller.signal);
    const next = gate.acquire();
    controller.abort();
    assert.equal(await quitter, false);
    gate.release();
    assert.equal(await next, true);
    assert.equal(gate.active, 1);
    assert.equal(gate.waiting, 0);
  });

  it('a release with nobody waiting does not lose the waiters who queue later (a long-lived gate, as a zone worker keeps)', async () => {
    const gate = new Gate(1);
    // Busy, then idle: releases with an empty queue, as at the end of every cycle.
    for (let i = 0; i < 3; i += 1) {
      assert.equal(gate.tryAcquire(), true);
      gate.release();
    }
    const waiter = (async () => {
      assert.equal(gate.tryAcquire(), true);
      const queued = [gate.acquire(), gate.acquire()];
      assert.equal(gate.waiting, 2);
      gate.release();
      assert.equal(await queued[0], true);
      gate.release();
      assert.equal(await queued[1], true);
      gate.release();
    })();
    const timedOut = new Promise<'lost'>((r) => setTimeout(() => r('lost'), 2000).unref());
    assert.notEqual(await Promise.race([waiter.then(() => 'served' as const), timedOut]), 'lost');
    assert.equal(gate.active, 0);
    assert.equal(gate.waiting, 0);
    assert.equal(gate.tryAcquire(), true, 'an idle gate grants at once');
  });

  it('refuses a limit below 1 and a release without an acquire', () => {
    assert.throws(() => new Gate(0), /a gate needs a limit of at least 1 \(got 0\)/);
    assert.throws(() => new Gate(1).release(), /gate released more often than acquired/);
  });
});
