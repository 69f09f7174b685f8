// Benchmark of the history store (issue 17's targets), all in one process on a temporary store:
//   (1) recording one 1,000-host cycle (samples, disks, users, top processes, sessions): CPU ms, target ≤ 100;
//       and the rollup/retention step that follows it;
//   (2) store size per host-day, from a day of full cycles recorded through record.ts (SIZE_HOSTS hosts);
//   (3) HOSTS hosts × DAYS days of 5-minute samples loaded through a bulk path (host metrics and one disk an hour;
//       no users or processes, to keep the load minutes, not hours), rolled up, then: a DAYS-day series of one host
//       (p95, target ≤ 20 ms) and the latest of all hosts (p95, target ≤ 50 ms);
//   (4) the weekly report's daily figures taken from that store instead of the report's rollup files.
// Run with `npm run bench:history`. Env: HOSTS (1000), DAYS (30), SIZE_HOSTS (100), RUNS (50), BENCH_DIR (kept if given).
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PollResult, Sample } from '../src/model.js';
import { decodeProcesses, encodeProcesses } from '../src/history/details.js';
import { HistoryStore } from '../src/history/store.js';
import { prng } from '../test/helpers/report-log.js';

const settings = {
  hosts: Number(process.env.HOSTS ?? 1000),
  days: Number(process.env.DAYS ?? 30),
  sizeHosts: Number(process.env.SIZE_HOSTS ?? 100),
  runs: Number(process.env.RUNS ?? 50),
  // Which parts to run (PARTS=1,2 skips the long load of part 3 and part 4, which uses its store).
  parts: new Set((process.env.PARTS ?? '1,2,3,4').split(',').map((p) => Number(p.trim()))),
};
const TARGETS = { recordCpuMs: 100, seriesP95Ms: 20, latestP95Ms: 50 };
const POLL_SEC = 300;
// The bulk load writes one disk reading an hour (enough for the disk rollup the report estimate reads).
const DISK_EVERY = 12;
const DAY = 86_400;
const retention = { rawDays: 35, hourlyDays: 400 };


// The probe reports percentages with one decimal.
function round1(value: number): number {
  return Math.round(value * 10) / 10;
}

function hostName(i: number): string {
  return `srv${String(i).padStart(5, '0')}`;
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
    const host = { name: hostName(i), address: `10.1.${i >> 8}.${i & 255}`, transport: 'ssh' as const, port: 22, user: 'poller', auth: { kind: 'default' as const }, os: 'linux' as const, tags: ['bench'], enabled: true, line: i + 2, extra: {} };
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

function main(): void {
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

  // (3) HOSTS x DAYS loaded through a bulk path, then the queries (and (4) on the same store).
  if (settings.parts.has(3)) {
    const file = join(dir, 'load.sqlite');
    rmSync(file, { force: true });
    const store = HistoryStore.open(file, retention);
    const db = store.db;
    const end = Math.floor(Date.UTC(2026, 11, 1) / 1000);
    const start = end - settings.days * DAY;
    const perHost = (settings.days * DAY) / POLL_SEC;
    const insertHost = db.prepare("INSERT INTO hosts (name, address, transport, tags) VALUES (?, '', 'ssh', '[\"bench\"]')");
    const insertSample = db.prepare(`INSERT INTO samples (host_id, at, status, phase, error, duration_ms, attempts, hostname, os_family, os_version, os_pretty,
      uptime_s, cpu_cores, cpu_pct, load_1m, load_5m, load_15m, mem_total_kb, mem_available_kb, mem_free_kb, swap_total_kb, swap_free_kb)
      VALUES (?, ?, ?, ?, ?, 100, 1, ?, 'linux', '6.1.0-18-amd64', 'Debian GNU/Linux 12 (bookworm)', 1000000, 8, ?, ?, ?, ?, 16000000, ?, 1000000, 2000000, 1500000)`);
    const insertDisk = db.prepare('INSERT INTO details (host_id, at, disks) VALUES (?, ?, ?)');
    const insertCycle = db.prepare('INSERT INTO cycles (started_at, duration_ms, hosts_total, hosts_ok, hosts_failed, coverage_pct) VALUES (?, 1000, ?, ?, 0, 100)');
    const loadMs = wallMs(() => {
      db.transaction(() => {
        for (let t = start; t < end; t += POLL_SEC) insertCycle.run(t, settings.hosts, settings.hosts);
      })();
      for (let i = 0; i < settings.hosts; i += 1) {
        // Host by host: each one's rows are appended at the end of its range of the B-tree.
        db.transaction(() => {
          const id = Number(insertHost.run(hostName(i)).lastInsertRowid);
          for (let k = 0; k < perHost; k += 1) {
            const at = start + k * POLL_SEC;
            if (rnd() < 0.01) {
              insertSample.run(id, at, 'timeout', 'exec', 'no answer', null, null, null, null, null, null);
              continue;
            }
            insertSample.run(id, at, 'ok', null, null, hostName(i), round1(rnd() * 100), rnd() * 8, rnd() * 8, rnd() * 8, Math.round(rnd() * 16_000_000));
            if (k % DISK_EVERY === 0) insertDisk.run(id, at, JSON.stringify([['/', 'ext4', 100_000_000, Math.round(rnd() * 90_000_000), 10_000_000]]));
          }
        })();
      }
    });
    const rollupMs = wallMs(() => store.maintainer().rollupRange(start, end));
    db.prepare("INSERT OR REPLACE INTO maintenance (key, value) VALUES ('rolled_up_to', ?)").run(end);
    db.pragma('wal_checkpoint(TRUNCATE)');
    say(`(3) loaded ${settings.hosts} hosts x ${perHost} samples (+1 disk reading an hour) in ${(loadMs / 1000).toFixed(0)} s, rolled up in ${(rollupMs / 1000).toFixed(0)} s: ${mb(fileSize(file))}`);

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
    say(`    ${settings.days}-day series of one host (cpu_pct, mem_pct; default step, ${points} points from ${source === 'hourly' ? 'hourly rollups' : 'raw samples'}): p50 ${percentile(series, 0.5).toFixed(1)} ms, p95 ${percentile(series, 0.95).toFixed(1)} ms (target ≤ ${TARGETS.seriesP95Ms}); CPU p95 ${percentile(seriesCpu, 0.95).toFixed(1)} ms`);
    say(`    the same at a 5-minute step (${perHost} raw samples): p50 ${percentile(seriesRaw, 0.5).toFixed(1)} ms, p95 ${percentile(seriesRaw, 0.95).toFixed(1)} ms`);
    say(`    latest of all ${hosts} hosts: p50 ${percentile(latest, 0.5).toFixed(1)} ms, p95 ${percentile(latest, 0.95).toFixed(1)} ms (target ≤ ${TARGETS.latestP95Ms}); CPU p95 ${percentile(latestCpu, 0.95).toFixed(1)} ms`);

    // (4) The weekly report's daily figures from the store ("One store of record"): per server and day, from the
    // hourly rollups (avg weighted by polls, peak), host metrics and disk used %; the top processes of a week
    // would come from the raw per-poll lists, whose decoding is timed on generated lists and scaled.
    const weekFrom = end - 7 * DAY;
    const daily = db.prepare(`SELECT h.name, r.hour / ${DAY} AS day, sum(r.polls), sum(r.ok),
        sum(r.cpu_pct_avg * r.ok) / sum(r.ok), max(r.cpu_pct_max), sum(r.mem_pct_avg * r.ok) / sum(r.ok), max(r.mem_pct_max),
        sum(r.mem_used_kb_avg * r.ok) / sum(r.ok), sum(r.swap_pct_avg * r.ok) / sum(r.ok)
      FROM hosts h CROSS JOIN hourly r WHERE r.host_id = h.id AND r.hour >= ? AND r.hour < ? GROUP BY h.id, day`).raw();
    const dailyDisks = db.prepare(`SELECT h.name, d.mount, d.hour / ${DAY} AS day, avg(d.used_pct_avg), max(d.used_pct_max)
      FROM hosts h CROSS JOIN hourly_disks d WHERE d.host_id = h.id AND d.hour >= ? AND d.hour < ? GROUP BY h.id, d.mount, day`).raw();
    const dailyCpu: number[] = [];
    const dailyWall: number[] = [];
    let dayRows = 0;
    for (let r = 0; r < 5; r += 1) {
      const before = process.cpuUsage();
      dailyWall.push(wallMs(() => (dayRows = daily.all(weekFrom, end).length + dailyDisks.all(weekFrom, end).length)));
      const used = process.cpuUsage(before);
      dailyCpu.push((used.user + used.system) / 1000);
    }
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
    const weekPolls = settings.hosts * 7 * (DAY / POLL_SEC);
    say(`(4) report's daily figures for ${settings.hosts} servers x 7 days from the hourly rollups (${dayRows} server-day rows, host metrics + disk used %): ` +
      `median ${percentile(dailyWall, 0.5).toFixed(0)} ms wall, ${percentile(dailyCpu, 0.5).toFixed(0)} ms CPU`);
    say(`    top processes of the week from the raw per-poll lists: ${(foldCpu / lists.length * 1000).toFixed(1)} us CPU per poll decoded and folded ` +
      `x ${weekPolls} polls ≈ ${((foldCpu / lists.length) * weekPolls / 1000).toFixed(1)} s CPU (plus reading ~${mb(weekPolls * (lists[0]?.length ?? 0))} of lists)`);
    store.close();
  }
  if (process.env.BENCH_DIR === undefined) rmSync(dir, { recursive: true, force: true });
}

main();
