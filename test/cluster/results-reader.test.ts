// The coordinator's results reader (src/cluster/results-reader.ts) against a FAKE JetStream (a unit
// seam: zones.test.ts reads from a real one). The fake stream holds numbered messages; a pull can be
// told to end with an error part-way. What is checked: every message reaches the cycle once and in
// order; a pull that ends on late heartbeats (a busy second) is picked up again from the last message
// read, by a new consumer, without an error in the log; a run of them, or another error, is logged once.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { readCycleResults } from '../../src/cluster/results-reader.js';
import type { Log } from '../../src/log.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

// A stream of `total` messages; `failures[i]` makes the i-th pull yield `after` messages and then throw.
function fakeStream(total: number, failures: ReadonlyArray<{ readonly after: number; readonly error: string } | null>): { js: JetStreamClient; jsm: JetStreamManager; starts: number[]; deleted: string[] } {
  const starts: number[] = [];
  const deleted: string[] = [];
  const positions = new Map<string, number>();
  let pulls = 0;
  const js = {
    consumers: {
      get: async (_stream: string, name: string) => ({
        fetch: async ({ max_messages: max }: { max_messages: number }) => {
          const failure = failures[pulls] ?? null;
          pulls += 1;
          await new Promise((r) => setTimeout(r, 2));
          return (async function* () {
            let served = 0;
            while (served < max) {
              if (failure !== null && served === failure.after) throw new Error(failure.error);
              const seq = (positions.get(name) as number) + 1;
              if (seq > total) return;
              positions.set(name, seq);
              served += 1;
              yield { seq, data: encoder.encode(`m${seq}`), info: { pending: total - seq } };
            }
          })();
        },
      }),
    },
  } as unknown as JetStreamClient;
  const jsm = {
    consumers: {
      add: async (_stream: string, config: { opt_start_seq: number }) => {
        const name = `reader-${starts.length + 1}`;
        starts.push(config.opt_start_seq);
        positions.set(name, config.opt_start_seq - 1);
        return { name };
      },
      delete: async (_stream: string, name: string) => {
        deleted.push(name);
        return true;
      },
    },
  } as unknown as JetStreamManager;
  return { js, jsm, starts, deleted };
}

function recordingLog(errors: string[]): Log {
  const log: Log = { error: (m) => errors.push(m), warn: () => {}, info: () => {}, debug: () => {}, child: () => log };
  return log;
}

async function readAll(total: number, failures: Parameters<typeof fakeStream>[1]): Promise<{ seen: string[]; errors: string[]; starts: number[]; deleted: string[] }> {
  const { js, jsm, starts, deleted } = fakeStream(total, failures);
  const seen: string[] = [];
  const errors: string[] = [];
  const reader = readCycleResults(js, jsm, 'c1', (data) => seen.push(decoder.decode(data)), recordingLog(errors));
  const deadline = Date.now() + 20_000;
  while (seen.length < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  await reader.stop();
  return { seen, errors, starts, deleted };
}

const expected = (n: number): string[] => Array.from({ length: n }, (_, i) => `m${i + 1}`);

describe('results reader (fake JetStream)', () => {
  it('a pull ending on missed heartbeats goes on from the last message read, with a new consumer and no error logged', async () => {
    const { seen, errors, starts, deleted } = await readAll(10, [{ after: 3, error: 'heartbeats missed' }, { after: 2, error: 'heartbeats missed' }]);
    assert.deepEqual(seen, expected(10));
    assert.deepEqual(errors, []);
    assert.deepEqual(starts.slice(0, 3), [1, 4, 6]);
    assert.ok(deleted.includes('reader-1') && deleted.includes('reader-2'), `the abandoned consumers are deleted: ${deleted.join(', ')}`);
  });

  it('pulls failing on heartbeats again and again, or with another error, are logged once and retried', { timeout: 30_000 }, async () => {
    const late = { after: 0, error: 'heartbeats missed' };
    const { seen, errors } = await readAll(5, [late, late, late, late, late]);
    assert.deepEqual(seen, expected(5));
    assert.equal(errors.length, 1);
    assert.match(errors[0] as string, /cannot read the results of cycle c1: heartbeats missed; retrying/);

    const other = await readAll(4, [{ after: 1, error: 'consumer not found' }]);
    assert.deepEqual(other.seen, expected(4));
    assert.equal(other.errors.length, 1);
    assert.match(other.errors[0] as string, /consumer not found/);
  });
});
