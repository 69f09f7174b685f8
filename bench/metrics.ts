// Benchmark of the Prometheus routes (issue 19): a real fleetpoll HTTP server on loopback, with the
// bearer token Prometheus would send, over a generated last cycle of N hosts (3 filesystems and 8
// users with processes each, 1 % failed). Fetched REPEAT times each after a warm-up: the whole-fleet
// scrape (/metrics/fleet) as Prometheus sees it (the exposition written once per cycle is sent), one
// host's probe and the own-health /metrics; and apart, the CPU of writing the fleet exposition, which
// the server does once per cycle as the cycle finishes (REPEAT new cycles). The client is curl, a process of its own: its time_total is the wall time of a whole scrape
// (connect to last byte), and this process's CPU during it is the server's. Printed per route: body
// size, series, wall p50/p95/max, server CPU p50/p95. Exit 1 when the fleet scrape's p95 is over 100 ms.
// Run with `npm run bench:metrics`; env N (hosts, default 1000), REPEAT (default 50).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildHttpServer } from '../src/http/server.js';
import { DEFAULT_HTTP_SETTINGS } from '../src/http/settings.js';
import { silentLog } from '../src/log.js';
import type { PollResult } from '../src/model.js';
import { FixedMetricsSource, largeFleet, metricsCycle } from '../test/helpers/metrics.js';
import { failedResult } from '../test/helpers/store-fixtures.js';
import { FakeHistoryReader, FakeServiceStatus } from '../test/http/fakes.js';

const N = Number(process.env.N ?? 1000);
const REPEAT = Number(process.env.REPEAT ?? 50);
const WARMUP = 5;
const TARGET_MS = 100;
const TOKEN = 'bench-metrics-token-0123456789abcdef';

// One scrape by curl: its wall time (s) and the body it wrote to `out`.
function curl(url: string, out: string): Promise<{ status: number; seconds: number }> {
  return new Promise((resolveCurl, reject) => {
    execFile('curl', ['-sS', '-o', out, '-w', '%{http_code} %{time_total}', '-H', `Authorization: Bearer ${TOKEN}`, url], (error, stdout) => {
      if (error !== null) return reject(error);
      const [status, seconds] = stdout.trim().split(' ');
      resolveCurl({ status: Number(status), seconds: Number(seconds) });
    });
  });
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
}

async function main(): Promise<void> {
  const results: PollResult[] = largeFleet(N).map((r, i) => (i % 100 === 99 ? failedResult(r.host.name, 'timeout', 'exec') : r));
  const source = new FixedMetricsSource(metricsCycle(results));
  const settings = { ...DEFAULT_HTTP_SETTINGS, port: 0, tokenEnv: 'BENCH_TOKEN' };
  const app = buildHttpServer({ settings, env: { BENCH_TOKEN: TOKEN }, reader: new FakeHistoryReader(), status: new FakeServiceStatus(), log: silentLog, metrics: source });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  // The own-health histogram holds the cycle's observations, as in a running service.
  source.emit(source.cycle!);

  const rows: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'fleetpoll-bench-metrics-'));
  const out = join(dir, 'body');
  let fleetP95 = Infinity;
  try {
    for (const [label, path] of [
      [`/metrics/fleet (${N} hosts)`, '/metrics/fleet'],
      ['/probe?target= (1 host)', `/probe?target=${results[0]!.host.name}`],
      ['/metrics (own health)', '/metrics'],
    ] as const) {
      const wall: number[] = [];
      const cpu: number[] = [];
      let bytes = 0;
      let series = 0;
      for (let i = 0; i < WARMUP + REPEAT; i += 1) {
        const cpuBefore = process.cpuUsage();
        const { status, seconds } = await curl(`${base}${path}`, out);
        const used = process.cpuUsage(cpuBefore);
        const text = readFileSync(out, 'utf8');
        if (status !== 200) throw new Error(`${path}: ${status} ${text.slice(0, 200)}`);
        if (i < WARMUP) continue;
        wall.push(seconds * 1000);
        cpu.push((used.user + used.system) / 1000);
        bytes = Buffer.byteLength(text);
        series = text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
      }
      wall.sort((a, b) => a - b);
      cpu.sort((a, b) => a - b);
      if (path === '/metrics/fleet') fleetP95 = quantile(wall, 0.95);
      rows.push(
        `| ${label} | ${(bytes / 1e6).toFixed(2)} MB | ${series.toLocaleString('en-US')} | ${quantile(wall, 0.5).toFixed(1)} | ${quantile(wall, 0.95).toFixed(1)} | ${wall.at(-1)!.toFixed(1)} | ${quantile(cpu, 0.5).toFixed(1)} | ${quantile(cpu, 0.95).toFixed(1)} |`,
      );
    }
    // Writing the exposition at the end of a cycle (the fleet was scraped above, so each new cycle is written).
    const write: number[] = [];
    for (let i = 0; i < WARMUP + REPEAT; i += 1) {
      const next = { ...source.cycle!, results: source.cycle!.results };
      const cpuBefore = process.cpuUsage();
      source.emit(next);
      const used = process.cpuUsage(cpuBefore);
      if (i >= WARMUP) write.push((used.user + used.system) / 1000);
    }
    write.sort((a, b) => a - b);
    rows.push(`| at each cycle's end: the fleet exposition written, the histogram fed (no request) | | | | | | ${quantile(write, 0.5).toFixed(1)} | ${quantile(write, 0.95).toFixed(1)} |`);
  } finally {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`bench:metrics: ${N} hosts, ${REPEAT} scrapes per route after ${WARMUP} warm-up, Node ${process.version}`);
  console.log('| route | body | series | wall p50 ms | wall p95 ms | wall max ms | server CPU p50 ms | server CPU p95 ms |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const row of rows) console.log(row);
  const ok = fleetP95 <= TARGET_MS;
  console.log(`${ok ? 'PASS' : 'FAIL'}: the fleet scrape's p95 is ${fleetP95.toFixed(1)} ms (target ≤ ${TARGET_MS} ms)`);
  process.exitCode = ok ? 0 : 1;
}

await main();
