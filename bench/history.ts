// Benchmark of the history store (issue 17's targets), on a temporary store (or one kept in BENCH_DIR):
//   (1) recording one 1,000-host cycle (samples, disks, users, top processes, sessions): CPU ms, target ≤ 100;
//       and the rollup/retention step that follows it;
//   (2) store size per host-day, from a day of full cycles recorded through record.ts (SIZE_HOSTS hosts);
//   (3) HOSTS hosts × DAYS days of 5-minute samples (host metrics and one disk an hour; no users or processes)
//       loaded by lib/history-load.ts's bulk path, which writes exactly what record() + step() per cycle would
//       (test/bench/lib/history-load.test.ts) with a third of the CPU and a seventh of the wall time; then: a
//       DAYS-day series of one host (p95, target ≤ 20 ms) and the latest of all hosts (p95, target ≤ 50 ms);
//   (4) the weekly report's daily figures from that store (its last 7 days, a child process timed as pandas is)
//       against bench:report's pandas baseline over a log of the same size, in the same run (target ≥ 20 ×).
// Run with `npm run bench:history`. Env: HOSTS (1000), DAYS (30), SIZE_HOSTS (100), RUNS (50), REPEAT (3),
// PYTHON (/usr/bin/python3), BENCH_DIR (kept if given: a store loaded by part 3 with the same HOSTS and DAYS is
// reused by the next run, and bench:report's generated log is kept there too).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PollResult, Sample } from '../src/model.js';
import { decodeProcesses, encodeProcesses } from '../src/history/details.js';
import { HistoryStore } from '../src/history/store.js';
import { prng } from '../test/helpers/report-log.js';
import { bulkLoadFleet, fleetHost, hostName, type FleetSpec } from './lib/history-load.js';
import { median, nodeChild, pandasChild, reportLogDir, type Run } from './lib/report-runs.js';

const DAILY_CHILD = fileURLToPath(new URL('./history-daily-child.js', import.meta.url));

const settings = {
  hosts: Number(process.env.HOSTS ?? 1000),
  days: Number(process.env.DAYS ?? 30),
  sizeHosts: Number(process.env.SIZE_HOSTS ?? 100),
  runs: Number(process.env.RUNS ?? 50),
  repeat: Number(process.env.REPEAT ?? 3),
  python: process.env.PYTHON ?? '/usr/bin/python3',
  // Which parts to run (PARTS=1,2 skips the long load of part 3 and part 4, which uses its store).
  parts: new Set((process.env.PARTS ?? '1,2,3,4').split(',').map((p) => Number(p.trim()))),
};
const TARGETS = { recordCpuMs: 100, seriesP95Ms: 20, latestP95Ms: 50, reportSpeedup: 20 };
const POLL_SEC = 300;
// The bulk load writes one disk reading an hour (enough for the disk rollup the report estimate reads).
const DISK_EVERY = 12;
const DAY = 86_400;
const retention = { rawDays: 35, hourlyDays: 400 };


// The probe reports percentages with one decimal.
function round1(value: number): number {
  return Math.round(value * 10) / 10;
}

// A realistic sample: 3 disks, 8 users, 20 processes (top 10 by CPU and by memory), 2 sessions.
function fakeSample(i: number, rnd: () => number): Sample {
  const users = ['root', 'postgres', 'www-data', 'nginx', 'backup', 'alice', 'bob', 'monitor'];
  return {
    hostname: hostName(i),
    osFamily: 'linux',
    osVersion: '6.1.0-18-amd64',
    osPretty: 'Debian GNU/Linux 12 (bookworm)',
    uptimeSec: 1_000_000 + i,
    cpuCores: 8,
    cpuBusyPct: round1(rnd() * 100),
    load: { m1: rnd() * 8, m5: rnd() * 8, m15: rnd() * 8 },
    mem: { totalKb: 16_000_000, availableKb: Math.round(rnd() * 16_000_000), freeKb: 1_000_000, swapTotalKb: 2_000_000, swapFreeKb: 1_500_000 },
    disks: ['/', '/var', '/home'].map((mount) => ({ mount, fsType: 'ext4', totalKb: 100_000_000, usedKb: Math.round(rnd() * 90_000_000), availableKb: 10_000_000 })),
    procs: Array.from({ length: 20 }, (_, p) => ({ pid: 1000 + p, user: users[p % users.length] as string, cpuPct: round1(rnd() * 50), rssKb: Math.round(rnd() * 2_000_000), name: `proc-${p % 12}` })),
    users: users.map((user) => ({ user, cpuPct: round1(rnd() * 20), rssKb: Math.round(rnd() * 4_000_000), processCount: 1 + Math.floor(rnd() * 40) })),
    sessions: [
      { user: 'alice', terminal: 'pts/0', from: '10.0.0.8' },
      { user: 'bob', terminal: 'pts/1', from: '10.0.0.9' },
    ],
    warnings: [],
  };
}

function fakeCycle(hosts: number, at: Date, rnd: () => number): PollResult[] {
  return Array.from({ length: hosts }, (_, i): PollResult => {
    const host = fleetHost(i);
    // About 1 % of hosts fail each cycle.
    if (rnd() < 0.01) return { host, status: 'timeout', phase: 'exec', error: 'no answer within 30 s', startedAt: at, durationMs: 30_000, attempts: 1 };
    return { host, status: 'ok', sample: fakeSample(i, rnd), startedAt: at, durationMs: 40 + Math.round(rnd() * 200), attempts: 1 };
  });
}

function cpuMs(work: () => void): number {
  const before = process.cpuUsage();
  work();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
}

function wallMs(work: () => void): number {
  const began = performance.now();
  work();
  return performance.now() - began;
}

function percentile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
}

function fileSize(file: string): number {
  let total = 0;
  for (const suffix of ['', '-wal', '-shm']) {
    try {
      total += statSync(file + suffix).size;
    } catch {
      // No WAL after a checkpoint and close.
    }
  }
  return total;
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

async function main(): Promise<void> {
  const dir = process.env.BENCH_DIR ?? mkdtempSync(join(tmpdir(), 'fleetpoll-history-bench-'));
  mkdirSync(dir, { recursive: true });
  const rnd = prng(17);
  const out: string[] = [];
  const say = (line: string): void => {
    out.push(line);
    process.stdout.write(`${line}\n`);
  };
  say(`load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${cpus().length} cores`);
  say(`history bench: ${settings.hosts} hosts x ${settings.days} days of ${POLL_SEC / 60}-minute polls; shared, noisy machine: figures vary run to run`);

  // (1) Recording a 1,000-host cycle.
  if (settings.parts.has(1)) {
    const file = join(dir, 'record.sqlite');
    rmSync(file, { force: true });
    const store = HistoryStore.open(file, retention);
    const base = Date.UTC(2026, 10, 1);
    const cycles = Array.from({ length: 13 }, (_, k) => fakeCycle(1000, new Date(base + k * POLL_SEC * 1000), rnd));
    const record: number[] = [];
    const step: number[] = [];
    cycles.forEach((results, k) => {
      const startedAt = new Date(base + k * POLL_SEC * 1000);
      record.push(cpuMs(() => store.record(results, { startedAt, durationMs: 1000 })));
      step.push(cpuMs(() => store.step(Math.floor(startedAt.getTime() / 1000))));
    });
    // The first cycle inserts the hosts and prepares the statements: shown apart.
    const warm = record.slice(1);
    say(`(1) record one 1,000-host cycle (${cycles[0]?.length} samples, ~3 disks, 8 users, 20 processes, 2 sessions each): ` +
      `first ${record[0]?.toFixed(0)} ms CPU, then median ${percentile(warm, 0.5).toFixed(0)} ms, max ${Math.max(...warm).toFixed(0)} ms (target ≤ ${TARGETS.recordCpuMs})`);
    say(`    rollup/retention step after it: median ${percentile(step, 0.5).toFixed(1)} ms CPU, max ${Math.max(...step).toFixed(1)} ms (one hour rolled up at the 12th)`);
    store.close();
  }

  // (2) Size per host-day with every detail, from a day of cycles recorded through record.ts.
  if (settings.parts.has(2)) {
    const file = join(dir, 'size.sqlite');
    rmSync(file, { force: true });
    const store = HistoryStore.open(file, retention);
    const base = Date.UTC(2026, 10, 2);
    const perDay = DAY / POLL_SEC;
    for (let k = 0; k < perDay; k += 1) {
      const startedAt = new Date(base + k * POLL_SEC * 1000);
      store.record(fakeCycle(settings.sizeHosts, startedAt, rnd), { startedAt, durationMs: 1000 });
      store.step(Math.floor(startedAt.getTime() / 1000));
    }
    store.db.pragma('wal_checkpoint(TRUNCATE)');
    store.close();
    const bytes = fileSize(file);
    say(`(2) store size: ${mb(bytes)} for ${settings.sizeHosts} host-days with every detail = ${(bytes / settings.sizeHosts / 1024).toFixed(0)} KB per host-day ` +
      `(${perDay} polls; 35 days raw x 1,000 hosts ≈ ${mb((bytes / settings.sizeHosts) * 35 * 1000)})`);
  }

  // (3) HOSTS x DAYS loaded through the bulk path (or reused from BENCH_DIR), then the queries (and (4) on the same store).
  if (settings.parts.has(3)) {
    const file = join(dir, 'load.sqlite');
    const end = Math.floor(Date.UTC(2026, 11, 1) / 1000);
    const start = end - settings.days * DAY;
    const perHost = (settings.days * DAY) / POLL_SEC;
    const spec: FleetSpec = { hosts: settings.hosts, start, polls: perHost, pollSec: POLL_SEC, diskEvery: DISK_EVERY, seed: 17 };
    // Written after a complete load: a store is reused only if it was loaded whole from the same spec.
    const specFile = `${file}.spec.json`;
    const reuse = process.env.BENCH_DIR !== undefined && existsSync(file) && existsSync(specFile) && readFileSync(specFile, 'utf8') === JSON.stringify(spec);
    if (reuse) {
      say(`(3) reusing the store loaded by an earlier run: ${file} (${mb(fileSize(file))}; delete ${specFile} to load it again)`);
    } else {
      for (const f of [file, `${file}-wal`, `${file}-shm`, specFile]) rmSync(f, { force: true });
      const loading = HistoryStore.open(file, retention);
      const before = process.cpuUsage();
      const loadMs = wallMs(() => bulkLoadFleet(loading, spec, retention));
      const used = process.cpuUsage(before);
      loading.db.pragma('wal_checkpoint(TRUNCATE)');
      loading.close();
      writeFileSync(specFile, JSON.stringify(spec));
      say(`(3) loaded ${settings.hosts} hosts x ${perHost} polls (+1 disk reading an hour), cycles and hourly rollups, as record() + step() per cycle would have: ` +
        `${(loadMs / 1000).toFixed(0)} s wall, ${((used.user + used.system) / 1e6).toFixed(0)} s CPU; ${mb(fileSize(file))}`);
    }
    const store = HistoryStore.open(file, retention);
    const queries = store.read();
    const series: number[] = [];
    const seriesRaw: number[] = [];
    const latest: number[] = [];
    const seriesCpu: number[] = [];
    const latestCpu: number[] = [];
    let points = 0;
    let source = '';
    for (let r = 0; r < settings.runs; r += 1) {
      const host = hostName(Math.floor(rnd() * settings.hosts));
      const before = process.cpuUsage();
      series.push(wallMs(() => {
        const got = queries.series(host, ['cpu_pct', 'mem_pct'], start, end);
        points = got?.points.length ?? 0;
        source = got?.source ?? '';
      }));
      const used = process.cpuUsage(before);
      seriesCpu.push((used.user + used.system) / 1000);
    }
    for (let r = 0; r < Math.min(settings.runs, 20); r += 1) {
      const host = hostName(Math.floor(rnd() * settings.hosts));
      seriesRaw.push(wallMs(() => queries.series(host, ['cpu_pct', 'mem_pct'], start, end, POLL_SEC)));
    }
    let hosts = 0;
    for (let r = 0; r < settings.runs; r += 1) {
      const before = process.cpuUsage();
      latest.push(wallMs(() => (hosts = queries.latest().length)));
      const used = process.cpuUsage(before);
      latestCpu.push((used.user + used.system) / 1000);
    }
    say(`    ${settings.days}-day series of one host (cpu_pct, mem_pct; default step, ${points} points from ${source === 'hourly' ? 'hourly rollups' : 'raw samples'}): p50 ${percentile(series, 0.5).toFixed(1)} ms, p95 ${percentile(series, 0.95).toFixed(1)} ms (target ≤ ${TARGETS.seriesP95Ms}); CPU p50 ${percentile(seriesCpu, 0.5).toFixed(1)} ms, p95 ${percentile(seriesCpu, 0.95).toFixed(1)} ms`);
    say(`    the same at a 5-minute step (${perHost} raw samples): p50 ${percentile(seriesRaw, 0.5).toFixed(1)} ms, p95 ${percentile(seriesRaw, 0.95).toFixed(1)} ms`);
    say(`    latest of all ${hosts} hosts: p50 ${percentile(latest, 0.5).toFixed(1)} ms, p95 ${percentile(latest, 0.95).toFixed(1)} ms (target ≤ ${TARGETS.latestP95Ms}); CPU p50 ${percentile(latestCpu, 0.5).toFixed(1)} ms, p95 ${percentile(latestCpu, 0.95).toFixed(1)} ms`);

    store.close();

    // (4) The weekly report's daily figures from the store ("One store of record"), in a child process timed as
    // pandas is, against bench:report's pandas baseline over a log of the same fleet and week, interleaved.
    if (settings.parts.has(4)) await reportFigures(say, file, end);
  }
  if (process.env.BENCH_DIR === undefined) rmSync(dir, { recursive: true, force: true });
}

// Part (4): the store's daily figures for the last 7 days against pandas over bench:report's 7-day log.
async function reportFigures(say: (line: string) => void, file: string, end: number): Promise<void> {
  const days = 7;
  const { dir, rows } = reportLogDir({ servers: settings.hosts, days, pollMinutes: POLL_SEC / 60 });
  const log = join(dir, 'log.csv');
  const runs = { store: [] as Run[], pandas: [] as Run[] };
  for (let i = 0; i < settings.repeat; i += 1) {
    runs.pandas.push(await pandasChild(settings.python, log));
    runs.store.push(await nodeChild([DAILY_CHILD, file, String(end - days * DAY), String(end)]));
  }
  const store = median(runs.store);
  const pandas = median(runs.pandas);
  const got = JSON.parse(store.stdout.trim()) as { hostDays: number; diskDays: number };
  const speedup = pandas.wallMs / store.wallMs;
  say(`(4) the weekly report's daily figures, ${settings.hosts} servers x ${days} days (medians of ${settings.repeat} interleaved runs; wall as the parent sees it, CPU of the child itself):`);
  say(`    from the store's hourly rollups (a Node process: start-up, open, ${got.hostDays} server-days of host metrics + ${got.diskDays} filesystem-days): ` +
    `${(store.wallMs / 1000).toFixed(2)} s wall, ${(store.cpuMs / 1000).toFixed(2)} s CPU, ${store.maxRssMb.toFixed(0)} MB`);
  say(`    pandas read_csv + groupby over bench:report's log (${rows.toLocaleString('en-US')} rows, ${mb(statSync(log).size)}): ` +
    `${(pandas.wallMs / 1000).toFixed(2)} s wall, ${(pandas.cpuMs / 1000).toFixed(2)} s CPU, ${pandas.maxRssMb.toFixed(0)} MB`);
  say(`    store ${speedup.toFixed(1)} x faster than pandas (wall; CPU ${(pandas.cpuMs / store.cpuMs).toFixed(1)} x); target ≥ ${TARGETS.reportSpeedup} x for the whole report`);

  // What the store does not roll up: the week's top processes would be folded from the raw per-poll lists,
  // whose decoding is timed here on generated lists and scaled to the week.
  const rnd = prng(4);
  const lists = Array.from({ length: 5000 }, (_, i) => encodeProcesses(fakeSample(i, rnd).procs));
  const foldCpu = cpuMs(() => {
    const byName = new Map<string, { cpu: number; peak: number }>();
    for (const list of lists) {
      for (const p of decodeProcesses(list)) {
        const t = byName.get(p.name);
        if (t === undefined) byName.set(p.name, { cpu: p.cpuPct, peak: p.cpuPct });
        else {
          t.cpu += p.cpuPct;
          if (p.cpuPct > t.peak) t.peak = p.cpuPct;
        }
      }
    }
  });
  const weekPolls = settings.hosts * days * (DAY / POLL_SEC);
  say(`    not rolled up: the week's top processes from the raw per-poll lists (20 each): ${(foldCpu / lists.length * 1000).toFixed(1)} us CPU per poll decoded and folded ` +
    `x ${weekPolls} polls ≈ ${((foldCpu / lists.length) * weekPolls / 1000).toFixed(1)} s CPU, plus reading ~${mb(weekPolls * (lists[0]?.length ?? 0))} of lists`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
