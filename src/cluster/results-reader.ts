// Reads one cycle's results from the results stream, from its first message on (a resumed cycle gets
// what arrived before the coordinator restarted), through an ephemeral pull consumer without acks. NATS
// going away is logged once per outage and retried; the reader goes on from the last message it saw.
import { setTimeout as sleep } from 'node:timers/promises';
import { AckPolicy, DeliverPolicy, type JetStreamClient, type Consumer, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import type { Log } from '../log.js';
import { cycleResults, RESULTS_STREAM } from './names.js';

// Messages asked for per pull (each carries up to a job's results: 50 hosts, ~75 kB; so a pull holds
// at most a 10,000-host cycle's results, ~15 MB), and how long a pull waits for them.
const BATCH = 200;
const PULL_EXPIRES_MS = 1000;
const RETRY_MS = 2000;
// Pulls in a row that may end on late heartbeats before the reader calls it an outage.
const LATE_PULLS_TOLERATED = 3;
// The server removes the reader's consumer this long after the reader stops asking (a killed coordinator).
const INACTIVE_MS = 60_000;

// A running reader: stop() ends it; caughtUp resolves once everything stored when it started was read.
export interface ResultsReader {
  readonly caughtUp: Promise<void>;
  stop(): Promise<void>;
}

/** Starts reading the results of `cycleId`; each message's bytes go to `onMessage`. */
export function readCycleResults(js: JetStreamClient, jsm: JetStreamManager, cycleId: string, onMessage: (data: Uint8Array) => void, log: Log): ResultsReader {
  const stopped = new AbortController();
  let markCaughtUp: () => void = () => {};
  const caughtUp = new Promise<void>((resolve) => (markCaughtUp = resolve));
  const done = (async () => {
    let lastSeq = 0;
    let failing = false;
    let consumerName: string | null = null;
    let consumer: Consumer | null = null;
    let latePulls = 0;
    while (!stopped.signal.aborted) {
      try {
        if (consumerName === null) {
          const info = await jsm.consumers.add(RESULTS_STREAM, {
            filter_subject: cycleResults(cycleId),
            ack_policy: AckPolicy.None,
            deliver_policy: DeliverPolicy.StartSequence,
            opt_start_seq: lastSeq + 1,
            inactive_threshold: nanos(INACTIVE_MS),
            mem_storage: true,
          });
          consumerName = info.name;
          consumer = null;
        }
        consumer ??= await js.consumers.get(RESULTS_STREAM, consumerName);
        const batch = await consumer.fetch({ max_messages: BATCH, expires: PULL_EXPIRES_MS });
        let pending = -1;
        // The position is read from the last message only (each message's reply subject is parsed for it).
        let last: JsMsg | null = null;
        try {
          for await (const m of batch) {
            last = m;
            onMessage(m.data);
          }
        } finally {
          if (last !== null) {
            lastSeq = last.seq;
            pending = last.info.pending;
          }
        }
        if (failing) log.warn(`reading the results of cycle ${cycleId} again`);
        failing = false;
        latePulls = 0;
        // An empty pull, or the last message with nothing behind it: all that was stored has been read.
        if (pending <= 0) markCaughtUp();
      } catch (error) {
        // The consumer may be gone (NATS restarted), or have sent what the client dropped with the pull:
        // a new one goes on after the last message read.
        const previous = consumerName;
        consumerName = null;
        consumer = null;
        if (previous !== null) void jsm.consumers.delete(RESULTS_STREAM, previous).catch(() => false);
        // A pull whose idle heartbeats came late (this process or the server busy for a second) is not an outage.
        if (/heartbeats missed/i.test((error as Error).message) && latePulls < LATE_PULLS_TOLERATED) {
          latePulls += 1;
          continue;
        }
        if (!failing) log.error(`NATS: cannot read the results of cycle ${cycleId}: ${(error as Error).message}; retrying every ${RETRY_MS / 1000} s (results received so far are kept)`);
        failing = true;
        try {
          await sleep(RETRY_MS, undefined, { signal: stopped.signal });
        } catch {
          break;
        }
      }
    }
    if (consumerName !== null) await jsm.consumers.delete(RESULTS_STREAM, consumerName).catch(() => false);
  })();
  return {
    caughtUp,
    stop: async () => {
      stopped.abort();
      markCaughtUp();
      await done;
    },
  };
}
