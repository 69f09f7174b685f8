// Read queries over every host at once, for the dashboard's overview: CPU % and memory % averages per
// step for each host (the 24 h sparklines, the heatmap). One lean statement per host and source (the
// hourly rollup where it is complete, raw samples after it), both metrics at once, values only: the
// full series() per host, with statuses and maxima, cost the overview about twice the CPU.
import type Database from 'better-sqlite3';
import { Maintenance } from './maintain.js';

const HOUR = 3600;
const MEM_PCT = 'CASE WHEN mem_total_kb > 0 THEN (mem_total_kb - mem_available_kb) * 100.0 / mem_total_kb END';

// One host's averages per step; null where no poll succeeded.
export interface FleetRow {
  readonly host: string;
  readonly cpuPct: (number | null)[];
  readonly memPct: (number | null)[];
}

type Row = [number, number | null, number | null, number | null, number | null];

// The fleet-wide queries over one store handle; statements are prepared once.
export class FleetQueries {
  private readonly s;
  private readonly maintenance: Maintenance;

  constructor(db: Database.Database) {
    const p = (sql: string): Database.Statement => db.prepare(sql);
    this.s = {
      hosts: p('SELECT id, name FROM hosts ORDER BY name').raw(),
      raw: p(`SELECT t, sum(c), count(c), sum(m), count(m)
        FROM (SELECT at / ? * ? AS t, cpu_pct AS c, ${MEM_PCT} AS m FROM samples WHERE host_id = ? AND at >= ? AND at < ?) GROUP BY t`).raw(),
      // Rollup averages weighted by the successful polls they hold.
      hourly: p(`SELECT hour / ? * ? AS t, sum(cpu_pct_avg * ok), sum(CASE WHEN cpu_pct_avg IS NOT NULL THEN ok END),
          sum(mem_pct_avg * ok), sum(CASE WHEN mem_pct_avg IS NOT NULL THEN ok END)
        FROM hourly WHERE host_id = ? AND hour >= ? AND hour < ? GROUP BY t`).raw(),
    };
    this.maintenance = new Maintenance(db);
  }

  /**
   * Every host's CPU % and memory % averages per step over [first, to), `first` a multiple of `stepSec`, by name.
   * Steps of whole hours read the hourly rollup where it is complete.
   */
  averages(first: number, to: number, stepSec: number): FleetRow[] {
    const count = Math.max(0, Math.ceil((to - first) / stepSec));
    const split = stepSec % HOUR === 0 ? Math.max(first, Math.min(to, this.maintenance.rolledUpTo() ?? first)) : first;
    const out: FleetRow[] = [];
    for (const [id, host] of this.s.hosts.all() as [number, string][]) {
      const acc = [new Float64Array(count), new Float64Array(count), new Float64Array(count), new Float64Array(count)] as const;
      const add = (rows: Row[]): void => {
        for (const row of rows) {
          const i = Math.floor((row[0] - first) / stepSec);
          if (i < 0 || i >= count) continue;
          for (let k = 0; k < 4; k += 1) acc[k]![i] = (acc[k]![i] as number) + ((row[k + 1] as number | null) ?? 0);
        }
      };
      if (split > first) add(this.s.hourly.all(stepSec, stepSec, id, first, split) as Row[]);
      if (to > split) add(this.s.raw.all(stepSec, stepSec, id, split, to) as Row[]);
      const avg = (sum: Float64Array, n: Float64Array): (number | null)[] => Array.from(sum, (s, i) => ((n[i] as number) > 0 ? s / (n[i] as number) : null));
      out.push({ host, cpuPct: avg(acc[0], acc[1]), memPct: avg(acc[2], acc[3]) });
    }
    return out;
  }
}
