// One coordinator cycle's fan-out: "poll one host" becomes "job out, results in". The hosts of a zone
// with a live worker go out in jobs of up to MAX_HOSTS_PER_JOB hosts on the subject of their zone and
// slot (slots.ts: the slot's owner among the zone's workers takes them); the results
// of the cycle (a message per job, as a rule) are collected until every host has one or the deadline
// plus the wait has passed; every other host gets an explicit row.
// The outcome goes through runCycle's one write path, exactly as a standalone cycle's does.
import { setTimeout as sleep } from 'node:timers/promises';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { Log } from '../log.js';
import { zoneOf, type FailureStatus, type Host, type Phase, type PollResult } from '../model.js';
import type { FanOut, FanOutResult } from '../run-poll.js';
import { CycleSuspended } from './errors.js';
import { decodeResults, encode, JOB_FORMAT, MAX_HOSTS_PER_JOB, toPollResult, type Job } from './messages.js';
import { jobMessageId, jobSubject } from './names.js';
import { JOB_SLOTS, slotOf } from './slots.js';
import type { PendingCycle } from './pending-cycle.js';
import { readCycleResults } from './results-reader.js';

// Job messages awaiting the stream's acknowledgement at once.
const PUBLISH_CHUNK = 1000;
const PUBLISH_RETRY_MS = 2000;
// How often the collector looks whether it is done.
const CHECK_MS = 100;


// What a cycle's fan-out needs from the coordinator.
export interface ClusterCycleDeps {
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  /** Publishes one job to the jobs stream, stored once per message id; resolves once stored. */
  readonly publish: (subject: string, data: Uint8Array, msgId: string) => Promise<void>;
  readonly log: Log;
  /** Which of `zones` have a live worker now (the workers are asked first when one seems to have none). */
  readonly zonesWithWorkers: (zones: readonly string[]) => Promise<Set<string>>;
  /** Creates the zone's consumer when missing. */
  readonly ensureZone: (zone: string) => Promise<void>;
  /** Whether the connection to NATS is up now (for the rows of hosts without a result). */
  readonly connected: () => boolean;
  /** How long after the deadline results are still awaited (the ack wait: a job redelivered at the deadline). */
  readonly graceMs: number;
  /** The span after the cycle's start its jobs are published over, slot after slot (0: all at once). */
  readonly spreadMs: number;
  readonly nowMs?: () => number;
}

// Counts of one cycle, for the log and the tests.
export interface ClusterCycleCounts {
  /** Job messages published (each up to MAX_HOSTS_PER_JOB hosts). */
  published: number;
  received: number;
  duplicates: number;
  rejected: number;
}

/** The FanOut of one cluster cycle. A stop mid-cycle rejects with CycleSuspended. */
export function clusterFanOut(deps: ClusterCycleDeps, cycle: PendingCycle, stop: AbortSignal, counts: ClusterCycleCounts): FanOut {
  const now = deps.nowMs ?? Date.now;
  return async (hosts, options): Promise<FanOutResult> => {
    const { log } = deps;
    const byName = new Map(hosts.map((h) => [h.name, h]));
    const results = new Map<string, PollResult>();
    const settle = (result: PollResult): void => {
      results.set(result.host.name, result);
      options.onResult?.(result);
    };
    const reader = readCycleResults(
      deps.js,
      deps.jsm,
      cycle.id,
      (data) => {
        const message = decodeResults(data);
        if (message === null || message.cycleId !== cycle.id) {
          counts.rejected += 1;
          return;
        }
        counts.rejected += message.malformed;
        for (const entry of message.entries) {
          const host = byName.get(entry.host);
          // A worker answers for hosts of its own zone only; anything else is refused, never written.
          if (host === undefined || message.zone !== zoneOf(host)) {
            counts.rejected += 1;
            continue;
          }
          // De-duplication by (host, cycle): a redelivered job's second result is dropped here.
          if (results.has(host.name)) {
            counts.duplicates += 1;
            continue;
          }
          counts.received += 1;
          settle(toPollResult(host, entry.result));
        }
      },
      log,
    );
    try {
      // What is already stored counts first (a resumed cycle), before deciding who needs a job.
      await Promise.race([reader.caughtUp, sleep(10_000)]);
      const zones = [...new Set(hosts.map(zoneOf))];
      const live = await deps.zonesWithWorkers(zones);
      // Every host of a live zone, answered or not: the batches are cut from the whole list (see jobMessages).
      const jobs: Host[] = [];
      for (const host of hosts) {
        const zone = zoneOf(host);
        if (live.has(zone)) jobs.push(host);
        else if (!results.has(host.name)) settle(failure(host, 'unreachable', 'connect', `no poller in zone ${zone}`, cycle.startMs));
      }
      for (const zone of new Set(jobs.filter((h) => !results.has(h.name)).map(zoneOf))) await retrying(() => deps.ensureZone(zone), `creating the consumer of zone ${zone}`, deps, cycle, stop);
      await publishJobs(deps, cycle, jobs, results, stop, counts);

      const until = cycle.deadlineMs + deps.graceMs;
      while (results.size < hosts.length && now() < until && !stop.aborted) await sleep(CHECK_MS);
      if (stop.aborted && results.size < hosts.length) throw new CycleSuspended(cycle.id);
    } finally {
      await reader.stop();
    }
    const stillLive = await deps.zonesWithWorkers([...new Set(hosts.filter((h) => !results.has(h.name)).map(zoneOf))]).catch(() => new Set<string>());
    for (const host of hosts) {
      if (results.has(host.name)) continue;
      const zone = zoneOf(host);
      const why = !deps.connected() ? 'NATS unreachable' : stillLive.has(zone) ? 'its workers did not answer in time' : `no live poller left in zone ${zone}`;
      settle(failure(host, 'timeout', 'exec', `no result from zone ${zone} by the cycle deadline (${why})`, cycle.startMs));
    }
    log.info('cluster cycle collected', { cycle: cycle.id, hosts: hosts.length, jobs: counts.published, results: counts.received, duplicates: counts.duplicates, rejected: counts.rejected });
    return { results: hosts.map((h) => results.get(h.name) as PollResult), notStarted: new Set<string>() };
  };
}

// One job message to publish: its slot, its subject, its Nats-Msg-Id and the job.
export interface JobMessage {
  readonly slot: number;
  readonly subject: string;
  readonly msgID: string;
  readonly job: Job;
}

/**
 * The job messages of a cycle. Each zone's hosts are parted by slot (slots.ts: a slot's jobs go to
 * the worker of the zone that owns it), and each slot's hosts, in the order given, are cut into
 * batches of MAX_HOSTS_PER_JOB, hosts with a result already included, so that batch n of a slot is
 * the same hosts when a resumed coordinator publishes again (same Nats-Msg-Id: the stream keeps the
 * first copy, still in its queue). A job then carries only its batch's hosts still without a result;
 * a batch with none left is not published.
 */
export function jobMessages(cycle: PendingCycle, hosts: readonly Host[], done: (host: Host) => boolean): JobMessage[] {
  const bySlot = new Map<string, { zone: string; slot: number; hosts: Host[] }>();
  for (const host of hosts) {
    const zone = zoneOf(host);
    const slot = slotOf(host.name);
    const key = `${zone}.${slot}`;
    const group = bySlot.get(key);
    if (group === undefined) bySlot.set(key, { zone, slot, hosts: [host] });
    else group.hosts.push(host);
  }
  const messages: JobMessage[] = [];
  for (const { zone, slot, hosts: list } of bySlot.values()) {
    for (let start = 0; start < list.length; start += MAX_HOSTS_PER_JOB) {
      const batch = list.slice(start, start + MAX_HOSTS_PER_JOB).filter((h) => !done(h));
      if (batch.length === 0) continue;
      const job: Job = { v: JOB_FORMAT, cycleId: cycle.id, deadlineMs: cycle.deadlineMs, hosts: batch };
      messages.push({ slot, subject: jobSubject(zone, slot), msgID: jobMessageId(cycle.id, zone, slot, start / MAX_HOSTS_PER_JOB), job });
    }
  }
  return messages;
}

/** When the jobs of `slot` go out: the slots in turn over `spreadMs` after the cycle's start, as a standalone cycle spreads its hosts. */
export function slotOffsetMs(slot: number, spreadMs: number): number {
  return Math.floor((slot / JOB_SLOTS) * Math.max(0, spreadMs));
}

// Publishes the jobs (the stream stores a job once per Nats-Msg-Id), each slot's at its offset; NATS
// down: retried until the deadline. The jobs due at once go out together, before any acknowledgement
// is awaited: they leave in a few socket writes instead of one or two each.
async function publishJobs(deps: ClusterCycleDeps, cycle: PendingCycle, hosts: readonly Host[], results: ReadonlyMap<string, PollResult>, stop: AbortSignal, counts: ClusterCycleCounts): Promise<void> {
  // NATS down fails every job at once: the first failure is logged, not each job's.
  const failures: FailureNote = { logged: false };
  const now = deps.nowMs ?? Date.now;
  const messages = jobMessages(cycle, hosts, (h) => results.has(h.name));
  const publishOne = async (m: JobMessage): Promise<void> => {
    const data = encode(m.job);
    const ok = await retrying(() => deps.publish(m.subject, data, m.msgID), `publishing the jobs of cycle ${cycle.id}`, deps, cycle, stop, failures);
    if (ok) counts.published += 1;
  };
  const dueMs = (m: JobMessage): number => cycle.startMs + slotOffsetMs(m.slot, deps.spreadMs);
  const waiting = messages.sort((a, b) => a.slot - b.slot);
  while (waiting.length > 0 && !stop.aborted) {
    const wait = dueMs(waiting[0] as JobMessage) - now();
    if (wait > 0) await sleep(wait, undefined, { signal: stop }).catch(() => undefined);
    let due = 0;
    while (due < waiting.length && dueMs(waiting[due] as JobMessage) <= now()) due += 1;
    const batch = waiting.splice(0, Math.max(1, due));
    for (let from = 0; from < batch.length && !stop.aborted; from += PUBLISH_CHUNK) {
      await Promise.all(batch.slice(from, from + PUBLISH_CHUNK).map(publishOne));
    }
  }
}

// Whether a failure of a group of steps was logged already.
interface FailureNote {
  logged: boolean;
}

// Runs `step` until it succeeds, the deadline passes or a stop comes; logs the first failure of the group `note` stands for.
async function retrying(step: () => Promise<unknown>, what: string, deps: ClusterCycleDeps, cycle: PendingCycle, stop: AbortSignal, note: FailureNote = { logged: false }): Promise<boolean> {
  const now = deps.nowMs ?? Date.now;
  for (;;) {
    try {
      await step();
      return true;
    } catch (error) {
      if (!note.logged) deps.log.error(`NATS: ${what} failed: ${(error as Error).message}; retrying until the cycle deadline`);
      note.logged = true;
      if (now() > cycle.deadlineMs || stop.aborted) return false;
      await sleep(PUBLISH_RETRY_MS);
    }
  }
}

function failure(host: Host, status: FailureStatus, phase: Phase, error: string, startMs: number): PollResult {
  return { host, status, phase, error, startedAt: new Date(startMs), durationMs: 0, attempts: 0 };
}
