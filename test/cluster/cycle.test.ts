// One coordinator cycle's fan-out (src/cluster/cycle.ts) against a FAKE JetStream (a unit seam: the
// real one is exercised end to end in zones.test.ts). The fake stores what is published and plays
// the workers: for every host of a job it queues the result messages a test asks for, which the
// cycle's results reader then fetches. What is checked: a zone's hosts go out by slot (slots.ts), in
// batches of at most MAX_HOSTS_PER_JOB under one Nats-Msg-Id per (cycle, zone, slot, batch), the same
// batches when a resumed cycle publishes again; one result
// per (host, cycle), duplicates dropped and counted, results of another cycle or zone and malformed
// messages or results refused, hosts of a zone without workers given their explicit row, hosts
// without a result given a timeout row; with a spread, the slots' jobs go out in turn over it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { clusterFanOut, jobMessages, slotOffsetMs, type ClusterCycleCounts } from '../../src/cluster/cycle.js';
import { decodeJob, encode, encodeResults, isRefused, MAX_HOSTS_PER_JOB, type Job } from '../../src/cluster/messages.js';
import type { PendingCycle } from '../../src/cluster/pending-cycle.js';
import { JOB_SLOTS, slotOf } from '../../src/cluster/slots.js';
import type { PollOptions } from '../../src/fleet/poll.js';
import { silentLog } from '../../src/log.js';
import type { Host, PollResult } from '../../src/model.js';
import { host, okResult } from '../helpers/store-fixtures.js';

// A fake JetStream: jobs published are kept; `answer(host)` returns the raw result messages one host of a job brings.
function fakeJetStream(answer: (host: Host, job: Job) => Uint8Array[]): { js: JetStreamClient; jsm: JetStreamManager; published: string[] } {
  const stored: Uint8Array[] = [];
  const published: string[] = [];
  let consumers = 0;
  const js = {
    publish: async (subject: string, data: Uint8Array, options: { msgID: string }) => {
      const job = decodeJob(data);
      assert.ok(!isRefused(job), `a malformed job was published on ${subject}`);
      published.push(`${subject} ${options.msgID} ${job.hosts.map((h) => h.name).join(',')}`);
      for (const h of job.hosts) stored.push(...answer(h, job));
      return { seq: stored.length, duplicate: false, stream: 'FLEETPOLL_JOBS' };
    },
    consumers: {
      get: async () => ({
        // Everything stored from the consumer's position on, then an empty pull.
        fetch: async () => {
          const batch = stored.splice(0);
          await new Promise((r) => setTimeout(r, 5));
          return (async function* () {
            for (const [i, data] of batch.entries()) yield { seq: i + 1, data, info: { pending: batch.length - i - 1 } };
          })();
        },
      }),
    },
  } as unknown as JetStreamClient;
  const jsm = {
    consumers: {
      add: async () => ({ name: `reader-${(consumers += 1)}` }),
      delete: async () => true,
    },
  } as unknown as JetStreamManager;
  return { js, jsm, published };
}

const cycle: PendingCycle = { id: 'c1000', startMs: Date.now(), deadlineMs: Date.now() + 60_000 };
const hosts: Host[] = [host('a1', { zone: 'a' }), host('a2', { zone: 'a' }), host('b1', { zone: 'b' }), host('dmz1', { zone: 'dmz' })];
const result = (name: string, zone: string, cycleId = cycle.id, cpuBusyPct = 10): Uint8Array => {
  const h = hosts.find((x) => x.name === name) ?? host(name, { zone });
  return encodeResults(cycleId, zone, 'worker-1', [okResult(name, { cpuBusyPct }, h)], 1024 * 1024)[0]?.data as Uint8Array;
};

async function run(answer: Parameters<typeof fakeJetStream>[0], graceMs = 300, deadlineMs = cycle.deadlineMs, spreadMs = 0, startMs = cycle.startMs): Promise<{ results: PollResult[]; counts: ClusterCycleCounts; published: string[]; seen: string[]; publishedAtMs: number[] }> {
  const { js, jsm, published } = fakeJetStream(answer);
  const publishedAtMs: number[] = [];
  const counts: ClusterCycleCounts = { published: 0, received: 0, duplicates: 0, rejected: 0 };
  const fanOut = clusterFanOut(
    { js, jsm, publish: async (subject, data, msgID) => {
        publishedAtMs.push(Date.now());
        await js.publish(subject, data, { msgID });
      }, log: silentLog, zonesWithWorkers: async (zones) => new Set(zones.filter((z) => z !== 'dmz')), ensureZone: async () => {}, connected: () => true, graceMs, spreadMs },
    { ...cycle, startMs, deadlineMs },
    new AbortController().signal,
    counts,
  );
  const seen: string[] = [];
  const out = await fanOut(hosts, { onResult: (r: PollResult) => seen.push(r.host.name) } as unknown as PollOptions);
  return { results: out.results, counts, published, seen, publishedAtMs };
}

describe('cluster cycle fan-out (fake JetStream)', () => {
  it('jobs for the zones with workers, on the subject of each host\'s slot; a zone without any gets its explicit row at once', async () => {
    const { results, counts, published } = await run((h) => [result(h.name, h.zone ?? 'default')]);
    const job = (name: string, zone: string): string => `fleetpoll.jobs.${zone}.${slotOf(name)} c1000:${zone}.${slotOf(name)}:0 ${name}`;
    assert.notEqual(slotOf('a1'), slotOf('a2'), 'the two hosts of zone a are of two slots');
    assert.deepEqual(published.sort(), [job('a1', 'a'), job('a2', 'a'), job('b1', 'b')].sort());
    assert.deepEqual(results.map((r) => `${r.host.name}:${r.status}`), ['a1:ok', 'a2:ok', 'b1:ok', 'dmz1:unreachable']);
    const dmz = results[3];
    assert.ok(dmz !== undefined && dmz.status !== 'ok');
    assert.equal(dmz.error, 'no poller in zone dmz');
    assert.deepEqual(counts, { published: 3, received: 3, duplicates: 0, rejected: 0 });
  });

  it('with a spread, each slot\'s jobs go out at its share of it after the cycle\'s start, the slots in turn', async () => {
    const startMs = Date.now();
    const spreadMs = 600;
    const { results, published, publishedAtMs } = await run((h) => [result(h.name, h.zone ?? 'default')], 300, cycle.deadlineMs, spreadMs, startMs);
    assert.deepEqual(published.map((p) => p.split(' ')[2]), ['b1', 'a2', 'a1'], 'slots 48, 54, 55 in turn');
    for (const [i, name] of ['b1', 'a2', 'a1'].entries()) {
      const dueMs = startMs + slotOffsetMs(slotOf(name), spreadMs);
      assert.equal(slotOffsetMs(slotOf(name), spreadMs), Math.floor((slotOf(name) / JOB_SLOTS) * spreadMs));
      assert.ok((publishedAtMs[i] as number) >= dueMs - 5, `${name} published ${(publishedAtMs[i] as number) - dueMs} ms before its time`);
    }
    assert.deepEqual(results.map((r) => r.status), ['ok', 'ok', 'ok', 'unreachable']);
  });

  it('a second result for a host in the same cycle (a redelivered job) is dropped and counted: the first one stands', async () => {
    const { results, counts, seen } = await run((h) => (h.name === 'a1' ? [result('a1', 'a', cycle.id, 11), result('a1', 'a', cycle.id, 99)] : [result(h.name, h.zone ?? 'default')]));
    assert.equal(counts.duplicates, 1);
    assert.equal(counts.received, 3);
    const a1 = results.find((r) => r.host.name === 'a1');
    assert.ok(a1?.status === 'ok');
    assert.equal(a1.sample.cpuBusyPct, 11);
    assert.equal(seen.filter((n) => n === 'a1').length, 1, 'onResult once per host');
  });

  it('results of another cycle, of a host answered for by another zone, of an unknown host, and malformed ones are refused', async () => {
    const { results, counts } = await run((h) => {
      const own = result(h.name, h.zone ?? 'default');
      if (h.name !== 'a1') return [own];
      const text = new TextDecoder().decode(own);
      // A message of two results, the first malformed (a sample without memory figures): the second still counts.
      const mixed = text.replace('"results":[', `"results":[${JSON.stringify({ host: 'a1', result: { status: 'ok', sample: {}, startedAtMs: 1, durationMs: 1, attempts: 1 } })},`);
      return [result('a1', 'a', 'c999'), result('a1', 'b'), result('stranger', 'a'), new TextEncoder().encode('{"v":2,"cycleId":'), new TextEncoder().encode(mixed)];
    });
    assert.equal(counts.rejected, 5);
    assert.equal(counts.received, 3);
    assert.deepEqual(results.map((r) => r.status), ['ok', 'ok', 'ok', 'unreachable']);
  });

  it('a host whose result never comes gets a timeout row saying why, once the deadline and the wait have passed', async () => {
    const { results, counts } = await run((h) => (h.name === 'b1' ? [] : [result(h.name, h.zone ?? 'default')]), 50, Date.now() + 200);
    const b1 = results.find((r) => r.host.name === 'b1');
    assert.ok(b1 !== undefined && b1.status === 'timeout');
    assert.match(b1.error, /no result from zone b by the cycle deadline \(its workers did not answer in time\)/);
    assert.equal(counts.received, 2);
  });
});

describe('cluster cycle job messages', () => {
  // Two zones of many hosts each, interleaved: every slot of each zone holds more than one batch.
  const perZone = 3 * JOB_SLOTS * MAX_HOSTS_PER_JOB;
  const many = Array.from({ length: 2 * perZone }, (_, i) => host(`h${i}`, { zone: i % 2 === 0 ? 'a' : 'b' }));

  it(`a zone's hosts go out by slot, in batches of at most ${MAX_HOSTS_PER_JOB} in the order given, one Nats-Msg-Id per (cycle, zone, slot, batch)`, () => {
    const messages = jobMessages(cycle, many, () => false);
    const expected: [string, string, string[]][] = [];
    for (const zone of ['a', 'b']) {
      for (let slot = 0; slot < JOB_SLOTS; slot++) {
        const names = many.filter((h) => h.zone === zone && slotOf(h.name) === slot).map((h) => h.name);
        for (let k = 0; k * MAX_HOSTS_PER_JOB < names.length; k++) expected.push([`fleetpoll.jobs.${zone}.${slot}`, `c1000:${zone}.${slot}:${k}`, names.slice(k * MAX_HOSTS_PER_JOB, (k + 1) * MAX_HOSTS_PER_JOB)]);
      }
    }
    const key = (m: [string, string, string[]]): string => m[1];
    assert.deepEqual(messages.map((m): [string, string, string[]] => [m.subject, m.msgID, m.job.hosts.map((h) => h.name)]).sort((x, y) => key(x).localeCompare(key(y))), expected.sort((x, y) => key(x).localeCompare(key(y))));
    assert.equal(messages.reduce((n, m) => n + m.job.hosts.length, 0), many.length, 'every host once');
    assert.ok(messages.every((m) => m.job.hosts.length <= MAX_HOSTS_PER_JOB));
    for (const m of messages) {
      assert.deepEqual({ v: m.job.v, cycleId: m.job.cycleId, deadlineMs: m.job.deadlineMs }, { v: 2, cycleId: cycle.id, deadlineMs: cycle.deadlineMs });
      assert.deepEqual(decodeJob(encode(m.job)), m.job, 'each job decodes as it was written');
    }
  });

  it('a resumed cycle cuts the same batches: answered hosts are left out of their batch, an answered batch is not published', () => {
    const a = many.filter((h) => h.zone === 'a');
    const first = jobMessages(cycle, a, () => false);
    const full = first[0]!;
    const partly = first[1]!;
    const answered = new Set([...full.job.hosts, partly.job.hosts[0] as Host].map((h) => h.name));
    const again = jobMessages(cycle, a, (h) => answered.has(h.name));
    assert.equal(again.length, first.length - 1, 'the answered batch is not published');
    assert.ok(!again.some((m) => m.msgID === full.msgID));
    const resumed = again.find((m) => m.msgID === partly.msgID);
    assert.deepEqual(resumed?.job.hosts.map((h) => h.name), partly.job.hosts.slice(1).map((h) => h.name));
    for (const m of again.filter((x) => x.msgID !== partly.msgID)) {
      assert.deepEqual(m.job.hosts, first.find((x) => x.msgID === m.msgID)?.job.hosts, `${m.msgID}: the same hosts`);
    }
  });
});
