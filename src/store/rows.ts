// PollResult -> CSV rows (arrays of final cell text, in the order of the column lists). Pure.
import type { Disk, PollResult, Sample } from '../model.js';
import { byCpu, byMemory, topProcesses } from '../process-rank.js';
import { DISK_COLUMNS, LOG_COLUMNS, PROCESS_COLUMNS, USER_COLUMNS } from './columns.js';
import type { CellFormatter } from './format.js';
import { compareServerNames } from '../server-names.js';

// One CSV record, cells already formatted and neutralised.
export type Row = readonly string[];

const TOP_N = 3;

// Orders results by server name (stable and deterministic, ties broken by code units).
export function compareByServer(a: PollResult, b: PollResult): number {
  return compareServerNames(a.host.name, b.host.name);
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

// The rows are built as tuples in column order: ~3,000 rows a poll at 200 hosts, where a keyed object
// per row, mapped through the column list, cost twice the time (bench/poll.ts). RowOf ties each
// tuple's length to its column list; rows.test.ts checks every cell by column name.
type RowOf<C extends readonly string[]> = { readonly [K in keyof C]: string };

// The log.csv / recentlog.csv row of one host; a failed host keeps identity and error, metrics empty.
export function logRow(result: PollResult, cycleStart: Date, fmt: CellFormatter): RowOf<typeof LOG_COLUMNS> {
  const time = fmt.time(cycleStart);
  const server = fmt.text(result.host.name);
  const address = fmt.text(result.host.address);
  const transport = fmt.text(result.host.transport);
  const durationMs = fmt.integer(result.durationMs);
  if (result.status !== 'ok') {
    const identity = [time, server, address, transport, fmt.text(result.status), fmt.text(result.phase), fmt.text(result.error), durationMs];
    const cells: readonly string[] = LOG_COLUMNS.map((_, index) => identity[index] ?? '');
    return cells as RowOf<typeof LOG_COLUMNS>;
  }
  const { sample } = result;
  const { mem, load } = sample;
  const memUsedKb = mem.totalKb - mem.availableKb;
  const swapUsedKb = mem.swapTotalKb - mem.swapFreeKb;
  const worst = worstDisk(sample.disks);
  const users = [...new Set(sample.sessions.map((session) => session.user))].sort();
  const topCpu = topProcesses(sample.procs, byCpu, TOP_N).map((p) => `${p.name} [${p.user}] ${fmt.pct(p.cpuPct)}%`);
  const topMem = topProcesses(sample.procs, byMemory, TOP_N).map((p) => `${p.name} [${p.user}] ${fmt.kbAsMb(p.rssKb)} MB`);
  return [
    time,
    server,
    address,
    transport,
    'ok', // status
    '', // phase
    '', // error
    durationMs,
    fmt.text(sample.hostname),
    fmt.text(sample.osPretty !== '' ? sample.osPretty : sample.osFamily), // os
    fmt.text(sample.osVersion), // kernel
    fmt.fixed(sample.uptimeSec / 86400, 2), // uptime_days
    fmt.integer(sample.cpuCores),
    fmt.pct(sample.cpuBusyPct),
    fmt.fixed(load?.m1, 2),
    fmt.fixed(load?.m5, 2),
    fmt.fixed(load?.m15, 2),
    load !== null && sample.cpuCores > 0 ? fmt.fixed(load.m1 / sample.cpuCores, 2) : '', // load_per_core
    fmt.kbAsGb(mem.totalKb),
    fmt.kbAsGb(memUsedKb),
    fmt.kbAsGb(mem.availableKb),
    mem.totalKb > 0 ? fmt.pct((memUsedKb / mem.totalKb) * 100) : '', // mem_pct
    fmt.kbAsGb(mem.swapTotalKb),
    fmt.kbAsGb(swapUsedKb),
    mem.swapTotalKb > 0 ? fmt.pct((swapUsedKb / mem.swapTotalKb) * 100) : '', // swap_pct
    worst === null ? '' : fmt.text(worst.disk.mount),
    worst === null ? '' : fmt.pct(worst.usedPct),
    worst === null ? '' : fmt.kbAsGb(worst.disk.availableKb),
    fmt.text(topCpu.join('; ')),
    fmt.text(topMem.join('; ')),
    fmt.text(users.join(' ')), // logged_in
    fmt.text(sample.warnings.join('; ')), // notes
  ];
}

// One row per detail record of a reachable host (none for a failed host), each led by time and server.
function detailRows<T, R>(
  result: PollResult,
  cycleStart: Date,
  fmt: CellFormatter,
  records: (sample: Sample) => readonly T[],
  row: (record: T, time: string, server: string) => R,
): R[] {
  if (result.status !== 'ok') return [];
  const time = fmt.time(cycleStart);
  const server = fmt.text(result.host.name);
  return records(result.sample).map((record) => row(record, time, server));
}

// The processes.csv rows of one host.
export function processRows(result: PollResult, cycleStart: Date, fmt: CellFormatter): RowOf<typeof PROCESS_COLUMNS>[] {
  return detailRows(result, cycleStart, fmt, (sample) => sample.procs, (proc, time, server) => [
    time,
    server,
    fmt.integer(proc.pid),
    fmt.text(proc.user),
    fmt.text(proc.name),
    fmt.pct(proc.cpuPct),
    fmt.kbAsMb(proc.rssKb),
  ]);
}

// The disks.csv rows of one host.
export function diskRows(result: PollResult, cycleStart: Date, fmt: CellFormatter): RowOf<typeof DISK_COLUMNS>[] {
  return detailRows(result, cycleStart, fmt, (sample) => sample.disks, (disk, time, server) => [
    time,
    server,
    fmt.text(disk.mount),
    fmt.text(disk.fsType),
    fmt.kbAsGb(disk.totalKb),
    fmt.kbAsGb(disk.usedKb),
    fmt.kbAsGb(disk.availableKb),
    fmt.pct(diskUsedPct(disk)),
  ]);
}

// The users.csv rows of one host.
export function userRows(result: PollResult, cycleStart: Date, fmt: CellFormatter): RowOf<typeof USER_COLUMNS>[] {
  return detailRows(result, cycleStart, fmt, (sample) => sample.users, (user, time, server) => [
    time,
    server,
    fmt.text(user.user),
    fmt.pct(user.cpuPct),
    fmt.kbAsMb(user.rssKb),
    fmt.integer(user.processCount),
  ]);
}
