// A generated fleet's history, written into a store two ways: through the product's own path (record() and
// step() after every cycle, as `poll` and `serve` do) and through a bulk path for bench:history's 1,000 hosts x
// 30 days, which writes the very same rows with a third of the CPU and a seventh of the wall time
// (docs/performance.md): each host's samples in primary-key order in large transactions of prepared statements,
// the cycles from the durations kept on the way, the hourly rollups by the product's rollup over whole days, and
// the maintenance state the steps would have left.
// test/bench/lib/history-load.test.ts checks, table by table, that both paths give the same store.
import type Database from 'better-sqlite3';
import { encodeDisks } from '../../src/history/details.js';
import { STEP_LIMITS, type Retention } from '../../src/history/maintain.js';
import { quantile } from '../../src/history/record.js';
import type { HistoryStore } from '../../src/history/store.js';
import type { Host, PollResult, Sample } from '../../src/model.js';
import { prng } from '../../test/helpers/report-log.js';

// The fleet and the span to generate.
export interface FleetSpec {
  readonly hosts: number;
  /** First poll, epoch seconds UTC. */
  readonly start: number;
  /** Polls per host (one cycle each). */
  readonly polls: number;
  readonly pollSec: number;
  /** One filesystem reading every this many polls (the other polls carry no details). */
  readonly diskEvery: number;
  readonly seed: number;
}

// What a cycle's record() is told besides its results.
const CYCLE_DURATION_MS = 1000;
const HOUR = 3600;
const DAY = 86_400;

/** The name of generated host i. */
export function hostName(i: number): string {
  return `srv${String(i).padStart(5, '0')}`;
}

/** Generated host i as the inventory would give it. */
export function fleetHost(i: number): Host {
  return { name: hostName(i), address: `10.1.${i >> 8}.${i & 255}`, transport: 'ssh', port: 22, user: 'poller', auth: { kind: 'default' }, os: 'linux', tags: ['bench'], enabled: true, line: i + 2, extra: {} };
}

// The probe reports percentages with one decimal.
function round1(value: number): number {
  return Math.round(value * 10) / 10;
}

/**
 * The polls of the fleet: each host has its own random stream, read poll after poll, so a host's k-th poll is
 * the same whether the polls are taken cycle by cycle (the product path) or host by host (the bulk path).
 */
export class GeneratedFleet {
  private readonly streams: (() => number)[];
  private readonly next: number[];

  constructor(readonly spec: FleetSpec) {
    this.streams = Array.from({ length: spec.hosts }, (_, i) => prng(spec.seed * 1_000_003 + i));
    this.next = new Array<number>(spec.hosts).fill(0);
  }

  /** Host i's poll k; each host's polls must be asked for in order (0, 1, 2, ...). */
  poll(i: number, k: number, host: Host): PollResult {
    if (this.next[i] !== k) throw new Error(`host ${i}: poll ${k} asked for out of order (next is ${this.next[i]})`);
    this.next[i] = k + 1;
    const rnd = this.streams[i] as () => number;
    const startedAt = new Date((this.spec.start + k * this.spec.pollSec) * 1000);
    // About 1 % of polls fail.
    if (rnd() < 0.01) return { host, status: 'timeout', phase: 'exec', error: 'no answer within 30 s', startedAt, durationMs: 30_000, attempts: 1 };
    const sample: Sample = {
      hostname: host.name,
      osFamily: 'linux',
      osVersion: '6.1.0-18-amd64',
      osPretty: 'Debian GNU/Linux 12 (bookworm)',
      uptimeSec: 1_000_000 + k * this.spec.pollSec,
      cpuCores: 8,
      cpuBusyPct: round1(rnd() * 100),
      load: { m1: rnd() * 8, m5: rnd() * 8, m15: rnd() * 8 },
      mem: { totalKb: 16_000_000, availableKb: Math.round(rnd() * 16_000_000), freeKb: 1_000_000, swapTotalKb: 2_000_000, swapFreeKb: 1_500_000 },
      disks: k % this.spec.diskEvery === 0 ? [{ mount: '/', fsType: 'ext4', totalKb: 100_000_000, usedKb: Math.round(rnd() * 90_000_000), availableKb: 10_000_000 }] : [],
      procs: [],
      users: [],
      sessions: [],
      warnings: [],
    };
    return { host, status: 'ok', sample, startedAt, durationMs: 40 + Math.round(rnd() * 200), attempts: 1 };
  }
}

/** The product's path: every cycle through store.record() then store.step(), as `fleetpoll poll` records it. */
export function recordFleet(store: HistoryStore, spec: FleetSpec): void {
  const fleet = new GeneratedFleet(spec);
  const hosts = Array.from({ length: spec.hosts }, (_, i) => fleetHost(i));
  for (let k = 0; k < spec.polls; k += 1) {
    const at = spec.start + k * spec.pollSec;
    store.record(hosts.map((host, i) => fleet.poll(i, k, host)), { startedAt: new Date(at * 1000), durationMs: CYCLE_DURATION_MS });
    store.step(at);
  }
}

// Rows per transaction of the bulk path: large enough that commits cost nothing, small enough for the WAL.
const ROWS_PER_TRANSACTION = 200_000;

/**
 * The bulk path, into an empty store: the rows recordFleet() would have written, with a third of its CPU.
 * Throws when the spec is one the bulk path cannot reproduce (the steps would have pruned, or skipped hours).
 */
export function bulkLoadFleet(store: HistoryStore, spec: FleetSpec, retention: Retention): void {
  const db = store.db;
  const span = (spec.polls - 1) * spec.pollSec;
  if (span >= retention.rawDays * DAY) throw new Error(`bulk load: ${spec.polls} polls span more than history.rawDays (${retention.rawDays}): the steps would have pruned`);
  if (spec.pollSec > HOUR) throw new Error('bulk load: polls more than an hour apart leave hours without a cycle');
  if ((db.prepare('SELECT count(*) FROM hosts').pluck().get() as number) > 0) throw new Error('bulk load: the store is not empty');

  const insertHost = db.prepare('INSERT INTO hosts (name, address, transport, tags) VALUES (?, ?, ?, ?)');
  // The same columns and values as record.ts writes.
  const insertSample = db.prepare(
    `INSERT INTO samples (host_id, at, status, phase, error, duration_ms, attempts, hostname, os_family, os_version, os_pretty,
       uptime_s, cpu_cores, cpu_pct, load_1m, load_5m, load_15m, mem_total_kb, mem_available_kb, mem_free_kb, swap_total_kb, swap_free_kb)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const insertDetails = db.prepare('INSERT INTO details (host_id, at, users, disks, processes, sessions) VALUES (?, ?, NULL, ?, NULL, NULL)');
  const insertCycle = db.prepare(
    `INSERT INTO cycles (started_at, duration_ms, hosts_total, hosts_ok, hosts_failed, coverage_pct, latency_p50_ms, latency_p95_ms, reconnects)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)`,
  );
  const fleet = new GeneratedFleet(spec);
  // Per cycle and host, what the cycle row needs: each poll's duration and whether it was ok.
  const durations = new Int32Array(spec.polls * spec.hosts);
  const ok = new Uint8Array(spec.polls * spec.hosts);

  db.transaction(() => {
    for (let i = 0; i < spec.hosts; i += 1) {
      const h = fleetHost(i);
      insertHost.run(h.name, h.address, h.transport, JSON.stringify(h.tags));
    }
  })();
  // Host ids as the recorder's first cycle gives them: in the cycle's order, from 1 in an empty store.
  const hostsPerTransaction = Math.max(1, Math.floor(ROWS_PER_TRANSACTION / spec.polls));
  const loadHosts = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i += 1) {
      const hostId = i + 1;
      const host = fleetHost(i);
      for (let k = 0; k < spec.polls; k += 1) {
        const result = fleet.poll(i, k, host);
        const at = spec.start + k * spec.pollSec;
        durations[k * spec.hosts + i] = Math.round(result.durationMs);
        if (result.status !== 'ok') {
          insertSample.run(hostId, at, result.status, result.phase, result.error, Math.round(result.durationMs), result.attempts,
            null, null, null, null, null, null, null, null, null, null, null, null, null, null, null);
          continue;
        }
        ok[k * spec.hosts + i] = 1;
        const s = result.sample;
        insertSample.run(hostId, at, 'ok', null, null, Math.round(result.durationMs), result.attempts,
          s.hostname, s.osFamily, s.osVersion, s.osPretty, s.uptimeSec, s.cpuCores, s.cpuBusyPct,
          s.load?.m1 ?? null, s.load?.m5 ?? null, s.load?.m15 ?? null,
          s.mem.totalKb, s.mem.availableKb, s.mem.freeKb, s.mem.swapTotalKb, s.mem.swapFreeKb);
        if (s.disks.length > 0) insertDetails.run(hostId, at, encodeDisks(s.disks));
      }
    }
  });
  for (let i = 0; i < spec.hosts; i += hostsPerTransaction) loadHosts(i, Math.min(spec.hosts, i + hostsPerTransaction));

  db.transaction(() => {
    for (let k = 0; k < spec.polls; k += 1) {
      const sorted = Array.from(durations.subarray(k * spec.hosts, (k + 1) * spec.hosts)).sort((a, b) => a - b);
      let okCount = 0;
      for (let i = 0; i < spec.hosts; i += 1) okCount += ok[k * spec.hosts + i] as number;
      const total = spec.hosts;
      insertCycle.run(spec.start + k * spec.pollSec, CYCLE_DURATION_MS, total, okCount, total - okCount, total === 0 ? 0 : (okCount / total) * 100,
        quantile(sorted, 0.5), quantile(sorted, 0.95));
    }
  })();

  // The steps roll up every completed hour before the last cycle's, and no other: the product's own rollup,
  // a day of hours per statement (rollupRange), gives the same rows as an hour per step.
  const lastAt = spec.start + span;
  const rolledUpTo = Math.floor(lastAt / HOUR) * HOUR;
  const firstHour = Math.floor(spec.start / HOUR) * HOUR;
  if (rolledUpTo > firstHour) store.maintainer().rollupRange(firstHour, rolledUpTo);
  writeStepState(db, spec, rolledUpTo);
}

// What the last step leaves in the maintenance table: the rollup watermark, and the prune cursor after one
// step per cycle, each visiting the next batch of hosts (maintain.ts's runStep, with every host present).
function writeStepState(db: Database.Database, spec: FleetSpec, rolledUpTo: number): void {
  const batch = Math.max(STEP_LIMITS.minHostsPruned, Math.ceil(spec.hosts / STEP_LIMITS.stepsPerRound));
  let cursor = 0;
  for (let k = 0; k < spec.polls; k += 1) {
    const visited = Math.min(batch, spec.hosts - cursor);
    cursor = visited < batch ? 0 : cursor + batch;
  }
  const set = db.prepare('INSERT INTO maintenance (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
  db.transaction(() => {
    set.run('rolled_up_to', rolledUpTo);
    set.run('prune_cursor', cursor);
  })();
}
