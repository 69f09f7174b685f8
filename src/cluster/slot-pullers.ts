// How a worker takes its zone's jobs: one pull loop per slot it owns (slots.ts), each taking one job
// at a time from that slot's consumer while the worker has room for a batch's hosts. The slots owned
// change with the zone's workers; the loop of a slot no longer owned ends after its pull in progress
// (a job it brings is still polled: the work queue gave it to this worker).
import { setTimeout as sleep } from 'node:timers/promises';
import type { Consumer, JetStreamClient, JsMsg } from '@nats-io/jetstream';
import type { Log } from '../log.js';
import { MAX_HOSTS_PER_JOB } from './messages.js';
import { JOBS_STREAM, slotConsumer } from './names.js';

// A pull waits this long for a job before it is made again.
const PULL_EXPIRES_MS = 2000;
const RETRY_MS = 2000;
// Pulls in a row that may end on late heartbeats before a loop calls it an outage.
const LATE_PULLS_TOLERATED = 3;

/**
 * The hosts a worker has in hand (polling, or waiting for a connection or session slot), against its
 * capacity. A job is taken while there is room for a whole batch, or whatever its size when nothing
 * is in hand, so that hosts wait in the queue rather than unseen in a worker.
 */
export class HostRoom {
  inFlight = 0;
  done = 0;
  private waiters: (() => void)[] = [];

  constructor(readonly capacity: number) {}

  /** A job's hosts are now in hand. */
  taken(hosts: number): void {
    this.inFlight += hosts;
  }

  /** One host is polled. */
  finished(): void {
    this.inFlight -= 1;
    this.done += 1;
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /** Resolves once a job may be taken, or when `signal` aborts. */
  async untilRoom(signal: AbortSignal): Promise<void> {
    while (this.inFlight > 0 && this.capacity - this.inFlight < MAX_HOSTS_PER_JOB && !signal.aborted) {
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          signal.removeEventListener('abort', wake);
          resolve();
        };
        this.waiters.push(wake);
        signal.addEventListener('abort', wake, { once: true });
      });
    }
  }
}

// What the pull loops need.
export interface SlotPullerDeps {
  readonly js: JetStreamClient;
  readonly zone: string;
  readonly room: HostRoom;
  readonly log: Log;
  /** Handles one job taken (polls it, publishes its results, acknowledges it). */
  readonly onJob: (m: JsMsg) => void;
}

// The pull loops of the slots a worker owns now.
export class SlotPullers {
  private readonly loops = new Map<number, { readonly stop: AbortController; readonly ended: Promise<void> }>();
  // NATS failing shows in every loop at once: the first failure is logged, then the recovery.
  private failing = false;

  constructor(
    private readonly deps: SlotPullerDeps,
    private readonly stop: AbortSignal,
  ) {}

  /** The slots owned now: loops start for new ones and end for the ones given up. */
  own(slots: ReadonlySet<number>): void {
    for (const [slot, loop] of this.loops) {
      if (slots.has(slot)) continue;
      loop.stop.abort();
      this.loops.delete(slot);
    }
    for (const slot of slots) {
      if (this.loops.has(slot) || this.stop.aborted) continue;
      const stop = new AbortController();
      this.loops.set(slot, { stop, ended: this.pull(slot, AbortSignal.any([stop.signal, this.stop])) });
    }
  }

  /** Ends every loop (the worker stopping); resolves once their pulls are over. */
  async close(): Promise<void> {
    const ended = [...this.loops.values()].map((loop) => {
      loop.stop.abort();
      return loop.ended;
    });
    this.loops.clear();
    await Promise.all(ended);
  }

  private async pull(slot: number, signal: AbortSignal): Promise<void> {
    const { js, zone, room, log, onJob } = this.deps;
    let consumer: Consumer | null = null;
    let latePulls = 0;
    while (!signal.aborted) {
      await room.untilRoom(signal);
      if (signal.aborted) break;
      try {
        consumer ??= await js.consumers.get(JOBS_STREAM, slotConsumer(zone, slot));
        const batch = await consumer.fetch({ max_messages: 1, expires: PULL_EXPIRES_MS });
        for await (const m of batch) onJob(m);
        latePulls = 0;
        if (this.failing) log.warn(`taking the jobs of zone ${zone} again`);
        this.failing = false;
      } catch (error) {
        // A pull whose idle heartbeats came late (this worker or the server busy for a second) is not an outage.
        if (/heartbeats missed/i.test((error as Error).message) && latePulls < LATE_PULLS_TOLERATED) {
          latePulls += 1;
          continue;
        }
        if (!this.failing) log.error(`NATS: cannot take the jobs of zone ${zone}: ${(error as Error).message}; retrying every ${RETRY_MS / 1000} s`);
        this.failing = true;
        consumer = null;
        await sleep(RETRY_MS, undefined, { signal }).catch(() => undefined);
      }
    }
  }
}
