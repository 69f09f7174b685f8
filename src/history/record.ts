// Records one poll cycle into the store: the cycle row, each host's sample (ok or failed, with status and
// phase) and its disks, per-user totals, top processes and sessions, in one transaction of prepared statements.
import type Database from 'better-sqlite3';
import type { PollResult } from '../model.js';
import { encodeDisks, encodeProcesses, encodeSessions, encodeUsers } from './details.js';

// The cycle being recorded: what run-poll (or serve) knows besides the results.
export interface CycleInfo {
  readonly startedAt: Date;
  /** Wall time of the whole cycle; null when unknown (an import). */
  readonly durationMs: number | null;
  /** Connections re-opened this cycle (serve's warm pool); null when not applicable (poll). */
  readonly reconnects?: number | null;
}

// What one record() wrote.
export interface RecordOutcome {
  /** Samples inserted (0 for a host already recorded at that second). */
  readonly samples: number;
  readonly at: number;
}

/** Epoch seconds UTC of a Date: the store's time unit. */
export function epochSeconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}

/** The value at quantile q (0..1) of sorted numbers, nearest rank; null when empty. */
export function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] ?? null;
}

// Prepared once per store handle and reused for every cycle (serve records every few minutes).
export class Recorder {
  private readonly allHosts: Database.Statement;
  private readonly insertHost: Database.Statement;
  private readonly updateHost: Database.Statement;
  // name -> id and what the store has for it; read once, so an unchanged host costs no statement.
  private hosts: Map<string, { id: number; identity: string }> | null = null;
  private readonly insertCycle: Database.Statement;
  private readonly insertSample: Database.Statement;
  private readonly insertDetails: Database.Statement;
  private readonly recordAll: (results: readonly PollResult[], cycle: CycleInfo) => RecordOutcome;

  constructor(private readonly db: Database.Database) {
    this.allHosts = db.prepare('SELECT id, name, address, transport, tags FROM hosts').raw();
    this.insertHost = db.prepare('INSERT INTO hosts (name, address, transport, tags) VALUES (?, ?, ?, ?) RETURNING id').pluck();
    this.updateHost = db.prepare('UPDATE hosts SET address = ?, transport = ?, tags = ? WHERE id = ?');
    this.insertCycle = db.prepare(
      `INSERT OR REPLACE INTO cycles (started_at, duration_ms, hosts_total, hosts_ok, hosts_failed, coverage_pct, latency_p50_ms, latency_p95_ms, reconnects)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.insertSample = db.prepare(
      `INSERT OR IGNORE INTO samples (host_id, at, status, phase, error, duration_ms, attempts, hostname, os_family, os_version, os_pretty,
         uptime_s, cpu_cores, cpu_pct, load_1m, load_5m, load_15m, mem_total_kb, mem_available_kb, mem_free_kb, swap_total_kb, swap_free_kb)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.insertDetails = db.prepare('INSERT OR IGNORE INTO details (host_id, at, users, disks, processes, sessions) VALUES (?, ?, ?, ?, ?, ?)');
    this.recordAll = db.transaction((results: readonly PollResult[], cycle: CycleInfo) => this.write(results, cycle));
  }

  /** Records the cycle in one transaction: all of it or, on any error, nothing. Throws SQLite errors. */
  record(results: readonly PollResult[], cycle: CycleInfo): RecordOutcome {
    return this.recordAll(results, cycle);
  }

  private hostId(name: string, address: string, transport: string, tags: string): number {
    if (this.hosts === null) {
      this.hosts = new Map();
      for (const [id, n, a, t, g] of this.allHosts.all() as [number, string, string, string, string][]) this.hosts.set(n, { id, identity: `${a}\n${t}\n${g}` });
    }
    const identity = `${address}\n${transport}\n${tags}`;
    const known = this.hosts.get(name);
    if (known === undefined) {
      const id = this.insertHost.get(name, address, transport, tags) as number;
      this.hosts.set(name, { id, identity });
      return id;
    }
    if (known.identity !== identity) {
      this.updateHost.run(address, transport, tags, known.id);
      known.identity = identity;
    }
    return known.id;
  }

  private write(results: readonly PollResult[], cycle: CycleInfo): RecordOutcome {
    const at = epochSeconds(cycle.startedAt);
    let ok = 0;
    let samples = 0;
    const durations: number[] = [];
    for (const result of results) {
      const { host } = result;
      const durationMs = Math.round(result.durationMs);
      durations.push(durationMs);
      const hostId = this.hostId(host.name, host.address, host.transport, JSON.stringify(host.tags));
      if (result.status !== 'ok') {
        samples += this.insertSample.run(hostId, at, result.status, result.phase, result.error, durationMs, result.attempts,
          null, null, null, null, null, null, null, null, null, null, null, null, null, null, null).changes;
        continue;
      }
      ok += 1;
      const s = result.sample;
      const { mem, load } = s;
      const inserted = this.insertSample.run(hostId, at, 'ok', null, null, durationMs, result.attempts,
        s.hostname, s.osFamily, s.osVersion, s.osPretty, s.uptimeSec, s.cpuCores, s.cpuBusyPct,
        load?.m1 ?? null, load?.m5 ?? null, load?.m15 ?? null,
        mem.totalKb, mem.availableKb, mem.freeKb, mem.swapTotalKb, mem.swapFreeKb).changes;
      // Already recorded at this second (a second poll within the same second): keep the first, whole.
      if (inserted === 0) continue;
      samples += 1;
      // One details row per poll (an empty list is NULL; a poll without any detail has no row).
      if (s.users.length + s.disks.length + s.procs.length + s.sessions.length > 0) {
        this.insertDetails.run(hostId, at, s.users.length > 0 ? encodeUsers(s.users) : null, s.disks.length > 0 ? encodeDisks(s.disks) : null,
          s.procs.length > 0 ? encodeProcesses(s.procs) : null, s.sessions.length > 0 ? encodeSessions(s.sessions) : null);
      }
    }
    durations.sort((a, b) => a - b);
    const total = results.length;
    this.insertCycle.run(at, cycle.durationMs, total, ok, total - ok, total === 0 ? 0 : (ok / total) * 100,
      quantile(durations, 0.5), quantile(durations, 0.95), cycle.reconnects ?? null);
    return { samples, at };
  }
}
