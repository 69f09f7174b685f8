// The rollup store: incremental catch-up equals a rebuild from the raw logs, whatever happened in between
// (crashes, rotation, truncation, torn rows, rows edited in a spreadsheet).
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { silentLog } from '../../src/log.js';
import type { PollResult } from '../../src/model.js';
import { catchUpAfterWrite, rotateBeforeWrite } from '../../src/report/poll-hooks.js';
import { dayFromData, dayToJson, LOG_NUM, parseDay, PROCESS_NUM, USER_NUM } from '../../src/report/day-file.js';
import { addProcess, emptyDay, LIMITS, OTHER } from '../../src/report/rollup.js';
import { ROLLUP_DIR, RollupStore } from '../../src/report/rollup-store.js';
import { LOG_COLUMNS } from '../../src/store/columns.js';
import { writeCycle } from '../../src/store/write-cycle.js';
import { failedResult, GIB_KB, okResult } from '../helpers/store-fixtures.js';

const FIRST = Date.parse('2026-11-29T22:00:00Z');
const POLL_MS = 20 * 60_000;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fleetpoll-rollup-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

// Poll i of a small fleet: values change with i so every row counts.
function results(i: number): PollResult[] {
  return [
    okResult('web1', { cpuBusyPct: (i * 7) % 100, mem: { totalKb: 8 * GIB_KB, availableKb: (8 - (i % 5)) * GIB_KB * 0.9, freeKb: 0, swapTotalKb: GIB_KB, swapFreeKb: GIB_KB / 2 } }),
    okResult('db1', { cpuBusyPct: (i * 13) % 100 }),
    i % 4 === 0 ? failedResult('edge1', 'unreachable', 'connect', 'connection refused') : okResult('edge1', { cpuBusyPct: 1 }),
  ];
}

function cycleTime(i: number): Date {
  return new Date(FIRST + i * POLL_MS);
}

async function poll(i: number): Promise<void> {
  await writeCycle(results(i), cycleTime(i), { dataDir: dir, delimiter: ',', decimalSeparator: '.' });
}

async function withStore<T>(f: (store: RollupStore) => Promise<T>): Promise<T> {
  const store = await RollupStore.open(dir, { waitMs: 0, log: silentLog });
  assert.ok(store !== null, 'the rollup lock is free');
  try {
    return await f(store);
  } finally {
    await store.close();
  }
}

// Every day of the rollup as JSON, for exact comparison.
async function snapshot(days: readonly string[]): Promise<string[]> {
  return withStore(async (store) => (await store.readDays(days)).map(dayToJson));
}

// The rollup as a rebuild from the raw logs would make it (in a copy of the data dir).
async function rebuiltSnapshot(days: readonly string[]): Promise<string[]> {
  const copy = mkdtempSync(join(tmpdir(), 'fleetpoll-rollup-copy-'));
  try {
    for (const name of readdirSync(dir)) if (name.endsWith('.csv') || /\.csv[.-]/.test(name)) copyFileSync(join(dir, name), join(copy, name));
    const store = await RollupStore.open(copy, { waitMs: 0, log: silentLog });
    assert.ok(store !== null);
    try {
      await store.rebuild('2026-11-01');
      return (await store.readDays(days)).map(dayToJson);
    } finally {
      await store.close();
    }
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
}

const DAYS = ['2026-11-29', '2026-11-30', '2026-12-01'];

// Equal up to the last of the 10 significant digits the files keep (sums re-rounded at every catch-up).
function sameRollup(actual: readonly string[], expected: readonly string[]): void {
  const close = (a: unknown, b: unknown, at: string): void => {
    if (typeof a === 'number' && typeof b === 'number') {
      assert.ok(Math.abs(a - b) <= 1e-8 * Math.max(1, Math.abs(b)), `${at}: ${a} vs ${b}`);
    } else if (Array.isArray(a) && Array.isArray(b)) {
      assert.equal(a.length, b.length, `${at}: length`);
      a.forEach((x, i) => close(x, b[i], `${at}[${i}]`));
    } else if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
      assert.deepEqual(Object.keys(a), Object.keys(b), `${at}: keys`);
      for (const k of Object.keys(a)) close((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${at}.${k}`);
    } else {
      assert.equal(a, b, at);
    }
  };
  assert.equal(actual.length, expected.length);
  actual.forEach((json, i) => close(JSON.parse(json), JSON.parse(expected[i] ?? 'null'), DAYS[i] ?? String(i)));
}

function polls(day: string, json: string): number {
  const data = parseDay(json, day);
  let total = 0;
  for (let e = 0; e < data.log.server.length; e += 1) total += data.log.num[e * LOG_NUM.size + LOG_NUM.polls] ?? 0;
  return total;
}

describe('rollup catch-up', () => {
  it('catching up after every poll gives exactly the rollup a rebuild gives', async () => {
    await poll(0);
    await withStore((s) => s.rebuild('2026-11-01'));
    for (let i = 1; i < 12; i += 1) {
      await poll(i);
      await catchUpAfterWrite(dir, silentLog);
    }
    const incremental = await snapshot(DAYS);
    sameRollup(incremental, await rebuiltSnapshot(DAYS));
    assert.equal(DAYS.reduce((n, d, i) => n + polls(d, incremental[i] ?? ''), 0), 12 * 3, 'every row once');
  });

  it('a crash between the log append and the rollup costs nothing: the next catch-up reads the rows', async () => {
    await poll(0);
    await withStore((s) => s.rebuild('2026-11-01'));
    // Appended, then "crashed" before catching up, three times.
    for (let i = 1; i < 4; i += 1) await poll(i);
    await catchUpAfterWrite(dir, silentLog);
    sameRollup(await snapshot(DAYS), await rebuiltSnapshot(DAYS));
  });

  it('a crash during a sync (new day files written, manifest not yet replaced) neither double counts nor leaks files', async () => {
    await poll(0);
    await withStore((s) => s.rebuild('2026-11-01'));
    const rollup = join(dir, ROLLUP_DIR);
    const committed = new Map(readdirSync(rollup).filter((f) => f === 'manifest.json' || f.startsWith('day-')).map((f) => [f, readFileSync(join(rollup, f))]));
    for (let i = 1; i < 5; i += 1) await poll(i);
    await catchUpAfterWrite(dir, silentLog);
    // Back to the committed state, keeping the new day files: as if the process died just before the
    // rename that commits (the old files are only deleted after it).
    for (const [name, content] of committed) writeFileSync(join(rollup, name), content);
    const referenced = (): Set<string> => new Set((JSON.parse(readFileSync(join(rollup, 'manifest.json'), 'utf8')) as { days: [string, string][] }).days.map(([, f]) => f));
    assert.ok(readdirSync(rollup).some((f) => f.startsWith('day-') && !referenced().has(f)), 'the dead sync left unreferenced day files');
    await catchUpAfterWrite(dir, silentLog);
    sameRollup(await snapshot(DAYS), await rebuiltSnapshot(DAYS));
    const days = readdirSync(rollup).filter((f) => f.startsWith('day-'));
    assert.deepEqual(new Set(days), referenced(), 'orphans swept, every day file referenced');
  });

  it('follows a monthly rotation, including rows appended before it that were never read', async () => {
    for (let i = 0; i < 3; i += 1) await poll(i);
    await withStore((s) => s.rebuild('2026-11-01'));
    // Two more November polls never caught up, then December's first poll rotates and writes.
    for (let i = 3; i < 5; i += 1) await poll(i);
    const december = 80;
    assert.ok(cycleTime(december).toISOString().startsWith('2026-12-'), 'the test crosses into December');
    await rotateBeforeWrite(dir, cycleTime(december), 'monthly', silentLog);
    assert.ok(readdirSync(dir).includes('log-2026-11.csv'), 'log.csv was rotated by month of its first row');
    assert.ok(readdirSync(dir).includes('processes-2026-11.csv'));
    await poll(december);
    await catchUpAfterWrite(dir, silentLog);
    const caught = await snapshot(DAYS);
    sameRollup(caught, await rebuiltSnapshot(DAYS));
    assert.equal(DAYS.reduce((n, d, i) => n + polls(d, caught[i] ?? ''), 0), 6 * 3);
    const manifest = JSON.parse(readFileSync(join(dir, ROLLUP_DIR, 'manifest.json'), 'utf8')) as { sources: { log: { file: string } } };
    assert.equal(manifest.sources.log.file, 'log.csv', 'the checkpoint moved on to the new live file');
  });

  it('copy-and-truncate rotation (logrotate copytruncate): re-reads from the last day, no double counting', async () => {
    for (let i = 0; i < 4; i += 1) await poll(i);
    await withStore((s) => s.rebuild('2026-11-01'));
    await poll(4);
    copyFileSync(join(dir, 'log.csv'), join(dir, 'log.csv.1'));
    truncateSync(join(dir, 'log.csv'), 0);
    await poll(5);
    await poll(6);
    const sync = await withStore((s) => s.catchUp());
    assert.match(sync.events.join('\n'), /log\.csv was rotated, truncated or replaced.*re-read it from 2026-11-/);
    sameRollup(await snapshot(DAYS), await rebuiltSnapshot(DAYS));
    const total = (await snapshot(DAYS)).reduce((n, json, i) => n + polls(DAYS[i] ?? '', json), 0);
    assert.equal(total, 7 * 3);
  });

  it('a report reaching further back than the rollup backfills those days once', async () => {
    for (let i = 0; i < 9; i += 1) await poll(i);
    await withStore((s) => s.rebuild('2026-11-30'));
    assert.equal(polls('2026-11-29', (await snapshot(['2026-11-29']))[0] ?? ''), 0, 'the rollup starts on the 30th');
    const sync = await withStore(async (s) => {
      assert.equal(s.coveredFrom, '2026-11-30');
      const done = await s.backfill('2026-11-29');
      assert.equal(s.coveredFrom, '2026-11-29');
      return done;
    });
    assert.ok(sync.records > 0);
    sameRollup(await snapshot(DAYS), await rebuiltSnapshot(DAYS));
    assert.equal((await withStore((s) => s.backfill('2026-11-29'))).records, 0, 'nothing is read twice');
  });

  it('a row torn by a crash is not read, and the next append removes it: no bad row', async () => {
    await poll(0);
    await withStore((s) => s.rebuild('2026-11-01'));
    appendFileSync(join(dir, 'log.csv'), '2026-11-29 22:20:00,web1,web1.example.net,ssh,ok,,,12');
    await catchUpAfterWrite(dir, silentLog);
    const manifest = JSON.parse(readFileSync(join(dir, ROLLUP_DIR, 'manifest.json'), 'utf8')) as { sources: { log: { offset: number } } };
    assert.ok(manifest.sources.log.offset < readFileSync(join(dir, 'log.csv')).length, 'the checkpoint stops before the torn row');
    await poll(1);
    await catchUpAfterWrite(dir, silentLog);
    const [day] = await withStore((s) => s.readDays(['2026-11-29']));
    assert.equal(day?.bad.get('log')?.count ?? 0, 0, 'the torn row was removed, never closed into a short row');
    assert.equal(polls('2026-11-29', dayToJson(day!)), 6, 'both complete polls counted once');
  });
});

describe('rows a user edited in a spreadsheet', () => {
  it('are counted with examples, never fatal; unknown columns are noted and ignored', async () => {
    const header = [...LOG_COLUMNS, 'comment'];
    const row = (time: string, server: string, cpu: string, extra = 'x'): string =>
      header.map((c) => (c === 'time' ? time : c === 'server' ? server : c === 'status' ? 'ok' : c === 'cpu_pct' ? cpu : c === 'comment' ? extra : '')).join(',');
    writeFileSync(
      join(dir, 'log.csv'),
      [
        `\uFEFF${header.join(',')}`,
        row('2026-11-30 10:00:00', 'web1', '10.5'),
        row('2026-11-30 10:05:00', 'web1', 'abc'),
        row('30/11/2026 10:10', 'web1', '20'),
        row('2026-11-30 10:15:00', 'web1', '250'),
        `${row('2026-11-30 10:20:00', 'web1', '30')},one too many`,
        // A spreadsheet quotes a decimal-comma cell in a ',' file.
        row('2026-11-30 10:25:00', 'web1', '"30,5"'),
        row('2026-11-30 10:30:00', "'=cmd", '40'),
        '',
      ].join('\r\n'),
    );
    await withStore((s) => s.rebuild('2026-11-01'));
    const [day] = await withStore((s) => s.readDays(['2026-11-30']));
    const bad = day?.bad.get('log');
    assert.equal(bad?.count, 4);
    assert.deepEqual(bad?.examples, [
      'log.csv line 3: cpu_pct "abc" is not a number from 0 to 100',
      'log.csv line 4: time "30/11/2026 10:10" is not YYYY-MM-DD HH:MM:SS',
      'log.csv line 5: cpu_pct "250" is not a number from 0 to 100',
      `log.csv line 6: has ${header.length + 1} cells, the header has ${header.length}`,
    ]);
    const web1 = day?.servers.get('web1')?.log;
    assert.equal(web1?.ok, 2, 'the good rows are kept');
    assert.equal(web1?.cpuPct.max, 30.5, 'a decimal comma is read');
    assert.ok(day?.servers.has('=cmd'), 'the apostrophe that neutralised a formula is removed for display');
    const notes = await withStore(async (s) => s.notes);
    assert.deepEqual(notes, ['log.csv: unknown column(s) "comment" ignored']);
  });
});

describe('rollup day file layout', () => {
  it('process and user entries share the offsets of their common fields (the aggregator folds both alike)', () => {
    for (const field of ['n', 'cpuSum', 'cpuMax', 'memMbSum', 'memMbMax'] as const) assert.equal(PROCESS_NUM[field], USER_NUM[field], field);
  });

  it('a process a host calls "(other)" shares the overflow bucket, so a reloaded day file equals the day it was written from', () => {
    const day = emptyDay('2026-11-29');
    const row = { day: '2026-11-29', secondOfDay: 3600, server: 'web-1', user: 'alice', cpuPct: 1, memMb: 10 };
    // While the map has room, then one past its limit: both ways into the overflow bucket.
    addProcess(day, { ...row, process: OTHER, cpuPct: 50, memMb: 500 });
    for (let i = 0; i < LIMITS.processes; i += 1) addProcess(day, { ...row, process: `worker-${i}` });
    const processes = day.servers.get('web-1')?.processes;
    const other = processes?.get(OTHER);
    assert.ok(processes !== undefined && processes.size <= LIMITS.processes, 'the limit holds');
    assert.equal([...processes.values()].reduce((n, p) => n + p.n, 0), LIMITS.processes + 1, 'every row counted once');
    assert.deepEqual(other && { process: other.process, cpuMax: other.cpuMax, memMbMax: other.memMbMax }, { process: OTHER, cpuMax: 50, memMbMax: 500 });
    const json = dayToJson(day);
    assert.equal(dayToJson(dayFromData(parseDay(json, '2026-11-29'))), json);
  });
});

