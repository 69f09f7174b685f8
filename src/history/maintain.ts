// Keeps the store's size and its rollups going as it grows, a bounded step after each recorded cycle:
// completed hours are rolled up (avg, min, max per host, per disk, per user) and data older than the
// retention is deleted a slice of hosts at a time, so no cycle ever pays for a month of backlog at once.
import type Database from 'better-sqlite3';
import { decodeDisks, decodeUsers } from './details.js';

// How long data is kept; from HistorySettings.
export interface Retention {
  readonly rawDays: number;
  readonly hourlyDays: number;
}

// Bounds of one step. A store far behind (after an import, or a long stop) catches up over several cycles.
export const STEP_LIMITS = {
  /** Completed hours rolled up per step. */
  hours: 2,
  /** Hosts pruned per step, at least; more on a large fleet so each host is visited about every 12 steps (an hour at 5 min). */
  minHostsPruned: 50,
  stepsPerRound: 12,
  /** At most this much of one host's oldest data is deleted per visit. */
  pruneWindowSec: 86_400,
  cyclesPruned: 1000,
} as const;

const HOUR = 3600;
const DAY = 86_400;

// Per-sample values the hourly rollup averages; NULL (a failed poll, a missing reading) is left out of avg/min/max.
const SAMPLE_VALUES = `s.cpu_pct AS cpu_pct,
  CASE WHEN s.mem_total_kb > 0 THEN (s.mem_total_kb - s.mem_available_kb) * 100.0 / s.mem_total_kb END AS mem_pct,
  CASE WHEN s.swap_total_kb > 0 THEN (s.swap_total_kb - s.swap_free_kb) * 100.0 / s.swap_total_kb END AS swap_pct,
  s.load_1m AS load_1m, s.load_5m AS load_5m, s.load_15m AS load_15m,
  s.mem_total_kb - s.mem_available_kb AS mem_used_kb`;
const stat = (m: string): string => `avg(${m}), min(${m}), max(${m})`;

const ROLLUP_HOSTS = `INSERT OR REPLACE INTO hourly
  SELECT host_id, hour, count(*), sum(status = 'ok'), max(CASE WHEN status <> 'ok' THEN status END),
    ${['cpu_pct', 'mem_pct', 'swap_pct', 'load_1m', 'load_5m', 'load_15m', 'mem_used_kb'].map(stat).join(', ')}
  FROM (SELECT s.host_id AS host_id, s.at / ${HOUR} * ${HOUR} AS hour, s.status AS status, ${SAMPLE_VALUES}
        FROM hosts h CROSS JOIN samples s WHERE s.host_id = h.id AND s.at >= ? AND s.at < ?)
  GROUP BY host_id, hour`;
// A poll's users and filesystems are JSON lists (details.ts): the hour's rows are read once and folded here.
// (SQLite's json_each did the same in SQL at 2-3 times the CPU: it re-parses each entry for each field.)
const DETAILS_IN_RANGE = `SELECT x.host_id, x.at, x.users, x.disks FROM hosts h CROSS JOIN details x
  WHERE x.host_id = h.id AND x.at >= ? AND x.at < ? AND (x.users IS NOT NULL OR x.disks IS NOT NULL)`;

// Running figures of one user (and one filesystem) in one hour of one host.
interface UserFold {
  readonly hostId: number;
  readonly hour: number;
  readonly user: string;
  polls: number;
  cpuSum: number;
  cpuMin: number;
  cpuMax: number;
  rssSum: number;
  rssMin: number;
  rssMax: number;
}
interface DiskFold {
  readonly hostId: number;
  readonly hour: number;
  readonly mount: string;
  n: number;
  sum: number;
  min: number;
  max: number;
}

// What one step did, for logs and tests.
export interface StepOutcome {
  readonly hoursRolledUp: number;
  readonly rolledUpTo: number | null;
  readonly samplesPruned: number;
  readonly hourlyPruned: number;
  readonly cyclesPruned: number;
}

// Prepared statements of the rollup and retention, one set per store handle.
export class Maintenance {
  private readonly statements;
  private readonly stepTx: (now: number, retention: Retention) => StepOutcome;
  private readonly rollupTx: (from: number, to: number) => void;

  constructor(private readonly db: Database.Database) {
    const p = (sql: string): Database.Statement => db.prepare(sql);
    this.statements = {
      getState: p('SELECT value FROM maintenance WHERE key = ?').pluck(),
      setState: p('INSERT INTO maintenance (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
      firstCycleAtOrAfter: p('SELECT min(started_at) FROM cycles WHERE started_at >= ?').pluck(),
      rollupHosts: p(ROLLUP_HOSTS),
      detailsInRange: p(DETAILS_IN_RANGE).raw(),
      insertHourlyUser: p('INSERT OR REPLACE INTO hourly_users VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)'),
      insertHourlyDisk: p('INSERT OR REPLACE INTO hourly_disks VALUES (?, ?, ?, ?, ?, ?)'),
      hostCount: p('SELECT count(*) FROM hosts').pluck(),
      hostsAfter: p('SELECT id FROM hosts WHERE id > ? ORDER BY id LIMIT ?').pluck(),
      oldestSample: p('SELECT at FROM samples WHERE host_id = ? ORDER BY at LIMIT 1').pluck(),
      pruneSamples: p('DELETE FROM samples WHERE host_id = ? AND at < ?'),
      oldestHour: p('SELECT hour FROM hourly WHERE host_id = ? ORDER BY hour LIMIT 1').pluck(),
      pruneHourly: p('DELETE FROM hourly WHERE host_id = ? AND hour < ?'),
      pruneHourlyDisks: p('DELETE FROM hourly_disks WHERE host_id = ? AND hour < ?'),
      pruneHourlyUsers: p('DELETE FROM hourly_users WHERE host_id = ? AND hour < ?'),
      pruneCycles: p('DELETE FROM cycles WHERE started_at IN (SELECT started_at FROM cycles WHERE started_at < ? ORDER BY started_at LIMIT ?)'),
    };
    this.stepTx = db.transaction((now: number, retention: Retention) => this.runStep(now, retention));
    this.rollupTx = db.transaction((from: number, to: number) => this.rollup(from, to));
  }

  /** One bounded step, in its own transaction: roll up completed hours before `now`, prune what is older than the retention. */
  step(now: number, retention: Retention): StepOutcome {
    return this.stepTx(now, retention);
  }

  /** Rolls up (again) every hour that overlaps [from, to): after an import, whatever the watermark says. */
  rollupRange(from: number, to: number): void {
    const start = Math.floor(from / HOUR) * HOUR;
    const end = Math.ceil(to / HOUR) * HOUR;
    // A day per transaction keeps each one short on a large fleet.
    for (let t = start; t < end; t += DAY) this.rollupTx(t, Math.min(end, t + DAY));
  }

  /** The first hour not yet rolled up by the steps (null before the first step). */
  rolledUpTo(): number | null {
    return (this.statements.getState.get('rolled_up_to') as number | undefined) ?? null;
  }

  private rollup(from: number, to: number): void {
    const s = this.statements;
    s.rollupHosts.run(from, to);
    this.rollupDetails(from, to);
  }

  // Per host, hour and user: polls, avg/min/max of CPU % and kB; per host, hour and mount: avg/min/max used %
  // (a filesystem without a size is left out of the figures, its row is kept), as the v2 SQL rollups computed them.
  private rollupDetails(from: number, to: number): void {
    const s = this.statements;
    const users = new Map<string, UserFold>();
    const disks = new Map<string, DiskFold>();
    for (const [hostId, at, usersText, disksText] of s.detailsInRange.iterate(from, to) as Iterable<[number, number, string | null, string | null]>) {
      const hour = at - (at % HOUR);
      for (const [user, cpu, rss] of decodeUsers(usersText)) {
        const key = `${hostId}\t${hour}\t${user}`;
        const f = users.get(key);
        if (f === undefined) {
          users.set(key, { hostId, hour, user, polls: 1, cpuSum: cpu, cpuMin: cpu, cpuMax: cpu, rssSum: rss, rssMin: rss, rssMax: rss });
          continue;
        }
        f.polls += 1;
        f.cpuSum += cpu;
        f.rssSum += rss;
        if (cpu < f.cpuMin) f.cpuMin = cpu;
        if (cpu > f.cpuMax) f.cpuMax = cpu;
        if (rss < f.rssMin) f.rssMin = rss;
        if (rss > f.rssMax) f.rssMax = rss;
      }
      for (const [mount, , , used, available] of decodeDisks(disksText)) {
        const key = `${hostId}\t${hour}\t${mount}`;
        let f = disks.get(key);
        if (f === undefined) disks.set(key, (f = { hostId, hour, mount, n: 0, sum: 0, min: Infinity, max: -Infinity }));
        if (used + available <= 0) continue;
        const pct = (used * 100) / (used + available);
        f.n += 1;
        f.sum += pct;
        if (pct < f.min) f.min = pct;
        if (pct > f.max) f.max = pct;
      }
    }
    for (const f of users.values()) {
      s.insertHourlyUser.run(f.hostId, f.hour, f.user, f.polls, f.cpuSum / f.polls, f.cpuMin, f.cpuMax, f.rssSum / f.polls, f.rssMin, f.rssMax);
    }
    for (const f of disks.values()) {
      s.insertHourlyDisk.run(f.hostId, f.hour, f.mount, f.n > 0 ? f.sum / f.n : null, f.n > 0 ? f.min : null, f.n > 0 ? f.max : null);
    }
  }

  private runStep(now: number, retention: Retention): StepOutcome {
    const s = this.statements;
    const currentHour = Math.floor(now / HOUR) * HOUR;
    let from = this.rolledUpTo();
    let hours = 0;
    if (from === null) {
      const first = s.firstCycleAtOrAfter.get(0) as number | null;
      from = first === null ? currentHour : Math.floor(first / HOUR) * HOUR;
    }
    while (from < currentHour && hours < STEP_LIMITS.hours) {
      // Skip hours without a cycle (the poller was stopped) in one jump.
      const next = s.firstCycleAtOrAfter.get(from) as number | null;
      if (next === null || next >= currentHour) {
        from = currentHour;
        break;
      }
      from = Math.floor(next / HOUR) * HOUR;
      this.rollup(from, from + HOUR);
      from += HOUR;
      hours += 1;
    }
    s.setState.run('rolled_up_to', from);

    const rawCutoff = now - retention.rawDays * DAY;
    // Never delete raw data the rollup has not summarised yet.
    const rawLimit = Math.min(rawCutoff, from);
    const hourlyCutoff = now - retention.hourlyDays * DAY;
    const hostCount = s.hostCount.get() as number;
    const batch = Math.max(STEP_LIMITS.minHostsPruned, Math.ceil(hostCount / STEP_LIMITS.stepsPerRound));
    const cursor = (s.getState.get('prune_cursor') as number | undefined) ?? 0;
    const ids = s.hostsAfter.all(cursor, batch) as number[];
    let samplesPruned = 0;
    let hourlyPruned = 0;
    for (const id of ids) {
      const oldest = s.oldestSample.get(id) as number | undefined;
      if (oldest !== undefined && oldest < rawLimit) {
        samplesPruned += s.pruneSamples.run(id, Math.min(rawLimit, oldest + STEP_LIMITS.pruneWindowSec)).changes;
      }
      const oldestHour = s.oldestHour.get(id) as number | undefined;
      if (oldestHour !== undefined && oldestHour < hourlyCutoff) {
        const bound = Math.min(hourlyCutoff, oldestHour + 30 * DAY);
        hourlyPruned += s.pruneHourly.run(id, bound).changes;
        s.pruneHourlyDisks.run(id, bound);
        s.pruneHourlyUsers.run(id, bound);
      }
    }
    // Past the last host, the next step starts again from the first.
    s.setState.run('prune_cursor', ids.length < batch ? 0 : (ids[ids.length - 1] as number));
    const cyclesPruned = s.pruneCycles.run(rawCutoff, STEP_LIMITS.cyclesPruned).changes;
    return { hoursRolledUp: hours, rolledUpTo: from, samplesPruned, hourlyPruned, cyclesPruned };
  }
}
