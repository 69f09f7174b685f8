// FleetCycles, the service's side of the Prometheus routes: the last cycle kept as it came, each
// host's last success carried across failed cycles and dropped with the host, listeners told.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MetricsCycle } from '../../src/http/metrics/source.js';
import type { PollResult } from '../../src/model.js';
import type { CycleOutcome } from '../../src/run-poll.js';
import { FleetCycles } from '../../src/serve/metrics-source.js';
import { failedResult, okResult } from '../helpers/store-fixtures.js';

function outcome(results: PollResult[], alertsEnabled: boolean, notStarted: string[] = []): CycleOutcome {
  return {
    kind: 'polled',
    cycleStart: new Date('2024-03-05T10:00:00Z'),
    durationMs: 4321,
    results,
    inventoryIssues: [],
    written: [],
    warnings: [],
    alerts: { enabled: alertsEnabled, firing: 1, notified: 0, mailsSent: 0, queued: 5, warnings: [] },
    notStarted: new Set(notStarted),
  };
}

describe('FleetCycles', () => {
  it('keeps the last cycle, carries a host\'s last success over a failed cycle, drops hosts gone from the inventory', () => {
    const cycles = new FleetCycles();
    const told: MetricsCycle[] = [];
    const stop = cycles.onCycle((c) => told.push(c));
    assert.equal(cycles.lastCycle(), null);

    cycles.finished(outcome([okResult('a'), okResult('b')], true), 2);
    const first = cycles.lastCycle()!;
    assert.equal(first.startedAtSec, Date.parse('2024-03-05T10:00:00Z') / 1000);
    assert.equal(first.durationMs, 4321);
    assert.equal(first.reconnects, 2);
    assert.equal(first.alertMailsQueued, 5);
    assert.equal(first.alertsFiring, 1);
    // End of the poll: 10:00:00.250 + 1234.4 ms.
    assert.equal(first.lastOkAtSec.get('a'), Date.parse('2024-03-05T10:00:01.484Z') / 1000);

    // a fails, b leaves the inventory, c is not started (a stop): a keeps its last success, b loses it.
    cycles.finished(outcome([failedResult('a')], false, ['c']), null);
    const second = cycles.lastCycle()!;
    assert.deepEqual([...second.lastOkAtSec.keys()], ['a']);
    assert.equal(second.alertMailsQueued, null, 'alerts off: no figure rather than a zero');
    assert.equal(second.reconnects, null);
    // The first cycle's map is its own: a later cycle does not rewrite what was already handed out.
    assert.deepEqual([...first.lastOkAtSec.keys()], ['a', 'b']);

    assert.equal(told.length, 2);
    stop();
    cycles.finished(outcome([], false), null);
    assert.equal(told.length, 2);
  });
});
