// Benchmark of the dashboard (issue 18's targets): HOSTS hosts × DAYS days of 5-minute history loaded
// through a bulk path into a temporary store, served by the real HTTP server, and opened in headless
// Chromium (Debian's, through playwright-core):
//   (1) the overview ready, its table and sparklines drawn (target ≤ 1 s), and the heatmap after it;
//   (2) a host page over 30 days ready, its charts drawn (target ≤ 1 s), and its per-user charts after;
//   (3) the JSON behind that host page (host series + per-user series), in bytes (target ≤ 300 KB);
//   (4) the server's CPU ms per overview and per host-page request (CPU figures hold on a loaded machine).
// "Ready" is the page's own mark (performance.now() when the data is drawn), so it counts navigation,
// scripts, the API request and the drawing. Run with `npm run bench:dashboard`.
// Env: HOSTS (1000), DAYS (30), RUNS (5), BENCH_DIR (the store is kept there and reused if present).
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { DiskQueries } from '../src/history/disk-queries.js';
import { FleetQueries } from '../src/history/fleet-queries.js';
import { encodeDisks, encodeProcesses, encodeUsers } from '../src/history/details.js';
import { HistoryStore } from '../src/history/store.js';
import { buildHttpServer, listenHttp } from '../src/http/server.js';
import { DEFAULT_HTTP_SETTINGS } from '../src/http/settings.js';
import { prng } from '../test/helpers/report-log.js';

const settings = { hosts: Number(process.env.HOSTS ?? 1000), days: Number(process.env.DAYS ?? 30), runs: Number(process.env.RUNS ?? 5) };
const TARGETS = { overviewMs: 1000, hostMs: 1000, hostJsonKb: 300 };
const POLL_SEC = 300;
const DAY = 86_400;
// Hosts with per-user totals and top processes (the host page reads them); the rest have host metrics and disks.
const DETAILED = 5;
const USERS = ['root', 'postgres', 'www-data', 'syslog', 'alice', 'bob', 'backup', 'nobody'];

const hostName = (i: number): string => `srv${String(i).padStart(5, '0')}`;
const round1 = (v: number): number => Math.round(v * 10) / 10;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const say = (line: string): void => void process.stdout.write(`${line}\n`);

function load(store: HistoryStore, end: number): void {
  const db = store.db;
  const rnd = prng(18);
  const start = end - settings.days * DAY;
  const insertHost = db.prepare("INSERT INTO hosts (name, address, transport, tags) VALUES (?, '', 'ssh', ?)");
  const insertSample = db.prepare(`INSERT INTO samples (host_id, at, status, phase, error, duration_ms, attempts, hostname, os_family, os_version, os_pretty,
    uptime_s, cpu_cores, cpu_pct, load_1m, load_5m, load_15m, mem_total_kb, mem_available_kb, mem_free_kb, swap_total_kb, swap_free_kb)
    VALUES (?, ?, ?, ?, ?, 100, 1, ?, 'linux', '6.1.0-18-amd64', 'Debian GNU/Linux 12 (bookworm)', ?, 8, ?, ?, ?, ?, 16000000, ?, 1000000, 2000000, ?)`);
  // Schema v3: a poll's filesystems, users and processes in one details row (src/history/details.ts).
  const insertDetails = db.prepare('INSERT INTO details (host_id, at, users, disks, processes) VALUES (?, ?, ?, ?, ?)');
  const insertCycle = db.prepare('INSERT INTO cycles (started_at, duration_ms, hosts_total, hosts_ok, hosts_failed, coverage_pct) VALUES (?, 1000, ?, ?, 0, 100)');
  const perHost = (settings.days * DAY) / POLL_SEC;
  db.transaction(() => {
    for (let t = start; t < end; t += POLL_SEC) insertCycle.run(t, settings.hosts, settings.hosts);
  })();
  const tags = ['["web","prod"]', '["db","prod"]', '["app"]', '["batch"]'];
  for (let i = 0; i < settings.hosts; i += 1) {
    db.transaction(() => {
      const id = Number(insertHost.run(hostName(i), tags[i % tags.length]).lastInsertRowid);
      const base = rnd() * 60;
      for (let k = 0; k < perHost; k += 1) {
        const at = start + k * POLL_SEC;
        if (rnd() < 0.005) {
          insertSample.run(id, at, 'timeout', 'exec', 'no answer within 10 s', null, null, null, null, null, null, null, null);
          continue;
        }
        const cpu = round1(Math.min(100, base + rnd() * 30));
        insertSample.run(id, at, 'ok', null, null, hostName(i), k * POLL_SEC, cpu, cpu / 25, cpu / 30, cpu / 35, Math.round(4_000_000 + rnd() * 8_000_000), Math.round(1_500_000 + rnd() * 400_000));
        // Two filesystems, /var slowly filling; read every poll on the detailed hosts, once an hour on the others (keeps the load minutes).
        const withDisks = i < DETAILED || k % 12 === 0;
        if (!withDisks) continue;
        const varUsed = Math.round(30_000_000 + k * 2000);
        const disks = encodeDisks([
          { mount: '/', fsType: 'ext4', totalKb: 100_000_000, usedKb: 40_000_000, availableKb: 60_000_000 },
          { mount: '/var', fsType: 'ext4', totalKb: 100_000_000, usedKb: varUsed, availableKb: 100_000_000 - varUsed },
        ]);
        const detailed = i < DETAILED;
        const users = detailed
          ? encodeUsers(USERS.map((user, u) => ({ user, cpuPct: round1((rnd() * 40) / (u + 1)), rssKb: Math.round((rnd() * 2_000_000) / (u + 1)), processCount: 3 })))
          : null;
        const procs = detailed
          ? encodeProcesses(USERS.map((user, q) => ({ pid: 100 + q, user, cpuPct: round1(rnd() * 50), rssKb: Math.round(rnd() * 1_000_000), name: `proc-${q}` })))
          : null;
        insertDetails.run(id, at, users, disks, procs);
      }
    })();
  }
  store.maintainer().rollupRange(start, end);
  db.prepare("INSERT OR REPLACE INTO maintenance (key, value) VALUES ('rolled_up_to', ?)").run(Math.floor(end / 3600) * 3600);
  db.pragma('wal_checkpoint(TRUNCATE)');
}

async function main(): Promise<void> {
  const keep = process.env.BENCH_DIR;
  const dir = keep ?? mkdtempSync(join(tmpdir(), 'fleetpoll-bench-dashboard-'));
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `dashboard-${settings.hosts}x${settings.days}.sqlite`);
  // Data ends at the current 5-minute mark: the pages' ranges are relative to the browser's clock.
  const end = Math.floor(Date.now() / 1000 / POLL_SEC) * POLL_SEC;
  say(`bench:dashboard — ${settings.hosts} hosts × ${settings.days} days of 5-minute polls; ${cpus().length} CPUs, load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  const fresh = !existsSync(file);
  const store = HistoryStore.open(file, { rawDays: 35, hourlyDays: 400 });
  if (fresh) {
    const t0 = performance.now();
    load(store, end);
    say(`loaded in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  } else say(`reusing ${file} (its data ends when it was loaded)`);

  const log = { debug() {}, info() {}, warn() {}, error() {}, child: () => log } as never;
  const http = { ...DEFAULT_HTTP_SETTINGS, bind: '127.18.1.1', port: 0 };
  const app = buildHttpServer({
    settings: http,
    env: {},
    reader: store.read(),
    status: { readiness: () => ({ ready: true }), snapshot: () => ({}) } as never,
    log,
    dashboard: { disks: new DiskQueries(store.db), fleet: new FleetQueries(store.db), alertStateFile: null, alertLogFile: null, forecastDays: 7, horizonDays: 30 },
  });
  const url = await listenHttp(app, http);
  const profile = mkdtempSync(join(tmpdir(), 'fleetpoll-bench-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    viewport: { width: 1400, height: 1000 },
  });
  try {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const ready = async (path: string, mark: string): Promise<number> => {
      await page.goto(`${url}${path}`);
      await page.waitForSelector(`body[data-ready-${mark}]`, { timeout: 60_000 });
      return Number(await page.getAttribute('body', `data-ready-${mark}`));
    };
    const host = hostName(0);
    // One warm-up of each page (Chromium's first start, SQLite's page cache), then RUNS measured.
    await ready('/', 'overview');
    await ready(`/host?name=${host}&range=30d`, 'users');
    const overview: number[] = [];
    const heatmap: number[] = [];
    const hostPage: number[] = [];
    const users: number[] = [];
    for (let r = 0; r < settings.runs; r += 1) {
      overview.push(await ready('/', 'overview'));
      await page.waitForSelector('body[data-ready-heatmap]', { timeout: 60_000 });
      heatmap.push(Number(await page.getAttribute('body', 'data-ready-heatmap')));
      hostPage.push(await ready(`/host?name=${host}&range=30d`, 'host'));
      await page.waitForSelector('body[data-ready-users]', { timeout: 60_000 });
      users.push(Number(await page.getAttribute('body', 'data-ready-users')));
    }
    // The JSON behind the 30-day host page at the width the page asked for, and at the widest a page may ask.
    const widthAsked = await page.evaluate(() => {
      const entry = performance.getEntriesByType('resource').find((e) => e.name.includes('/api/v1/dashboard/hosts/'));
      return entry === undefined ? null : Number(new URL(entry.name).searchParams.get('width'));
    });
    const to = end;
    const from = end - 30 * DAY;
    const bytes = async (width: number): Promise<{ host: number; users: number; step: number }> => {
      const h = await app.inject({ method: 'GET', url: `/api/v1/dashboard/hosts/${host}?from=${from}&to=${to}&width=${width}` });
      const step = (JSON.parse(h.body) as { stepSec: number }).stepSec;
      const u = await app.inject({ method: 'GET', url: `/api/v1/hosts/${host}/users/series?from=${from}&to=${to}&step=${step}` });
      return { host: h.rawPayload.length, users: u.rawPayload.length, step };
    };
    const asked = await bytes(widthAsked ?? 1000);
    const widest = await bytes(1600);
    const cpuMs = async (path: string): Promise<number> => {
      const samples: number[] = [];
      for (let r = 0; r < settings.runs; r += 1) {
        const before = process.cpuUsage();
        await app.inject({ method: 'GET', url: path });
        const used = process.cpuUsage(before);
        samples.push((used.user + used.system) / 1000);
      }
      return median(samples);
    };
    const overviewCpu = await cpuMs('/api/v1/dashboard/overview');
    const hostCpu = await cpuMs(`/api/v1/dashboard/hosts/${host}?from=${from}&to=${to}&width=${widthAsked ?? 1000}`);
    const heatCpu = await cpuMs(`/api/v1/dashboard/heatmap?metric=cpu_pct&from=${end - DAY}&to=${end}&width=200`);
    const kb = (n: number): string => `${(n / 1024).toFixed(0)} KB`;
    const verdict = (ok: boolean): string => (ok ? 'ok' : 'OVER');
    say('');
    say('| measure | median of runs | target |');
    say('|---|---|---|');
    say(`| overview ready (table + sparklines drawn), ${settings.hosts} hosts | ${median(overview).toFixed(0)} ms | ≤ ${TARGETS.overviewMs} ms ${verdict(median(overview) <= TARGETS.overviewMs)} |`);
    say(`| overview heatmap drawn (24 h) | ${median(heatmap).toFixed(0)} ms | — |`);
    say(`| host page ready, 30 days (host charts drawn) | ${median(hostPage).toFixed(0)} ms | ≤ ${TARGETS.hostMs} ms ${verdict(median(hostPage) <= TARGETS.hostMs)} |`);
    say(`| host page per-user charts drawn, 30 days | ${median(users).toFixed(0)} ms | — |`);
    const total = asked.host + asked.users;
    say(`| JSON behind the 30-day host page (width ${widthAsked} px, step ${asked.step} s): host ${kb(asked.host)} + users ${kb(asked.users)} | ${kb(total)} | ≤ ${TARGETS.hostJsonKb} KB ${verdict(total <= TARGETS.hostJsonKb * 1024)} |`);
    say(`| same at width 1600 px (step ${widest.step} s) | ${kb(widest.host + widest.users)} | ≤ ${TARGETS.hostJsonKb} KB ${verdict(widest.host + widest.users <= TARGETS.hostJsonKb * 1024)} |`);
    say(`| server CPU per overview request | ${overviewCpu.toFixed(0)} ms | — |`);
    say(`| server CPU per 30-day host request | ${hostCpu.toFixed(0)} ms | — |`);
    say(`| server CPU per 24 h heatmap request | ${heatCpu.toFixed(0)} ms | — |`);
    if (errors.length > 0) say(`page errors: ${errors.join('; ')}`);
  } finally {
    await context.close();
    await app.close();
    store.close();
    rmSync(profile, { recursive: true, force: true });
    if (keep === undefined) rmSync(dir, { recursive: true, force: true });
  }
}

await main();
