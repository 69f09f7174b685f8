// Read queries over the filesystems of the history, for the dashboard: each host's fullest filesystem
// at its latest poll, each mount's used % over a range (downsampled like the host series: hourly rollups
// for steps of an hour or more, raw rows otherwise), and the least-squares sums behind a days-until-full
// forecast (the weekly report's forecast code turns them into days). Fixed statements, bound parameters.
import type Database from 'better-sqlite3';
import { Maintenance } from './maintain.js';

const HOUR = 3600;
const USED_PCT = 'CASE WHEN used_kb + available_kb > 0 THEN used_kb * 100.0 / (used_kb + available_kb) END';
// A poll's filesystems are a JSON list in its details row (schema v3, src/history/details.ts:
// [mount, fsType, totalKb, usedKb, availableKb]); this lists them as rows of the polls matching `where`.
const diskRows = (where: string): string =>
  `(SELECT d.host_id, d.at, j.value ->> 0 AS mount, j.value ->> 3 AS used_kb, j.value ->> 4 AS available_kb
    FROM details d, json_each(d.disks) j WHERE ${where})`;
const KB_PER_GB = 1024 * 1024;

// One mount's used % per bucket (null: no reading in the bucket).
export interface DiskSeries {
  readonly mount: string;
  readonly usedPct: (number | null)[];
}

// Least-squares sums of used GB over time (t in days from the window's start), as src/report/forecast.ts takes them.
export interface DiskTrend {
  readonly mount: string;
  readonly sums: { n: number; t: number; tt: number; y: number; ty: number };
  /** Time of the last reading, in days from the window's start. */
  readonly lastT: number;
  /** Capacity (used + available) at the last reading, GB. */
  readonly capacityGb: number;
  /** Used % at the last reading. */
  readonly usedPct: number | null;
}

// The dashboard's filesystem queries over one store handle; statements are prepared once.
export class DiskQueries {
  private readonly s;
  private readonly maintenance: Maintenance;

  constructor(db: Database.Database) {
    const p = (sql: string): Database.Statement => db.prepare(sql);
    this.s = {
      hostId: p('SELECT id FROM hosts WHERE name = ?').pluck(),
      // Driven from hosts: one primary-key look-up of each host's latest details row, not a scan of them all.
      fullest: p(`SELECT name, max(${USED_PCT}) FROM (
        SELECT h.name, j.value ->> 3 AS used_kb, j.value ->> 4 AS available_kb
        FROM hosts h JOIN details d ON d.host_id = h.id AND d.at = (SELECT max(at) FROM samples WHERE host_id = h.id), json_each(d.disks) j)
        GROUP BY name`).raw(),
      raw: p(`SELECT mount, at / ? * ? AS t, avg(${USED_PCT}) FROM ${diskRows('d.host_id = ? AND d.at >= ? AND d.at < ?')} GROUP BY mount, t`).raw(),
      hourly: p('SELECT mount, hour / ? * ? AS t, avg(used_pct_avg) FROM hourly_disks WHERE host_id = ? AND hour >= ? AND hour < ? GROUP BY mount, t').raw(),
      trend: p(`SELECT mount, count(*), sum(t), sum(t * t), sum(y), sum(t * y), max(t)
        FROM (SELECT mount, (at - ?) / 86400.0 AS t, used_kb / ${KB_PER_GB}.0 AS y FROM ${diskRows('d.host_id = ? AND d.at >= ? AND d.at < ?')}) GROUP BY mount`).raw(),
      last: p(`SELECT mount, used_kb, available_kb, ${USED_PCT}
        FROM ${diskRows('d.host_id = ? AND d.at = (SELECT max(at) FROM details WHERE host_id = ? AND at >= ? AND at < ? AND disks IS NOT NULL)')}`).raw(),
    };
    this.maintenance = new Maintenance(db);
  }

  /** The used % of each host's fullest filesystem at its latest poll, by host name (absent: no disks then). */
  fullestByHost(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [name, pct] of this.s.fullest.all() as [string, number | null][]) if (pct !== null) out.set(name, pct);
    return out;
  }

  /**
   * Each mount's used % over [from, to) in `count` buckets of `stepSec` starting at `first` (a multiple of the step);
   * null for an unknown host. Steps of an hour or more read the hourly rollup where it is complete.
   */
  series(host: string, first: number, to: number, stepSec: number): DiskSeries[] | null {
    const hostId = this.s.hostId.get(host) as number | undefined;
    if (hostId === undefined) return null;
    const count = Math.ceil((to - first) / stepSec);
    const byMount = new Map<string, { sum: Float64Array; n: Float64Array }>();
    const add = (rows: [string, number, number | null][]): void => {
      for (const [mount, t, pct] of rows) {
        const i = Math.floor((t - first) / stepSec);
        if (pct === null || i < 0 || i >= count) continue;
        let m = byMount.get(mount);
        if (m === undefined) byMount.set(mount, (m = { sum: new Float64Array(count), n: new Float64Array(count) }));
        m.sum[i] = (m.sum[i] as number) + pct;
        m.n[i] = (m.n[i] as number) + 1;
      }
    };
    let split = first;
    if (stepSec >= HOUR && stepSec % HOUR === 0) {
      split = Math.max(first, Math.min(to, this.maintenance.rolledUpTo() ?? first));
      if (split > first) add(this.s.hourly.all(stepSec, stepSec, hostId, first, split) as [string, number, number | null][]);
    }
    if (to > split) add(this.s.raw.all(stepSec, stepSec, hostId, split, to) as [string, number, number | null][]);
    return [...byMount]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([mount, { sum, n }]) => ({ mount, usedPct: Array.from(sum, (s, i) => ((n[i] as number) > 0 ? s / (n[i] as number) : null)) }));
  }

  /** Per mount, the trend sums of used GB over [from, to) and the capacity at the last reading; null for an unknown host. */
  trends(host: string, from: number, to: number): DiskTrend[] | null {
    const hostId = this.s.hostId.get(host) as number | undefined;
    if (hostId === undefined) return null;
    const last = new Map<string, [number, number, number | null]>();
    for (const [mount, used, available, pct] of this.s.last.all(hostId, hostId, from, to) as [string, number, number, number | null][]) {
      last.set(mount, [used, available, pct]);
    }
    const out: DiskTrend[] = [];
    for (const [mount, n, t, tt, y, ty, maxT] of this.s.trend.all(from, hostId, from, to) as [string, number, number, number, number, number, number][]) {
      const l = last.get(mount);
      // A mount gone by the last poll has no capacity to forecast against.
      if (l === undefined) continue;
      out.push({ mount, sums: { n, t, tt, y, ty }, lastT: maxT, capacityGb: (l[0] + l[1]) / KB_PER_GB, usedPct: l[2] });
    }
    return out.sort((a, b) => (a.mount < b.mount ? -1 : a.mount > b.mount ? 1 : 0));
  }
}
