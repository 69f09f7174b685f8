// Generates history CSVs as fleetpoll writes them (rows.ts + csv.ts, so the format is the real one) for a
// synthetic fleet: deterministic, with trends, failures and optional detail logs. Used by the report
// tests and by bench/report.ts.
import { closeSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { PollResult, Sample } from '../../src/model.js';
import { DISK_COLUMNS, LOG_COLUMNS, PROCESS_COLUMNS, USER_COLUMNS } from '../../src/store/columns.js';
import { encodeRecords, fileHead, type Delimiter } from '../../src/store/csv.js';
import { cellFormatter } from '../../src/store/format.js';
import { diskRows, logRow, processRows, userRows } from '../../src/store/rows.js';
import { host } from './store-fixtures.js';

const GIB_KB = 1024 * 1024;

// What to generate.
export interface FleetSpec {
  readonly servers: number;
  /** First poll (UTC). */
  readonly start: Date;
  readonly days: number;
  readonly pollMinutes: number;
  readonly seed?: number;
  /** Share of polls that fail (default 0.01). */
  readonly failureRate?: number;
  /** Also write processes.csv, disks.csv and users.csv. */
  readonly details?: boolean;
  readonly delimiter?: Delimiter;
  /** Override a host's sample (e.g. a hostile process name). */
  readonly tweak?: (server: number, sample: Sample) => void;
  /** Encode with a plain RFC 4180 joiner instead of csv-stringify (same bytes, much faster: the benchmark). */
  readonly fastEncode?: boolean;
}

// RFC 4180 as csv.ts writes it: quote a cell holding the delimiter, a quote, CR or LF; CRLF after each record.
function joinRecords(rows: readonly (readonly string[])[], delimiter: string): string {
  let out = '';
  for (const row of rows) {
    for (let i = 0; i < row.length; i += 1) {
      const cell = row[i] ?? '';
      if (i > 0) out += delimiter;
      out += cell.includes(delimiter) || /["\r\n]/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell;
    }
    out += '\r\n';
  }
  return out;
}

// Deterministic PRNG (mulberry32), so a failing test can be re-run with the same data.
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// The name of generated server i.
export function serverName(i: number): string {
  return `srv${String(i + 1).padStart(4, '0')}`;
}

// Streams the generated polls into `dataDir`'s history files (created with BOM and header); returns the row count of log.csv.
export function writeFleetLogs(dataDir: string, spec: FleetSpec): number {
  const delimiter = spec.delimiter ?? ',';
  const dialect = { delimiter };
  const encode = (rows: readonly (readonly string[])[]): string => (spec.fastEncode === true ? joinRecords(rows, delimiter) : encodeRecords(rows, dialect));
  const fmt = cellFormatter(delimiter === ';' ? ',' : '.');
  const random = prng(spec.seed ?? 1);
  const failureRate = spec.failureRate ?? 0.01;
  const files = {
    log: openWith(path.join(dataDir, 'log.csv'), fileHead(LOG_COLUMNS, dialect)),
    processes: spec.details === true ? openWith(path.join(dataDir, 'processes.csv'), fileHead(PROCESS_COLUMNS, dialect)) : null,
    disks: spec.details === true ? openWith(path.join(dataDir, 'disks.csv'), fileHead(DISK_COLUMNS, dialect)) : null,
    users: spec.details === true ? openWith(path.join(dataDir, 'users.csv'), fileHead(USER_COLUMNS, dialect)) : null,
  };
  const hosts = Array.from({ length: spec.servers }, (_, i) => host(serverName(i), { address: `10.${(i >> 8) & 255}.${i & 255}.1` }));
  // Per-server character: size, load level, memory growth per day.
  const profile = hosts.map((_, i) => ({
    memGb: [4, 8, 16, 32, 64][i % 5] ?? 8,
    cpuBase: 5 + random() * 60,
    memBase: 0.2 + random() * 0.5,
    memGrowthPerDay: (random() - 0.3) * 0.02,
    diskGb: [50, 100, 500][i % 3] ?? 100,
    diskBase: 0.3 + random() * 0.5,
    // Every fourth disk fills fast, so reports have capacity warnings to show.
    diskGrowthPerDay: i % 4 === 3 ? 0.012 + random() * 0.01 : (random() - 0.2) * 0.01,
  }));
  const polls = Math.round((spec.days * 24 * 60) / spec.pollMinutes);
  let rows = 0;
  try {
    for (let p = 0; p < polls; p += 1) {
      const cycleStart = new Date(spec.start.getTime() + p * spec.pollMinutes * 60_000);
      const elapsedDays = (p * spec.pollMinutes) / 1440;
      const results: PollResult[] = hosts.map((h, i) => {
        const pr = profile[i] ?? profile[0]!;
        if (random() < failureRate) {
          const failures = [
            ['timeout', 'connect', 'no answer within 30 s'],
            ['unreachable', 'connect', 'connection refused'],
            ['auth_failed', 'auth', 'all credentials refused'],
          ] as const;
          const [status, phase, error] = failures[Math.floor(random() * failures.length)] ?? failures[0];
          return { host: h, status, phase, error, startedAt: cycleStart, durationMs: 30000, attempts: 1 };
        }
        const totalKb = pr.memGb * GIB_KB;
        const memShare = Math.min(0.98, Math.max(0.02, pr.memBase + pr.memGrowthPerDay * elapsedDays + (random() - 0.5) * 0.1));
        const diskTotalKb = pr.diskGb * GIB_KB;
        const diskShare = Math.min(0.99, Math.max(0.01, pr.diskBase + pr.diskGrowthPerDay * elapsedDays + random() * 0.001));
        const usedKb = Math.round(diskTotalKb * diskShare);
        const sample: Sample = {
          hostname: h.name,
          osFamily: 'linux',
          osVersion: '6.1.0-18',
          osPretty: 'Debian 12',
          uptimeSec: 86400 * 12,
          cpuCores: 4,
          cpuBusyPct: Math.min(100, Math.max(0, pr.cpuBase + (random() - 0.5) * 40)),
          load: { m1: random() * 4, m5: 1, m15: 1 },
          mem: { totalKb, availableKb: Math.round(totalKb * (1 - memShare)), freeKb: 0, swapTotalKb: 2 * GIB_KB, swapFreeKb: Math.round(2 * GIB_KB * (1 - random() * 0.1)) },
          disks: [
            { mount: '/', fsType: 'ext4', totalKb: diskTotalKb, usedKb, availableKb: diskTotalKb - usedKb },
            ...(spec.details === true ? [{ mount: '/var', fsType: 'xfs', totalKb: 20 * GIB_KB, usedKb: 10 * GIB_KB, availableKb: 10 * GIB_KB }] : []),
          ],
          procs: [
            { pid: 100 + (i % 50), user: 'app', cpuPct: random() * 90, rssKb: Math.round(random() * GIB_KB), name: 'java' },
            ...(spec.details === true
              ? [
                  { pid: 7, user: 'root', cpuPct: random() * 5, rssKb: 20_000, name: 'sshd' },
                  { pid: 9, user: 'postgres', cpuPct: random() * 30, rssKb: Math.round(random() * 2 * GIB_KB), name: 'postgres' },
                ]
              : []),
          ],
          users: spec.details === true
            ? [
                { user: 'app', cpuPct: random() * 90, rssKb: GIB_KB, processCount: 3 },
                { user: 'root', cpuPct: random() * 5, rssKb: 100_000, processCount: 40 },
              ]
            : [],
          sessions: [],
          warnings: [],
        };
        spec.tweak?.(i, sample);
        return { host: h, status: 'ok', sample, startedAt: cycleStart, durationMs: 1200, attempts: 1 };
      });
      write(files.log, encode(results.map((r) => logRow(r, cycleStart, fmt))));
      rows += results.length;
      if (files.processes !== null) write(files.processes, encode(results.flatMap((r) => processRows(r, cycleStart, fmt))));
      if (files.disks !== null) write(files.disks, encode(results.flatMap((r) => diskRows(r, cycleStart, fmt))));
      if (files.users !== null) write(files.users, encode(results.flatMap((r) => userRows(r, cycleStart, fmt))));
    }
  } finally {
    for (const fd of Object.values(files)) if (fd !== null) closeSync(fd);
  }
  return rows;
}

function openWith(file: string, head: string): number {
  const fd = openSync(file, 'w');
  write(fd, head);
  return fd;
}

function write(fd: number, text: string): void {
  if (text === '') return;
  const bytes = Buffer.from(text, 'utf8');
  for (let offset = 0; offset < bytes.length; ) offset += writeSync(fd, bytes, offset, bytes.length - offset);
}
