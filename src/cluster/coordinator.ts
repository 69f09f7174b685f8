// `fleetpoll serve` with `nats` settings: the coordinator. It connects to NATS, makes sure the streams
// exist, listens to the workers' heartbeats, and gives each cycle of the service loop its start time and
// its fan-out (cycle.ts). It stays the one writer of the files: a cycle is written by runCycle, then
// forgotten here (its note removed, its results purged from the stream).
import { setTimeout as sleep } from 'node:timers/promises';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { Subscription } from '@nats-io/transport-node';
import type { Log } from '../log.js';
import type { FanOut } from '../run-poll.js';
import { VERSION } from '../version.js';
import { AckedPublisher } from './acked-publisher.js';
import { connectNats, type NatsLink } from './connect.js';
import { clusterFanOut, type ClusterCycleCounts } from './cycle.js';
import { decodeHeartbeat } from './messages.js';
import { cycleIdOf, cycleResults, HEARTBEAT_PREFIX, HELLO_SUBJECT, RESULTS_STREAM } from './names.js';
import { clearPendingCycle, readPendingCycle, writePendingCycle, type PendingCycle } from './pending-cycle.js';
import type { NatsSettings } from './settings.js';
import { ensureStreams, ensureZoneConsumers } from './streams.js';
import { WorkerRegistry, type WorkerView } from './workers.js';

// The share of the interval a cycle's jobs may start in; results are awaited a little longer (cycle.ts).
const DEADLINE_FRACTION = 0.8;
// How long a cycle waits for heartbeats after asking the workers of a zone that seems empty.
const HELLO_WAIT_MS = 1500;

// One cycle as the service loop runs it.
export interface ClusterCycle {
  readonly id: string;
  readonly cycleStart: Date;
  /** True when this is a cycle a previous coordinator left unwritten. */
  readonly resumed: boolean;
  readonly fanOut: FanOut;
  readonly counts: ClusterCycleCounts;
}

// The coordinator's connection, the workers it has heard of, the cycle it is collecting.
export class Coordinator {
  private readonly workersSeen: WorkerRegistry;
  private readonly zonesReady = new Set<string>();
  private helloAtMs = 0;
  private readonly publisher: AckedPublisher;

  private constructor(
    private readonly link: NatsLink,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly settings: NatsSettings,
    private readonly dataDir: string,
    private readonly log: Log,
    private readonly heartbeats: Subscription,
  ) {
    this.workersSeen = new WorkerRegistry(settings.heartbeatMs);
    this.publisher = new AckedPublisher(link.nc);
  }

  /** Connects (waiting for NATS), creates the streams when missing and starts listening to heartbeats. */
  static async start(settings: NatsSettings, env: NodeJS.ProcessEnv, dataDir: string, log: Log): Promise<Coordinator> {
    log.info(`coordinator: connecting to NATS ${settings.servers.join(', ')}`);
    const link = await connectNats(settings, env, 'fleetpoll coordinator', log);
    const { nc } = link;
    try {
      const jsm = await jetstreamManager(nc);
      await ensureStreams(jsm, settings);
      const sub = nc.subscribe(`${HEARTBEAT_PREFIX}.*`);
      const coordinator = new Coordinator(link, jetstream(nc), jsm, settings, dataDir, log, sub);
      void coordinator.listen();
      return coordinator;
    } catch (error) {
      await nc.close();
      throw error;
    }
  }

  /** The workers heard of recently, for the API. */
  workers(): WorkerView[] {
    return this.workersSeen.list();
  }

  /**
   * The next cycle: the one a previous coordinator left unwritten (resumed), or a new one starting now.
   * `intervalMs` sets its deadline; `timeoutMs` (a host's poll deadline) is the least a job gets;
   * its jobs go out over `spreadMs` after its start, cut so that the last ones still get `timeoutMs`.
   */
  async beginCycle(intervalMs: number, timeoutMs: number, spreadMs: number, stop: AbortSignal): Promise<ClusterCycle> {
    let pending = await readPendingCycle(this.dataDir);
    const resumed = pending !== null;
    if (pending === null) {
      const startMs = Date.now();
      pending = { id: cycleIdOf(startMs), startMs, deadlineMs: startMs + Math.max(timeoutMs, DEADLINE_FRACTION * intervalMs - this.settings.ackWaitMs) };
      await writePendingCycle(this.dataDir, pending);
    } else {
      this.log.warn(`resuming cycle ${pending.id} (started ${new Date(pending.startMs).toISOString()}), which a previous coordinator did not write`);
    }
    const counts: ClusterCycleCounts = { published: 0, received: 0, duplicates: 0, rejected: 0 };
    const fanOut = clusterFanOut(
      {
        js: this.js,
        jsm: this.jsm,
        publish: (subject, data, msgId) => this.publisher.publish(subject, data, msgId),
        log: this.log,
        zonesWithWorkers: (zones) => this.zonesWithWorkers(zones),
        ensureZone: (zone) => this.ensureZone(zone),
        connected: () => this.link.connected(),
        // A job redelivered at the deadline still has its ack wait; a job started at the deadline, its poll timeout.
        graceMs: Math.max(this.settings.ackWaitMs, timeoutMs) + 2000,
        spreadMs: Math.max(0, Math.min(spreadMs, pending.deadlineMs - pending.startMs - timeoutMs)),
      },
      pending,
      stop,
      counts,
    );
    return { id: pending.id, cycleStart: new Date(pending.startMs), resumed, fanOut, counts };
  }

  /** The cycle's files are written: forget it (the note; its results in the stream, best effort). */
  async cycleWritten(cycle: ClusterCycle): Promise<void> {
    await clearPendingCycle(this.dataDir);
    try {
      await this.jsm.streams.purge(RESULTS_STREAM, { filter: cycleResults(cycle.id) });
    } catch (error) {
      this.log.warn(`NATS: could not purge the results of cycle ${cycle.id} (${(error as Error).message}); the stream drops them after nats.retentionHours`);
    }
  }

  /** Closes the connection (the service stopping). */
  async close(): Promise<void> {
    this.heartbeats.unsubscribe();
    this.publisher.close();
    await this.link.nc.close().catch(() => undefined);
  }

  private async listen(): Promise<void> {
    const warned = new Set<string>();
    for await (const m of this.heartbeats) {
      const beat = decodeHeartbeat(m.data);
      if (beat === null) continue;
      this.workersSeen.heard(beat);
      // Workers of another version may not take this coordinator's jobs (their subjects or format): say so once per worker.
      if (beat.version !== VERSION && !warned.has(beat.id)) {
        warned.add(beat.id);
        this.log.warn(`worker ${beat.id} of zone ${beat.zone} runs fleetpoll ${beat.version}, this coordinator ${VERSION}: upgrade the coordinator and the workers together, or their hosts may get timeout rows`);
      }
    }
  }

  // The zones among `zones` with a live worker; a zone that seems empty makes the workers say hello first
  // (a coordinator just started has heard no heartbeat yet).
  private async zonesWithWorkers(zones: readonly string[]): Promise<Set<string>> {
    const live = (): Set<string> => new Set(zones.filter((z) => this.workersSeen.hasLive(z)));
    const now = live();
    if (now.size === zones.length || Date.now() - this.helloAtMs < this.settings.heartbeatMs) return now;
    this.helloAtMs = Date.now();
    this.link.nc.publish(HELLO_SUBJECT);
    await sleep(HELLO_WAIT_MS);
    return live();
  }

  private async ensureZone(zone: string): Promise<void> {
    if (this.zonesReady.has(zone)) return;
    await ensureZoneConsumers(this.jsm, zone, this.settings);
    this.zonesReady.add(zone);
  }
}
