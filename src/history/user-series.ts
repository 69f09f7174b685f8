// The per-user CPU and memory of one host over time (the dashboard's stacked areas): for each bucket of a
// range, each user's CPU % and resident kB averaged over the bucket's successful polls. A user without
// processes in a successful poll counts as 0 there (so the stack adds up); a bucket without a successful
// poll is null for everyone (a gap: failed polls are never interpolated). Buckets of an hour or more come
// from the hourly rollups, shorter ones from the raw rows, as series() does.
import type Database from 'better-sqlite3';
import type { Maintenance } from './maintain.js';
import { bucketStep, checkRange } from './range.js';

// One user's values, one per bucket of UsersSeries.times.
export interface UserSeries {
  readonly user: string;
  /** CPU % as the probe reports it per user: the sum over the user's processes, 100 = one core fully busy. */
  readonly cpuPct: (number | null)[];
  /** Resident memory in kB (the sum of the user's processes' RSS). */
  readonly rssKb: (number | null)[];
}

// The per-user series of a host.
export interface UsersSeries {
  readonly host: string;
  readonly from: number;
  readonly to: number;
  readonly step: number;
  /** Logical cores and memory total of the host's latest successful poll before `to` (null when it has none). */
  readonly cores: number | null;
  readonly memTotalKb: number | null;
  /** Bucket starts, epoch seconds UTC. */
  readonly times: number[];
  /** Busiest first (CPU over the range, then memory, then name). */
  readonly users: UserSeries[];
}

const HOUR = 3600;

// (bucket, successful polls) and (bucket, user, CPU % summed over the polls, kB summed over the polls).
type OkRow = [number, number];
type UserRow = [number, string, number, number];

// The statements of usersSeries(), prepared once per store handle; input only ever as bound parameters.
export class UserSeriesQuery {
  private readonly s;

  constructor(
    db: Database.Database,
    private readonly maintenance: Maintenance,
  ) {
    const p = (sql: string): Database.Statement => db.prepare(sql);
    this.s = {
      hostId: p('SELECT id FROM hosts WHERE name = ?').pluck(),
      shape: p("SELECT cpu_cores, mem_total_kb FROM samples WHERE host_id = ? AND at < ? AND status = 'ok' ORDER BY at DESC LIMIT 1").raw(),
      rawOk: p("SELECT at / ? * ? AS t, sum(status = 'ok') FROM samples WHERE host_id = ? AND at >= ? AND at < ? GROUP BY t").raw(),
      rawUsers: p('SELECT at / ? * ? AS t, user, sum(cpu_pct), sum(rss_kb) FROM users WHERE host_id = ? AND at >= ? AND at < ? GROUP BY t, user').raw(),
      hourlyOk: p('SELECT hour, ok FROM hourly WHERE host_id = ? AND hour >= ? AND hour < ?').raw(),
      hourlyUsers: p('SELECT hour, user, cpu_pct_avg * polls, rss_kb_avg * polls FROM hourly_users WHERE host_id = ? AND hour >= ? AND hour < ?').raw(),
    };
  }

  /** Per-user series of `host` over [from, to) (users in `exclude` left out); null for an unknown host; QueryError when bad. */
  run(host: string, from: number, to: number, stepSec: number | undefined, exclude: readonly string[]): UsersSeries | null {
    checkRange(from, to);
    const { step, hourly } = bucketStep(from, to, stepSec);
    const hostId = this.s.hostId.get(host) as number | undefined;
    if (hostId === undefined) return null;

    const buckets = new UserBuckets(from, to, step, new Set(exclude));
    const raw = (rawFrom: number, rawTo: number, rawStep: number): void => {
      if (rawTo <= rawFrom) return;
      buckets.addOk(this.s.rawOk.all(rawStep, rawStep, hostId, rawFrom, rawTo) as OkRow[]);
      buckets.addUsers(this.s.rawUsers.all(rawStep, rawStep, hostId, rawFrom, rawTo) as UserRow[]);
    };
    if (!hourly) {
      raw(from, to, step);
    } else {
      // Rolled-up hours from the rollups; the rest (the current hour, a backlog) from raw rows, by hour.
      const split = Math.max(from, Math.min(to, this.maintenance.rolledUpTo() ?? from));
      if (split > from) {
        buckets.addOk(this.s.hourlyOk.all(hostId, from, split) as OkRow[]);
        buckets.addUsers(this.s.hourlyUsers.all(hostId, from, split) as UserRow[]);
      }
      raw(split, to, HOUR);
    }
    const shape = this.s.shape.get(hostId, to) as [number | null, number | null] | undefined;
    return { host, from, to, step, cores: shape?.[0] ?? null, memTotalKb: shape?.[1] ?? null, times: buckets.times(), users: buckets.users() };
  }
}

// Sums per bucket (of rows as fine as or finer than the step) and the successful polls they are divided by.
class UserBuckets {
  private readonly first: number;
  private readonly ok: Float64Array;
  private readonly sums = new Map<string, { cpu: Float64Array; rss: Float64Array; cpuTotal: number; rssTotal: number }>();

  constructor(
    from: number,
    to: number,
    private readonly step: number,
    private readonly exclude: ReadonlySet<string>,
  ) {
    this.first = Math.floor(from / step) * step;
    this.ok = new Float64Array(Math.ceil((to - this.first) / step));
  }

  private index(t: number): number {
    const i = Math.floor((t - this.first) / this.step);
    return i >= 0 && i < this.ok.length ? i : -1;
  }

  addOk(rows: readonly OkRow[]): void {
    for (const [t, ok] of rows) {
      const i = this.index(t);
      if (i >= 0) this.ok[i] = (this.ok[i] as number) + ok;
    }
  }

  addUsers(rows: readonly UserRow[]): void {
    for (const [t, user, cpu, rss] of rows) {
      const i = this.index(t);
      if (i < 0 || this.exclude.has(user)) continue;
      let sums = this.sums.get(user);
      if (sums === undefined) {
        sums = { cpu: new Float64Array(this.ok.length), rss: new Float64Array(this.ok.length), cpuTotal: 0, rssTotal: 0 };
        this.sums.set(user, sums);
      }
      sums.cpu[i] = (sums.cpu[i] as number) + cpu;
      sums.rss[i] = (sums.rss[i] as number) + rss;
      sums.cpuTotal += cpu;
      sums.rssTotal += rss;
    }
  }

  times(): number[] {
    return Array.from(this.ok, (_, i) => this.first + i * this.step);
  }

  users(): UserSeries[] {
    const ok = this.ok;
    // CPU to 0.01 % and memory to whole kB: the probe's own precision is coarser, and the JSON stays small.
    const average = (sums: Float64Array, digits: number): (number | null)[] =>
      Array.from(sums, (sum, i) => {
        const n = ok[i] as number;
        return n > 0 ? Math.round((sum / n) * digits) / digits : null;
      });
    return [...this.sums]
      .sort(([a, x], [b, y]) => y.cpuTotal - x.cpuTotal || y.rssTotal - x.rssTotal || (a < b ? -1 : a > b ? 1 : 0))
      .map(([user, sums]) => ({ user, cpuPct: average(sums.cpu, 100), rssKb: average(sums.rss, 1) }));
  }
}
