// The JetStream streams and consumers fleetpoll uses, created when missing (by the coordinator and by
// each worker, so the start order does not matter) and left as they are when present (an admin may
// have created them with replicas or placement of their own; docs/zones.md lists what is expected).
import { AckPolicy, DiscardPolicy, RetentionPolicy, StorageType, type JetStreamManager } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { JOBS_STREAM, jobSubject, RESULTS_STREAM, slotConsumer } from './names.js';
import { JOB_SLOTS } from './slots.js';
import type { NatsSettings } from './settings.js';

// Redelivery of one job stops after this many attempts (workers crashing on it); the coordinator's row says so.
export const MAX_DELIVER = 5;
// A job or result published twice with one Nats-Msg-Id within this is stored once.
const DUPLICATE_WINDOW_MS = 10 * 60 * 1000;

/** Creates the jobs and results streams when missing. */
export async function ensureStreams(jsm: JetStreamManager, settings: NatsSettings): Promise<void> {
  const common = {
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_age: nanos(settings.retentionMs),
    duplicate_window: nanos(Math.min(DUPLICATE_WINDOW_MS, settings.retentionMs)),
    num_replicas: 1,
  };
  await ensureStream(jsm, { name: JOBS_STREAM, subjects: ['fleetpoll.jobs.>'], retention: RetentionPolicy.Workqueue, ...common });
  await ensureStream(jsm, { name: RESULTS_STREAM, subjects: ['fleetpoll.results.>'], retention: RetentionPolicy.Limits, ...common });
}

/** Creates the durable pull consumers of the slots of `zone` that are missing (one listing, then an add for each). */
export async function ensureZoneConsumers(jsm: JetStreamManager, zone: string, settings: NatsSettings): Promise<void> {
  const present = new Set<string>();
  for await (const info of jsm.consumers.list(JOBS_STREAM)) present.add(info.name);
  for (let slot = 0; slot < JOB_SLOTS; slot++) {
    const name = slotConsumer(zone, slot);
    if (present.has(name)) continue;
    try {
      await jsm.consumers.add(JOBS_STREAM, {
        durable_name: name,
        filter_subject: jobSubject(zone, slot),
        ack_policy: AckPolicy.Explicit,
        ack_wait: nanos(settings.ackWaitMs),
        max_deliver: MAX_DELIVER,
        // Thousands of hosts may be in flight in one slot of a large zone.
        max_ack_pending: -1,
      });
    } catch (error) {
      // Another worker or the coordinator created it in the meantime (same settings): fine.
      if (!/already (exists|in use)/i.test((error as Error).message)) throw error;
    }
  }
}

async function ensureStream(jsm: JetStreamManager, config: Parameters<JetStreamManager['streams']['add']>[0]): Promise<void> {
  try {
    await jsm.streams.info(config.name);
    return;
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  await jsm.streams.add(config);
}

function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; message?: string; code?: number | string; api_error?: { err_code?: number } };
  return /not found/i.test(e.message ?? '') || e.name === 'StreamNotFoundError' || e.name === 'ConsumerNotFoundError';
}
