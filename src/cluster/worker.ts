// `fleetpoll worker`: takes the jobs (batches of hosts) of the slots of its zone it owns (slots.ts)
// from the work queue, polls each job's hosts at once with the same transports (warm SSH connections,
// as `serve` keeps them), gates, deadline and retries as a standalone cycle (pollWithGates), publishes
// the job's results together (one message, or as few as the server's max_payload allows), then
// acknowledges the job. In-progress acks keep a job while any of its hosts is running; a job is
// pulled only when there is room for a batch's hosts (slot-pullers.ts).
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
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
import { decodeHeartbeat, decodeJob, encode, encodeResults, isRefused, type Heartbeat, type Job } from './messages.js';
import { heartbeatSubject, HELLO_SUBJECT, resultMessageId, resultSubject } from './names.js';
import { RecentHosts } from './recent-hosts.js';
import type { NatsSettings } from './settings.js';
import { HostRoom, SlotPullers } from './slot-pullers.js';
import { JOB_SLOTS, slotsOwnedBy } from './slots.js';
import { ensureStreams, ensureZoneConsumers } from './streams.js';
import { WorkerRegistry } from './workers.js';

// How long a starting worker listens for the other workers of its zone before it picks its slots.
const HELLO_WAIT_MS = 1500;
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
  // Hosts in hand at once (of the jobs taken): as many as may be past their banner, so none waits
  // long holding its job's ack wait.
  const room = new HostRoom(Math.max(1, config.poll.maxSessions ?? config.poll.concurrency * SESSIONS_PER_CPU_SLOT));
  // The zone's workers, this one included, as their heartbeats say: who owns which slot.
  const peers = new WorkerRegistry(settings.heartbeatMs);
  let ownership: Ownership | null = null;
  const startedAtSec = Math.floor(Date.now() / 1000);
  // From the stop on, every beat says the worker is stopping: the zone's other workers take its slots
  // while it finishes the jobs in hand.
  const beat = (stopping = stop.aborted): void => {
    const message: Heartbeat = { v: 1, id, zone, version: VERSION, hostname: hostname(), pid: process.pid, startedAtSec, sentAtSec: Math.floor(Date.now() / 1000), inFlight: room.inFlight, done: room.done, stopping, slots: ownership?.slots ?? 0 };
    try {
      link.nc.publish(heartbeatSubject(zone), encode(message));
    } catch {
      // Disconnected: the next beat goes out once NATS is back.
    }
  };
  const hello = link.nc.subscribe(HELLO_SUBJECT, { callback: () => beat() });
  const peerBeats = link.nc.subscribe(heartbeatSubject(zone), {
    callback: (_error, m) => {
      const peer = decodeHeartbeat(m.data);
      if (peer === null || peer.zone !== zone) return;
      peers.heard(peer);
      ownership?.update();
    },
  });
  try {
    const jsm = await jetstreamManager(link.nc);
    await untilDone(async () => {
      await ensureStreams(jsm, settings);
      await ensureZoneConsumers(jsm, zone, settings);
    }, `setting up the streams and the consumers of zone ${zone}`, log, stop);
    const built = await transports.forCycle(config, EVERY_KIND, false);
    const pollOptions: PollOptions = pollOptionsOf(config, built.transports, log);
    const gates = pollGates(pollOptions);
    // A site down in the zone: each cycle names its first failed hosts and counts the rest, as `serve` does.
    const failures = new FailureLinesByCycle(log);
    const recent = new RecentHosts();
    const running = new Set<Promise<void>>();
    const context: JobContext = { results, link, zone, id, settings, pollOptions, gates, failures, log, room, recent, onNewCycle: () => ownership?.closeIdle() };
    const pullers = new SlotPullers(
      {
        js,
        zone,
        room,
        log,
        onJob: (m) => {
          const job = handle(m, context).finally(() => running.delete(job));
          running.add(job);
        },
      },
      stop,
    );
    // The other workers say who they are before this one picks its slots, and hear of it at once.
    beat();
    link.nc.publish(HELLO_SUBJECT);
    await sleep(Math.min(HELLO_WAIT_MS, settings.heartbeatMs), undefined, { signal: stop }).catch(() => undefined);
    ownership = new Ownership(id, zone, peers, pullers, recent, transports, log);
    ownership.update();
    const timer = setInterval(() => {
      beat();
      ownership?.update();
      void built.saveKnownHostsNames();
    }, settings.heartbeatMs);
    log.info(`worker ${id} polling zone ${zone}`, { capacity: room.capacity, ack_wait_s: settings.ackWaitMs / 1000 });
    try {
      await new Promise<void>((resolve) => (stop.aborted ? resolve() : stop.addEventListener('abort', () => resolve(), { once: true })));
      beat();
      await pullers.close();
      // Jobs in hand finish within their own deadline, and their results go out.
      await Promise.all(running);
    } finally {
      clearInterval(timer);
      failures.flushAll();
      await built.saveKnownHostsNames();
    }
    return { hosts: room.done };
  } finally {
    beat(true);
    hello.unsubscribe();
    peerBeats.unsubscribe();
    results.close();
    await transports.close();
    await link.nc.drain().catch(() => undefined);
  }
}

// The slots this worker owns among the live workers of its zone: the pull loops follow them, and the
// connections of hosts it no longer polls close.
class Ownership {
  private owned: ReadonlySet<number> = new Set();

  /** How many slots this worker owns now (its heartbeat says so, for the API and the dashboard). */
  get slots(): number {
    return this.owned.size;
  }

  constructor(
    private readonly id: string,
    private readonly zone: string,
    private readonly peers: WorkerRegistry,
    private readonly pullers: SlotPullers,
    private readonly recent: RecentHosts,
    private readonly transports: ServeTransports,
    private readonly log: Log,
  ) {}

  /** Works the slots out again from the heartbeats heard; a change moves the pull loops and closes connections. */
  update(): void {
    const live = this.peers.liveIds(this.zone);
    const owned = slotsOwnedBy(this.id, live);
    if (owned.size === this.owned.size && [...owned].every((slot) => this.owned.has(slot))) return;
    this.owned = owned;
    this.pullers.own(owned);
    this.log.info(`worker ${this.id} takes ${owned.size} of the ${JOB_SLOTS} slots of zone ${this.zone} (${new Set([...live, this.id]).size} live workers)`);
    this.closeIdle();
  }

  /** Closes the kept connections of the hosts this worker no longer polls (RecentHosts). */
  closeIdle(): void {
    this.transports.retain(this.recent.keep(this.owned)).catch((error: unknown) => this.log.warn(`closing idle connections failed: ${(error as Error).message}`));
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
  /** The hosts in hand (a job's are counted once taken; each host's result then waits for the job's other hosts, to go out with theirs). */
  readonly room: HostRoom;
  /** The hosts polled, by cycle: which connections to keep. */
  readonly recent: RecentHosts;
  /** A job of a cycle not seen before is about to be polled: connections of hosts left behind close. */
  readonly onNewCycle: () => void;
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
  c.room.taken(job.hosts.length);
  if (c.recent.polled(job.cycleId, job.hosts.map((h) => h.name))) c.onNewCycle();
  // In-progress acks keep the job ours while any of its hosts waits for a slot or polls.
  const working = setInterval(() => m.working(), Math.max(200, Math.floor(c.settings.ackWaitMs / 3)));
  try {
    const results = await Promise.all(job.hosts.map((host) => pollOne(host, job, c).finally(() => c.room.finished())));
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
