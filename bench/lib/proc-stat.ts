// A process's CPU from /proc/<pid>/stat, as the benchmarks measure the processes they start.

// USER_HZ: the unit of /proc/<pid>/stat times on every Linux build that matters here.
const TICKS_PER_SECOND = 100;

// The figures of one /proc/<pid>/stat.
export interface ProcStat {
  readonly ppid: number;
  /** User + system CPU of the process itself, ms (10 ms resolution). */
  readonly cpuMs: number;
  /** User + system CPU of the children it has reaped, ms. */
  readonly reapedCpuMs: number;
}

/** Parses the text of /proc/<pid>/stat. */
export function parseProcStat(stat: string): ProcStat {
  // The command name is in parentheses and may hold spaces: fields count from after the last ')'.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ms = (a: number, b: number): number => ((Number(f[a]) + Number(f[b])) * 1000) / TICKS_PER_SECOND;
  return { ppid: Number(f[1]), cpuMs: ms(11, 12), reapedCpuMs: ms(13, 14) };
}
