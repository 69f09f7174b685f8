// One coordinator cycle's fan-out: "poll one host" becomes "job out, result in". Each host of a zone
// with a live worker gets one job on its zone's subject; the results of the cycle are collected until
// every host has one or the deadline plus the wait has passed; every other host gets an explicit row.
// The outcome goes through runCycle's one write path, exactly as a standalone cycle's does.
import { setTimeout as sleep } from 'node:timers/promises';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { Log } from '../log.js';
import { zoneOf, type FailureStatus, type Host, type Phase, type PollResult } from '../model.js';
import type { FanOut, FanOutResult } from '../run-poll.js';
import { CycleSuspended } from './errors.js';
import { decodeResult, encode, toPollResult, type Job } from './messages.js';
import { jobSubject, messageId } from './names.js';
import type { PendingCycle } from './pending-cycle.js';
import { readCycleResults } from './results-reader.js';

// Jobs awaiting the stream's acknowledgement at once.
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
  /** Whether a zone has a live worker now (asking the workers first when it seems to have none). */
  readonly zonesWithWorkers: (zones: readonly string[]) => Promise<Set<string>>;
  /** Creates the zone's consumer when missing. */
  readonly ensureZone: (zone: string) => Promise<void>;
  /** Whether the connection to NATS is up now (for the rows of hosts without a result). */
  readonly connected: () => boolean;
  /** How long after the deadline results are still awaited (the ack wait: a job redelivered at the deadline). */
  readonly graceMs: number;
  readonly nowMs?: () => number;
}

// Counts of one cycle, for the log and the tests.
export interface ClusterCycleCounts {
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
        const message = decodeResult(data);
        const host = message === null ? undefined : byName.get(message.host);
        // A worker answers for hosts of its own zone only; anything else is refused, never written.
        if (message === null || host === undefined || message.cycleId !== cycle.id || message.zone !== zoneOf(host)) {
          counts.rejected += 1;
          return;
        }
        // De-duplication by (host, cycle): a redelivered job's second result is dropped here.
        if (results.has(host.name)) {
          counts.duplicates += 1;
          return;
        }
        counts.received += 1;
        settle(toPollResult(host, message.result));
      },
      log,
    );
    try {
      // What is already stored counts first (a resumed cycle), before deciding who needs a job.
      await Promise.race([reader.caughtUp, sleep(10_000)]);
      const zones = [...new Set(hosts.map(zoneOf))];
      const live = await deps.zonesWithWorkers(zones);
      const jobs: Host[] = [];
      for (const host of hosts) {
        if (results.has(host.name)) continue;
        const zone = zoneOf(host);
        if (live.has(zone)) jobs.push(host);
        else settle(failure(host, 'unreachable', 'connect', `no poller in zone ${zone}`, cycle.startMs));
      }
      for (const zone of new Set(jobs.map(zoneOf))) await retrying(() => deps.ensureZone(zone), `creating the consumer of zone ${zone}`, deps, cycle, stop);
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

// Publishes the jobs (the stream stores a job once per Nats-Msg-Id); NATS down: retried until the deadline.
// A chunk's jobs go out together, before any acknowledgement is awaited: they leave in a few socket
// writes instead of one or two each.
async function publishJobs(deps: ClusterCycleDeps, cycle: PendingCycle, hosts: readonly Host[], results: ReadonlyMap<string, PollResult>, stop: AbortSignal, counts: ClusterCycleCounts): Promise<void> {
  // NATS down fails every job at once: the first failure is logged, not each job's.
  const failures: FailureNote = { logged: false };
  const publishOne = async (host: Host): Promise<void> => {
    const job: Job = { v: 1, cycleId: cycle.id, deadlineMs: cycle.deadlineMs, host };
    const data = encode(job);
    const ok = await retrying(() => deps.publish(jobSubject(zoneOf(host)), data, messageId(cycle.id, host.name)), `publishing the jobs of cycle ${cycle.id}`, deps, cycle, stop, failures);
    if (ok) counts.published += 1;
  };
  for (let from = 0; from < hosts.length && !stop.aborted; from += PUBLISH_CHUNK) {
    await Promise.all(hosts.slice(from, from + PUBLISH_CHUNK).filter((host) => !results.has(host.name)).map(publishOne));
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
