// The coordinator keeps push hosts (their samples arrive at its own ingest route) and sends every
// other host to the workers. Unit seam: the two fan-outs are fakes that record what they were given.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { polledByCoordinator, splitFanOut } from '../../src/cluster/split-fan-out.js';
import type { PollOptions } from '../../src/fleet/poll.js';
import type { Host } from '../../src/model.js';
import type { FanOut } from '../../src/run-poll.js';
import { okResult } from '../helpers/store-fixtures.js';

// A fake fan-out answering ok for every host it gets, and remembering their names.
function fakeFanOut(seen: string[], notStarted: string[] = []): FanOut {
  return async (hosts) => {
    seen.push(...hosts.map((h) => h.name));
    return { results: hosts.filter((h) => !notStarted.includes(h.name)).map((h) => okResult(h.name, {}, h)), notStarted: new Set(notStarted) };
  };
}

const hosts: Host[] = [
  okResult('web1', {}, { transport: 'ssh' }).host,
  okResult('dmz-push', {}, { transport: 'push' }).host,
  okResult('win1', {}, { transport: 'winrm' }).host,
];

describe('splitFanOut (fake fan-outs)', () => {
  it('push hosts go to the local fan-out, the rest to the workers; results in inventory order', async () => {
    const local: string[] = [];
    const remote: string[] = [];
    const out = await splitFanOut(fakeFanOut(local), fakeFanOut(remote, ['win1']))(hosts, {} as PollOptions);
    assert.deepEqual(local, ['dmz-push']);
    assert.deepEqual(remote, ['web1', 'win1']);
    assert.deepEqual(out.results.map((r) => r.host.name), ['web1', 'dmz-push']);
    assert.deepEqual([...out.notStarted], ['win1']);
  });

  it('a side with no hosts is not called', async () => {
    const local: string[] = [];
    let remoteCalled = false;
    const remote: FanOut = async () => {
      remoteCalled = true;
      return { results: [], notStarted: new Set() };
    };
    await splitFanOut(fakeFanOut(local), remote)([hosts[1] as Host], {} as PollOptions);
    assert.equal(remoteCalled, false);
    assert.deepEqual(local, ['dmz-push']);
  });

  it('only push hosts stay with the coordinator', () => {
    assert.deepEqual(hosts.map(polledByCoordinator), [false, true, false]);
  });
});
