// The two orders fleetpoll ranks a host's processes by (log.csv's top_cpu/top_mem, alert mail), and
// picking the first few without sorting the whole list: ~14 processes a host, 3 wanted, every poll.
import type { Proc } from './model.js';

/** Compares two processes; negative when the first ranks higher. */
export type ProcOrder = (a: Proc, b: Proc) => number;

// Ties fall to the other measure, then to the pid, so the order is total and the result repeatable.
export const byCpu: ProcOrder = (a, b) => b.cpuPct - a.cpuPct || b.rssKb - a.rssKb || a.pid - b.pid;
export const byMemory: ProcOrder = (a, b) => b.rssKb - a.rssKb || b.cpuPct - a.cpuPct || a.pid - b.pid;

/** The `count` highest-ranked processes in `order`, best first, each pid once (its best record). */
export function topProcesses(procs: readonly Proc[], order: ProcOrder, count: number): Proc[] {
  const top: Proc[] = [];
  if (count <= 0) return top;
  for (const proc of procs) {
    const same = top.findIndex((p) => p.pid === proc.pid);
    if (same !== -1) {
      if (order(top[same] as Proc, proc) <= 0) continue;
      top.splice(same, 1);
    }
    if (top.length === count && order(proc, top[count - 1] as Proc) >= 0) continue;
    // Insertion into the short ranked list; when it is full, its last entry drops out.
    let index = top.length === count ? count - 1 : top.length;
    while (index > 0 && order(proc, top[index - 1] as Proc) < 0) {
      top[index] = top[index - 1] as Proc;
      index -= 1;
    }
    top[index] = proc;
  }
  return top;
}
