// `fleetpoll worker`: takes its zone's jobs (batches of hosts) from the work queue, polls each job's
// hosts at once with the same transports (warm SSH connections, as `serve` keeps them), gates,
// deadline and retries as a standalone cycle (pollWithGates), publishes the job's results together
// (one message, or as few as the server's max_payload allows), then acknowledges the job.
// In-progress acks keep a job while any of its hosts is running; a job is pulled only when there is
// room for a batch's hosts, so no host waits unseen in a buffer.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { jetstream, jetstreamManager, type Consumer, type JsMsg } from '@nats-io/jetstream';
import type { Config } from '../config.js';
import type { Log } from '../log.js';
import { zoneOf, type Host, type PollResult } from '../model.js';
import { FailureLinesByCycle } from '../fleet/failure-lines.js';
import { pollGates, pollWithGates, SESSIONS_PER_CPU_SLOT, type PollOptions } from '../fleet/poll.js';
import { pollOptionsOf } from '../run-poll.js';
import { ServeTransports } from '../serve/transports.js';
import { VERSION } from '../version.js';
import { AckedPublisher } from './acked-publisher.js';
import { connectNats, type NatsLink } from './connect.js';
import { decodeJob, encode, encodeResults, isRefused, MAX_HOSTS_PER_JOB, type Heartbeat, type Job } from './messages.js';
import { heartbeatSubject, HELLO_SUBJECT, JOBS_STREAM, resultMessageId, resultSubject, zoneConsumer } from './names.js';
import type { NatsSettings } from './settings.js';
import { ensureStreams, ensureZoneConsumer } from './streams.js';

const PULL_EXPIRES_MS = 2000;
const RETRY_MS = 2000;
// NATS's own default, for a server that has not said its max_payload yet.
const DEFAULT_MAX_PAYLOAD = 1024 * 1024;
// Left out of max_payload for a result message's headers (Nats-Msg-Id, reply subject).
const HEADER_ROOM_BYTES = 4096;

// What a worker needs.
export interface WorkerOptions {
  readonly config: Config & { readonly nats: NatsSettings };
  readonly zone: string;
  readonly env: NodeJS.ProcessEnv;
  readonly log: Log;
  /** Aborts when the worker should stop: no new job is taken, jobs in hand finish within their deadline. */
  readonly stop: AbortSignal;
}

// Stands in for "the hosts of a cycle" when the transports are built: a worker does not know its hosts
// ahead, so every kind is set up (known_hosts loaded; PowerShell starts only on a winrm host's first job).
const EVERY_KIND: readonly Host[] = (['ssh', 'local', 'winrm'] as const).map((transport) => ({
  name: `any-${transport}`,
  address: 'localhost',
  transport,
  port: 22,
  user: 'any',
  auth: { kind: 'default' },
  os: transport === 'winrm' ? 'windows' : 'linux',
  tags: [],
  enabled: true,
  line: 0,
  extra: {},
}));

/** Runs a worker until `stop` (resolves with the hosts it polled); throws only when it cannot start (NATS settings, known_hosts unreadable). */
export async function runWorker(options: WorkerOptions): Promise<{ hosts: number }> {
  const { config, zone, log, stop } = options;
  const settings = config.nats;
  const id = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const link = await connectNats(settings, options.env, `fleetpoll worker ${zone} ${id}`, log);
  const js = jetstream(link.nc);
  const results = new AckedPublisher(link.nc);
  const transports = new ServeTransports(options.env, log);
  const stats = { inFlight: 0, done: 0 };
  const startedAtSec = Math.floor(Date.now() / 1000);
  const beat = (stopping: boolean): void => {
    const message: Heartbeat = { v: 1, id, zone, version: VERSION, hostname: hostname(), pid: process.pid, startedAtSec, sentAtSec: Math.floor(Date.now() / 1000), inFlight: stats.inFlight, done: stats.done, stopping };
    try {
      link.nc.publish(heartbeatSubject(zone), encode(message));
    } catch {
      // Disconnected: the next beat goes out once NATS is back.
    }
  };
  const hello = link.nc.subscribe(HELLO_SUBJECT, { callback: () => beat(false) });
  try {
    const jsm = await jetstreamManager(link.nc);
    await untilDone(async () => {
      await ensureStreams(jsm, settings);
      await ensureZoneConsumer(jsm, zone, settings);
    }, `setting up the streams and the consumer of zone ${zone}`, log, stop);
    const built = await transports.forCycle(config, EVERY_KIND, false);
    const pollOptions: PollOptions = pollOptionsOf(config, built.transports, log);
    const gates = pollGates(pollOptions);
    // A site down in the zone: each cycle names its first failed hosts and counts the rest, as `serve` does.
    const failures = new FailureLinesByCycle(log);
    // Hosts in hand at once (of the jobs taken): as many as may be past their banner, so none waits
    // long holding its job's ack wait.
    const capacity = Math.max(1, config.poll.maxSessions ?? config.poll.concurrency * SESSIONS_PER_CPU_SLOT);
    const timer = setInterval(() => {
      beat(false);
      void built.saveKnownHostsNames();
    }, settings.heartbeatMs);
    beat(false);
    log.info(`worker ${id} polling zone ${zone}`, { capacity, ack_wait_s: settings.ackWaitMs / 1000 });
    const running = new Set<Promise<void>>();
    let freed: () => void = () => {};
    const hostsInHand = {
      taken: (n: number) => void (stats.inFlight += n),
      finished: () => {
        stats.inFlight -= 1;
        stats.done += 1;
        freed();
      },
    };
    try {
      let consumer: Consumer | null = null;
      let failing = false;
      while (!stop.aborted) {
        // Room for a whole batch's hosts; with nothing in hand one job is taken even if its batch is above capacity.
        const room = capacity - stats.inFlight;
        if (stats.inFlight > 0 && room < MAX_HOSTS_PER_JOB) {
          await new Promise<void>((resolve) => (freed = resolve));
          continue;
        }
        try {
          consumer ??= await js.consumers.get(JOBS_STREAM, zoneConsumer(zone));
          const batch = await consumer.fetch({ max_messages: Math.max(1, Math.floor(room / MAX_HOSTS_PER_JOB)), expires: PULL_EXPIRES_MS });
          for await (const m of batch) {
            const job = handle(m, { results, link, zone, id, settings, pollOptions, gates, failures, log, ...hostsInHand }).finally(() => running.delete(job));
            running.add(job);
          }
          if (failing) log.warn(`taking the jobs of zone ${zone} again`);
          failing = false;
        } catch (error) {
          if (!failing) log.error(`NATS: cannot take the jobs of zone ${zone}: ${(error as Error).message}; retrying every ${RETRY_MS / 1000} s`);
          failing = true;
          consumer = null;
          await sleep(RETRY_MS, undefined, { signal: stop }).catch(() => undefined);
        }
      }
      // Jobs in hand finish within their own deadline, and their results go out.
      await Promise.all(running);
    } finally {
      clearInterval(timer);
      failures.flushAll();
      await built.saveKnownHostsNames();
    }
    return { hosts: stats.done };
  } finally {
    beat(true);
    hello.unsubscribe();
    results.close();
    await transports.close();
    await link.nc.drain().catch(() => undefined);
  }
}

// What handling one job needs.
interface JobContext {
  readonly results: AckedPublisher;
  readonly link: NatsLink;
  readonly zone: string;
  readonly id: string;
  readonly settings: NatsSettings;
  readonly pollOptions: PollOptions;
  readonly gates: ReturnType<typeof pollGates>;
  readonly failures: FailureLinesByCycle;
  readonly log: Log;
  /** A job's hosts are now in hand (counted against the capacity). */
  readonly taken: (hosts: number) => void;
  /** One host of a job is polled (its result waits for the job's other hosts, to go out with theirs). */
  readonly finished: () => void;
}

// One job: poll its hosts, publish their results together, then acknowledge. A job never throws;
// what cannot be done is left to redelivery (whose duplicate results the coordinator drops).
async function handle(m: JsMsg, c: JobContext): Promise<void> {
  const job = decodeJob(m.data);
  if (isRefused(job)) {
    // Terminated, not redelivered: no worker of this version can read it.
    c.log.error(`refusing a job on ${m.subject} (terminated): ${job.refused}`);
    m.term(job.refused);
    return;
  }
  const stranger = job.hosts.find((h) => zoneOf(h) !== c.zone);
  if (stranger !== undefined) {
    c.log.error(`refusing a job of cycle ${job.cycleId} on ${m.subject} (terminated): host ${stranger.name} is of zone ${zoneOf(stranger)}, this worker polls zone ${c.zone}`);
    m.term(`a host of zone ${zoneOf(stranger)}`);
    return;
  }
  if (Date.now() > job.deadlineMs) {
    // The coordinator has given these hosts their rows already (or is about to): polling now would be wasted.
    c.log.info(`job of cycle ${job.cycleId} (${job.hosts.length} hosts, first ${job.hosts[0]?.name}) came after the cycle deadline: dropped`);
    m.ack();
    return;
  }
  c.taken(job.hosts.length);
  // In-progress acks keep the job ours while any of its hosts waits for a slot or polls.
  const working = setInterval(() => m.working(), Math.max(200, Math.floor(c.settings.ackWaitMs / 3)));
  try {
    const results = await Promise.all(job.hosts.map((host) => pollOne(host, job, c).finally(c.finished)));
    if (await publishResults(job, results, c)) m.ack();
  } finally {
    clearInterval(working);
  }
}

// Polls one host of a job, waiting for a connection slot first.
async function pollOne(host: Host, job: Job, c: JobContext): Promise<PollResult> {
  await c.gates.connections.acquire();
  return pollWithGates(host, c.pollOptions, c.gates, c.failures.of(job.cycleId));
}

// Publishes a job's results, in as few messages as the server's max_payload allows; false when they
// could not all be published in time (the job is then left to redelivery).
async function publishResults(job: Job, results: readonly PollResult[], c: JobContext): Promise<boolean> {
  const maxBytes = (c.link.nc.info?.max_payload ?? DEFAULT_MAX_PAYLOAD) - HEADER_ROOM_BYTES;
  // Until the coordinator stops waiting for them; past that the results are of no use to anyone.
  const giveUpMs = job.deadlineMs + c.settings.ackWaitMs + c.pollOptions.timeoutMs;
  const subject = resultSubject(job.cycleId, c.zone);
  let logged = false;
  for (const message of encodeResults(job.cycleId, c.zone, c.id, results, maxBytes)) {
    for (;;) {
      try {
        await c.results.publish(subject, message.data, resultMessageId(job.cycleId, message.firstHost, message.lastHost, message.count));
        break;
      } catch (error) {
        if (!logged) c.log.error(`NATS: cannot publish the results of ${message.count} host(s) from ${message.firstHost} (cycle ${job.cycleId}): ${(error as Error).message}; retrying`);
        logged = true;
        if (Date.now() > giveUpMs) return false;
        await sleep(RETRY_MS);
      }
    }
  }
  return true;
}

// Runs `step` until it works or a stop comes (NATS not reachable yet at start).
async function untilDone(step: () => Promise<void>, what: string, log: Log, stop: AbortSignal): Promise<void> {
  let logged = false;
  for (;;) {
    try {
      await step();
      return;
    } catch (error) {
      if (stop.aborted) throw error;
      if (!logged) log.error(`NATS: ${what} failed: ${(error as Error).message}; retrying every ${RETRY_MS / 1000} s`);
      logged = true;
      await sleep(RETRY_MS);
    }
  }
}
