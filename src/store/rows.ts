// PollResult -> CSV rows (arrays of final cell text, in the order of the column lists). Pure.
import type { Disk, PollResult, Proc, Sample } from '../model.js';
import {
  DISK_COLUMNS,
  LOG_COLUMNS,
  PROCESS_COLUMNS,
  USER_COLUMNS,
  type DiskColumn,
  type LogColumn,
  type ProcessColumn,
  type UserColumn,
} from './columns.js';
import type { CellFormatter } from './format.js';

// One CSV record, cells already formatted and neutralised.
export type Row = readonly string[];

const TOP_N = 3;

// Orders results by server name (stable and deterministic, ties broken by code units).
export function compareByServer(a: PollResult, b: PollResult): number {
  return compareServerNames(a.host.name, b.host.name);
}

const isDigit = (code: number): boolean => code >= 48 && code <= 57;
// ASCII letters fold to lower case; hostnames are ASCII, and anything else keeps its code unit.
const folded = (code: number): number => (code >= 65 && code <= 90 ? code + 32 : code);

// The same order for bare names (rows carried over from an earlier snapshot): numbers inside names compare
// by value, so web2 sorts before web10 as an admin scanning the sheet expects, and letters ignore case.
// Hand-written rather than an Intl.Collator: building one costs ~8 ms of ICU start-up in every run, and
// its order would vary with the ICU data Node was built with.
export function compareServerNames(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(j);
    if (isDigit(ca) && isDigit(cb)) {
      // Compare the digit runs by value: skip leading zeros, then the longer run is larger, else the first difference.
      while (a.charCodeAt(i) === 48 && isDigit(a.charCodeAt(i + 1))) i += 1;
      while (b.charCodeAt(j) === 48 && isDigit(b.charCodeAt(j + 1))) j += 1;
      let endA = i;
      let endB = j;
      while (isDigit(a.charCodeAt(endA))) endA += 1;
      while (isDigit(b.charCodeAt(endB))) endB += 1;
      if (endA - i !== endB - j) return endA - i - (endB - j);
      for (; i < endA; i += 1, j += 1) {
        const d = a.charCodeAt(i) - b.charCodeAt(j);
        if (d !== 0) return d;
      }
      continue;
    }
    const d = folded(ca) - folded(cb);
    if (d !== 0) return d;
    i += 1;
    j += 1;
  }
  const byLength = a.length - i - (b.length - j);
  if (byLength !== 0) return byLength;
  return a < b ? -1 : a > b ? 1 : 0;
}

function toRow<C extends string>(columns: readonly C[], cells: Record<C, string>): Row {
  return columns.map((column) => cells[column]);
}

// df's Use%: used / (used + available), because root-reserved blocks are neither.
export function diskUsedPct(disk: Disk): number | null {
  const denominator = disk.usedKb + disk.availableKb;
  return denominator > 0 ? (disk.usedKb / denominator) * 100 : null;
}

function worstDisk(disks: readonly Disk[]): { disk: Disk; usedPct: number } | null {
  let worst: { disk: Disk; usedPct: number } | null = null;
  for (const disk of disks) {
    const usedPct = diskUsedPct(disk);
    if (usedPct !== null && (worst === null || usedPct > worst.usedPct)) worst = { disk, usedPct };
  }
  return worst;
}

function topBy(procs: readonly Proc[], key: 'cpuPct' | 'rssKb'): Proc[] {
  const other = key === 'cpuPct' ? 'rssKb' : 'cpuPct';
  return [...procs]
    .sort((a, b) => b[key] - a[key] || b[other] - a[other] || a.pid - b.pid)
    .slice(0, TOP_N);
}

// Columns every row has, reachable or not; the rest are metrics of a sample.
type IdentityColumn = 'time' | 'server' | 'address' | 'transport' | 'status' | 'phase' | 'error' | 'duration_ms';

const EMPTY_METRICS = Object.fromEntries(
  LOG_COLUMNS.map((column) => [column, '']),
) as Omit<Record<LogColumn, string>, IdentityColumn>;

function metricCells(sample: Sample, fmt: CellFormatter): Omit<Record<LogColumn, string>, IdentityColumn> {
  const { mem, load } = sample;
  const memUsedKb = mem.totalKb - mem.availableKb;
  const swapUsedKb = mem.swapTotalKb - mem.swapFreeKb;
  const worst = worstDisk(sample.disks);
  const users = [...new Set(sample.sessions.map((session) => session.user))].sort();
  const topCpu = topBy(sample.procs, 'cpuPct').map((p) => `${p.name} [${p.user}] ${fmt.pct(p.cpuPct)}%`);
  const topMem = topBy(sample.procs, 'rssKb').map((p) => `${p.name} [${p.user}] ${fmt.kbAsMb(p.rssKb)} MB`);
  return {
    hostname: fmt.text(sample.hostname),
    os: fmt.text(sample.osPretty !== '' ? sample.osPretty : sample.osFamily),
    kernel: fmt.text(sample.osVersion),
    uptime_days: fmt.fixed(sample.uptimeSec / 86400, 2),
    cores: fmt.integer(sample.cpuCores),
    cpu_pct: fmt.pct(sample.cpuBusyPct),
    load_1m: fmt.fixed(load?.m1, 2),
    load_5m: fmt.fixed(load?.m5, 2),
    load_15m: fmt.fixed(load?.m15, 2),
    load_per_core: load !== null && sample.cpuCores > 0 ? fmt.fixed(load.m1 / sample.cpuCores, 2) : '',
    mem_total_gb: fmt.kbAsGb(mem.totalKb),
    mem_used_gb: fmt.kbAsGb(memUsedKb),
    mem_available_gb: fmt.kbAsGb(mem.availableKb),
    mem_pct: mem.totalKb > 0 ? fmt.pct((memUsedKb / mem.totalKb) * 100) : '',
    swap_total_gb: fmt.kbAsGb(mem.swapTotalKb),
    swap_used_gb: fmt.kbAsGb(swapUsedKb),
    swap_pct: mem.swapTotalKb > 0 ? fmt.pct((swapUsedKb / mem.swapTotalKb) * 100) : '',
    disk_worst_mount: worst === null ? '' : fmt.text(worst.disk.mount),
    disk_worst_pct: worst === null ? '' : fmt.pct(worst.usedPct),
    disk_worst_free_gb: worst === null ? '' : fmt.kbAsGb(worst.disk.availableKb),
    top_cpu: fmt.text(topCpu.join('; ')),
    top_mem: fmt.text(topMem.join('; ')),
    logged_in: fmt.text(users.join(' ')),
    notes: fmt.text(sample.warnings.join('; ')),
  };
}

// The log.csv / recentlog.csv row of one host; a failed host keeps identity and error, metrics empty.
export function logRow(result: PollResult, cycleStart: Date, fmt: CellFormatter): Row {
  const identity: Record<IdentityColumn, string> = {
    time: fmt.time(cycleStart),
    server: fmt.text(result.host.name),
    address: fmt.text(result.host.address),
    transport: fmt.text(result.host.transport),
    status: fmt.text(result.status),
    phase: result.status === 'ok' ? '' : fmt.text(result.phase),
    error: result.status === 'ok' ? '' : fmt.text(result.error),
    duration_ms: fmt.integer(result.durationMs),
  };
  const metrics = result.status === 'ok' ? metricCells(result.sample, fmt) : EMPTY_METRICS;
  // Object.assign, not spread: V8's spread of these two objects was a third of this function's cost.
  return toRow<LogColumn>(LOG_COLUMNS, Object.assign({}, metrics, identity));
}

// The processes.csv rows of one host (none for a failed host).
export function processRows(result: PollResult, cycleStart: Date, fmt: CellFormatter): Row[] {
  if (result.status !== 'ok') return [];
  const time = fmt.time(cycleStart);
  const server = fmt.text(result.host.name);
  return result.sample.procs.map((proc) =>
    toRow<ProcessColumn>(PROCESS_COLUMNS, {
      time,
      server,
      pid: fmt.integer(proc.pid),
      user: fmt.text(proc.user),
      process: fmt.text(proc.name),
      cpu_pct: fmt.pct(proc.cpuPct),
      mem_mb: fmt.kbAsMb(proc.rssKb),
    }),
  );
}

// The disks.csv rows of one host (none for a failed host).
export function diskRows(result: PollResult, cycleStart: Date, fmt: CellFormatter): Row[] {
  if (result.status !== 'ok') return [];
  const time = fmt.time(cycleStart);
  const server = fmt.text(result.host.name);
  return result.sample.disks.map((disk) =>
    toRow<DiskColumn>(DISK_COLUMNS, {
      time,
      server,
      mount: fmt.text(disk.mount),
      fstype: fmt.text(disk.fsType),
      total_gb: fmt.kbAsGb(disk.totalKb),
      used_gb: fmt.kbAsGb(disk.usedKb),
      free_gb: fmt.kbAsGb(disk.availableKb),
      used_pct: fmt.pct(diskUsedPct(disk)),
    }),
  );
}

// The users.csv rows of one host (none for a failed host).
export function userRows(result: PollResult, cycleStart: Date, fmt: CellFormatter): Row[] {
  if (result.status !== 'ok') return [];
  const time = fmt.time(cycleStart);
  const server = fmt.text(result.host.name);
  return result.sample.users.map((user) =>
    toRow<UserColumn>(USER_COLUMNS, {
      time,
      server,
      user: fmt.text(user.user),
      cpu_pct: fmt.pct(user.cpuPct),
      mem_mb: fmt.kbAsMb(user.rssKb),
      processes: fmt.integer(user.processCount),
    }),
  );
}
