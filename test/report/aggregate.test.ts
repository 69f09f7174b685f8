// The report's numbers against an independent computation (csv-parse + plain arithmetic) on a generated log.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import { loadConfig } from '../../src/config.js';
import { silentLog } from '../../src/log.js';
import type { ReportModel } from '../../src/report/aggregate.js';
import { runReport } from '../../src/report/run-report.js';
import { serverName, writeFleetLogs } from '../helpers/report-log.js';

const START = new Date('2026-11-16T00:00:00Z');
const DAYS = ['2026-11-16', '2026-11-17', '2026-11-18'];
const SERVERS = 6;

type Row = Record<string, string>;

function readRows(file: string, delimiter = ','): Row[] {
  return parse(readFileSync(file, 'utf8'), { bom: true, columns: true, delimiter, skip_empty_lines: true }) as Row[];
}

// A number as the file wrote it, decimal comma or point.
function n(text: string | undefined): number {
  return Number((text ?? '').replace(',', '.'));
}

interface Expected {
  polls: number;
  ok: number;
  cpu: number[];
  memPct: number[];
  memUsed: number[];
  memAvail: number[];
  memTotal: number[];
  swapUsed: number[];
}

function independent(rows: Row[]): Map<string, Expected> {
  const groups = new Map<string, Expected>();
  for (const r of rows) {
    const key = `${r.server}|${(r.time ?? '').slice(0, 10)}`;
    const g = groups.get(key) ?? { polls: 0, ok: 0, cpu: [], memPct: [], memUsed: [], memAvail: [], memTotal: [], swapUsed: [] };
    g.polls += 1;
    if (r.status === 'ok') {
      g.ok += 1;
      g.cpu.push(n(r.cpu_pct));
      g.memPct.push(n(r.mem_pct));
      g.memUsed.push(n(r.mem_used_gb));
      g.memAvail.push(n(r.mem_available_gb));
      g.memTotal.push(n(r.mem_total_gb));
      g.swapUsed.push(n(r.swap_used_gb));
    }
    groups.set(key, g);
  }
  return groups;
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const max = (xs: number[]): number => Math.max(...xs);

function near(actual: number | null | undefined, expected: number, what: string): void {
  assert.ok(actual !== null && actual !== undefined, `${what}: missing`);
  assert.ok(Math.abs(actual - expected) <= 0.1, `${what}: report ${actual}, independent ${expected}`);
}

async function report(dataDir: string, rebuild = false): Promise<ReportModel> {
  const config = loadConfig({ dataDir }, {}, dataDir, 'tester');
  const outcome = await runReport({ config, days: 3, end: '2026-11-18', email: false, rebuild, out: null, now: new Date('2026-11-19T06:00:00Z'), env: {}, log: silentLog });
  assert.equal(outcome.kind, 'written');
  return outcome.kind === 'written' ? outcome.model : (undefined as never);
}

describe('report numbers vs an independent computation', () => {
  let dir: string;
  let model: ReportModel;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fleetpoll-report-agg-'));
    writeFleetLogs(dir, { servers: SERVERS, start: START, days: 3, pollMinutes: 10, seed: 7, failureRate: 0.05, details: true });
    model = await report(dir);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('per server and day: polls, availability, CPU, memory and swap averages and peaks match to 0.1', () => {
    const expected = independent(readRows(join(dir, 'log.csv')));
    assert.equal(model.servers.length, SERVERS);
    let compared = 0;
    for (const s of model.servers) {
      for (const d of s.days) {
        const e = expected.get(`${s.name}|${d.day}`);
        assert.ok(e !== undefined, `${s.name} ${d.day} exists in the log`);
        assert.equal(d.polls, e.polls, `${s.name} ${d.day} polls`);
        assert.equal(d.ok, e.ok, `${s.name} ${d.day} ok`);
        near(d.cpuAvg, mean(e.cpu), `${s.name} ${d.day} cpu avg`);
        near(d.cpuPeak, max(e.cpu), `${s.name} ${d.day} cpu peak`);
        near(d.memPctAvg, mean(e.memPct), `${s.name} ${d.day} mem% avg`);
        near(d.memPctPeak, max(e.memPct), `${s.name} ${d.day} mem% peak`);
        near(d.memUsedGbAvg, mean(e.memUsed), `${s.name} ${d.day} mem used avg`);
        near(d.memUsedGbPeak, max(e.memUsed), `${s.name} ${d.day} mem used peak`);
        near(d.memAvailableGbAvg, mean(e.memAvail), `${s.name} ${d.day} mem available avg`);
        near(d.memTotalGb, mean(e.memTotal), `${s.name} ${d.day} mem total`);
        near(d.swapUsedGbAvg, mean(e.swapUsed), `${s.name} ${d.day} swap used avg`);
        compared += 1;
      }
      const polls = DAYS.reduce((sum, day) => sum + (expected.get(`${s.name}|${day}`)?.polls ?? 0), 0);
      const ok = DAYS.reduce((sum, day) => sum + (expected.get(`${s.name}|${day}`)?.ok ?? 0), 0);
      near(s.availabilityPct, (ok / polls) * 100, `${s.name} availability`);
    }
    assert.equal(compared, SERVERS * DAYS.length);
    assert.equal(model.fleet.polls, readRows(join(dir, 'log.csv')).length);
  });

  it('filesystems per day: total, used and free averages, used % peak match to 0.1', () => {
    const rows = readRows(join(dir, 'disks.csv'));
    for (const s of model.servers) {
      assert.deepEqual(s.disks.map((d) => d.mount), ['/', '/var']);
      for (const disk of s.disks) {
        disk.days.forEach((d, i) => {
          const mine = rows.filter((r) => r.server === s.name && r.mount === disk.mount && r.time?.startsWith(DAYS[i] ?? 'x'));
          assert.ok(d !== null && mine.length > 0);
          near(d.usedGbAvg, mean(mine.map((r) => n(r.used_gb))), `${s.name} ${disk.mount} used`);
          near(d.freeGbAvg, mean(mine.map((r) => n(r.free_gb))), `${s.name} ${disk.mount} free`);
          near(d.totalGb, mean(mine.map((r) => n(r.total_gb))), `${s.name} ${disk.mount} total`);
          near(d.usedPctPeak, max(mine.map((r) => n(r.used_pct))), `${s.name} ${disk.mount} used% peak`);
        });
      }
    }
  });

  it('days until full match an independent least-squares fit over the raw samples', () => {
    const rows = readRows(join(dir, 'disks.csv')).filter((r) => r.mount === '/');
    const windowStart = Date.parse('2026-11-16T00:00:00Z');
    let checked = 0;
    for (const s of model.servers) {
      const mine = rows.filter((r) => r.server === s.name);
      const t = mine.map((r) => (Date.parse(`${(r.time ?? '').replace(' ', 'T')}Z`) - windowStart) / 86_400_000);
      const y = mine.map((r) => n(r.used_gb));
      const tm = mean(t);
      const ym = mean(y);
      const slope = t.reduce((acc, ti, i) => acc + (ti - tm) * ((y[i] ?? 0) - ym), 0) / t.reduce((acc, ti) => acc + (ti - tm) ** 2, 0);
      const last = mine[mine.length - 1];
      const capacity = n(last?.used_gb) + n(last?.free_gb);
      const tEnd = t[t.length - 1] ?? 0;
      const forecast = s.disks.find((d) => d.mount === '/')?.forecast;
      const expectedDays = (capacity - (ym + slope * (tEnd - tm))) / slope;
      if (slope <= 0 || expectedDays > 3650) {
        assert.equal(forecast?.kind, 'not-growing', `${s.name}: slope ${slope}`);
      } else {
        assert.equal(forecast?.kind, 'full-in', `${s.name}: slope ${slope}`);
        if (forecast?.kind === 'full-in') {
          near(forecast.days, Math.max(0, expectedDays), `${s.name} days until full`);
          assert.equal(forecast.flagged, expectedDays < 30);
        }
      }
      checked += 1;
    }
    assert.equal(checked, SERVERS);
    assert.ok(model.fleet.flagged.some((f) => f.what === '/'), 'the generated fast-growing disks are flagged');
    assert.ok(model.fleet.flagged.every((f, i, all) => i === 0 || (all[i - 1]?.days ?? 0) <= f.days), 'flagged soonest first');
  });

  it('top processes and users of the window match averages over the server’s ok polls', () => {
    const procs = readRows(join(dir, 'processes.csv'));
    const users = readRows(join(dir, 'users.csv'));
    const log = readRows(join(dir, 'log.csv'));
    for (const s of model.servers) {
      const okPolls = log.filter((r) => r.server === s.name && r.status === 'ok').length;
      const java = procs.filter((r) => r.server === s.name && r.process === 'java' && r.user === 'app');
      const top = s.topCpu[0];
      assert.equal(top?.process, 'java');
      near(top?.cpuAvg, java.reduce((a, r) => a + n(r.cpu_pct), 0) / okPolls, `${s.name} java cpu avg`);
      near(top?.cpuPeak, max(java.map((r) => n(r.cpu_pct))), `${s.name} java cpu peak`);
      assert.equal(top?.seen, java.length);
      const app = users.filter((r) => r.server === s.name && r.user === 'app');
      const u = s.users.find((x) => x.user === 'app');
      near(u?.cpuAvg, app.reduce((a, r) => a + n(r.cpu_pct), 0) / okPolls, `${s.name} user app cpu`);
      near(u?.memMbPeak, max(app.map((r) => n(r.mem_mb))), `${s.name} user app mem peak`);
    }
  });

  it('the fleet summary ranks the busiest servers by average CPU', () => {
    const busiest = model.fleet.busiest.map((s) => s.cpuAvg ?? -1);
    assert.deepEqual(busiest, [...busiest].sort((a, b) => b - a));
    assert.equal(model.fleet.servers, SERVERS);
    assert.equal(model.fleet.daysWithData, 3);
  });

  it('an incremental rollup and a rebuild from the raw logs give the same numbers', async () => {
    const rebuilt = await report(dir, true);
    assert.deepEqual(JSON.parse(JSON.stringify(rebuilt.servers)), JSON.parse(JSON.stringify(model.servers)));
  });
});

describe('the ";" dialect with decimal commas', () => {
  let comma: string;
  let semicolon: string;
  before(() => {
    comma = mkdtempSync(join(tmpdir(), 'fleetpoll-report-comma-'));
    semicolon = mkdtempSync(join(tmpdir(), 'fleetpoll-report-semi-'));
    const spec = { servers: 3, start: START, days: 3, pollMinutes: 30, seed: 11, details: true };
    writeFleetLogs(comma, spec);
    writeFleetLogs(semicolon, { ...spec, delimiter: ';' });
  });
  after(() => {
    rmSync(comma, { recursive: true, force: true });
    rmSync(semicolon, { recursive: true, force: true });
  });

  it('reads the same numbers from both dialects', async () => {
    assert.match(readFileSync(join(semicolon, 'log.csv'), 'utf8').split('\n')[1] ?? '', /;\d+,\d;/, 'the ; file really has decimal commas');
    const a = await report(comma);
    const b = await report(semicolon);
    assert.equal(b.badRows.length, 0, JSON.stringify(b.badRows));
    assert.equal(a.servers.length, 3);
    assert.deepEqual(JSON.parse(JSON.stringify(b.servers)), JSON.parse(JSON.stringify(a.servers)));
    assert.equal(a.servers[0]?.name, serverName(0));
  });
});
