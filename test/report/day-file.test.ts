// Tests for src/report/day-file.ts: the rollup day file's layout is pinned (a change must bump
// ROLLUP_VERSION), a known day writes exactly the golden file, and the named reads give back what was added.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import {
  dayFromData,
  dayToJson,
  diskLast,
  diskStat,
  diskText,
  DISK_NUM,
  logMemLast,
  logNumber,
  logStat,
  logWorstLast,
  LOG_NUM,
  parseDay,
  processNumber,
  processText,
  PROCESS_NUM,
  userNumber,
  userText,
  USER_NUM,
} from '../../src/report/day-file.js';
import { addBad, addDisk, addLog, addProcess, addUser, emptyDay, ROLLUP_VERSION, type DayRollup } from '../../src/report/rollup.js';

const GOLDEN = fileURLToPath(new URL('../../../test/fixtures/report/day-file/2026-11-29.json', import.meta.url));
const DAY = '2026-11-29';

const noMetrics = { cpuPct: null, memTotalGb: null, memUsedGb: null, memAvailableGb: null, memPct: null, swapTotalGb: null, swapUsedGb: null, diskWorstMount: '', diskWorstPct: null, diskWorstFreeGb: null };

// Two servers: web-1 with every kind of row, db-1 down all day (no memory or disk readings: the -1 fields).
function sampleDay(): DayRollup {
  const day = emptyDay(DAY);
  const ok = { day: DAY, server: 'web-1', status: 'ok', error: '' };
  addLog(day, { ...ok, secondOfDay: 3600, cpuPct: 12.5, memTotalGb: 7.75, memUsedGb: 3.1, memAvailableGb: 4.65, memPct: 40, swapTotalGb: 2, swapUsedGb: 0.25, diskWorstMount: '/var', diskWorstPct: 81.5, diskWorstFreeGb: 3.7 });
  addLog(day, { ...ok, secondOfDay: 7200, cpuPct: 50.1, memTotalGb: 7.75, memUsedGb: 3.3, memAvailableGb: 4.45, memPct: 42.6, swapTotalGb: 2, swapUsedGb: 0.5, diskWorstMount: '/var', diskWorstPct: 82, diskWorstFreeGb: null });
  addLog(day, { ...ok, secondOfDay: 10800, status: 'timeout', error: 'no answer in 30 s', ...noMetrics });
  addLog(day, { day: DAY, server: 'db-1', status: 'unreachable', error: 'connection refused', secondOfDay: 3600, ...noMetrics });
  const disk = { day: DAY, server: 'web-1', mount: '/', fsType: 'ext4' };
  addDisk(day, { ...disk, secondOfDay: 3600, totalGb: 20, usedGb: 10.5, freeGb: 9.5, usedPct: 52.5 });
  addDisk(day, { ...disk, secondOfDay: 7200, totalGb: null, usedGb: 10.75, freeGb: 9.25, usedPct: null });
  addDisk(day, { ...disk, mount: '/var', fsType: 'xfs', secondOfDay: 7200, totalGb: 20.5, usedGb: 16.8, freeGb: 3.7, usedPct: 82 });
  const proc = { day: DAY, server: 'web-1', user: 'www-data' };
  addProcess(day, { ...proc, secondOfDay: 3600, process: 'nginx', cpuPct: 3.5, memMb: 120.25 });
  addProcess(day, { ...proc, secondOfDay: 7200, process: 'nginx', cpuPct: 1.5, memMb: 130 });
  addProcess(day, { ...proc, secondOfDay: 7200, process: 'php-fpm', user: 'app', cpuPct: 40.2, memMb: 512 });
  addUser(day, { day: DAY, server: 'web-1', secondOfDay: 3600, user: 'www-data', cpuPct: 3.5, memMb: 120.25, processes: 4 });
  addUser(day, { day: DAY, server: 'web-1', secondOfDay: 7200, user: 'www-data', cpuPct: 1.5, memMb: 130, processes: null });
  addBad(day, 'disks', 'disks.csv line 9: used_gb "x" is not a number');
  return day;
}

describe('rollup day file', () => {
  it('keeps the layout version 2 files have (changing it means bumping ROLLUP_VERSION)', () => {
    assert.equal(ROLLUP_VERSION, 2);
    assert.deepEqual({ ...LOG_NUM }, {
      polls: 0, ok: 1, lastOkS: 2, cpuPct: 3, memPct: 6, memTotalGb: 9, memUsedGb: 12, memAvailableGb: 15, swapTotalGb: 18, swapUsedGb: 21, memTrend: 24, memLast: 29, worstLast: 32, size: 35,
    });
    assert.deepEqual({ ...DISK_NUM }, { totalGb: 0, usedGb: 3, freeGb: 6, usedPct: 9, trend: 12, last: 17, size: 22 });
    assert.deepEqual({ ...PROCESS_NUM }, { n: 0, cpuSum: 1, cpuMax: 2, memMbSum: 3, memMbMax: 4, size: 5 });
    assert.deepEqual({ ...USER_NUM }, { n: 0, cpuSum: 1, cpuMax: 2, memMbSum: 3, memMbMax: 4, processesMax: 5, size: 6 });
  });

  it('writes a known day exactly as the golden file', () => {
    assert.equal(dayToJson(sampleDay()), readFileSync(GOLDEN, 'utf8').trim());
  });

  it('reads each field back by name, with absent readings as null', () => {
    const data = parseDay(readFileSync(GOLDEN, 'utf8'), DAY);
    const web = data.log.server.findIndex((s) => data.servers[s] === 'web-1');
    const db = data.log.server.findIndex((s) => data.servers[s] === 'db-1');
    assert.equal(logNumber(data.log, web, 'polls'), 3);
    assert.equal(logNumber(data.log, web, 'ok'), 2);
    assert.equal(logNumber(data.log, web, 'lastOkS'), 7200);
    assert.deepEqual(logStat(data.log, web, 'cpuPct'), { n: 2, sum: 62.6, max: 50.1 });
    assert.deepEqual(logMemLast(data.log, web), { s: 7200, totalGb: 7.75, usedGb: 3.3 });
    assert.deepEqual(logWorstLast(data.log, web), { s: 7200, mount: '/var', pct: 82, freeGb: null });
    assert.equal(logMemLast(data.log, db), null);
    assert.equal(logWorstLast(data.log, db), null);
    assert.equal(logNumber(data.log, db, 'lastOkS'), -1);
    const root = [0, 1].find((e) => diskText(data.disks, e, 'mount') === '/') as number;
    assert.equal(diskText(data.disks, root, 'fsType'), 'ext4');
    assert.deepEqual(diskStat(data.disks, root, 'usedPct'), { n: 1, sum: 52.5, max: 52.5 });
    assert.deepEqual(diskLast(data.disks, root), { s: 7200, totalGb: null, usedGb: 10.75, freeGb: 9.25, usedPct: null });
    const php = [0, 1].find((e) => processText(data.processes, e, 'process') === 'php-fpm') as number;
    assert.equal(processText(data.processes, php, 'user'), 'app');
    assert.equal(processNumber(data.processes, php, 'memMbMax'), 512);
    assert.equal(userText(data.users, 0), 'www-data');
    assert.equal(userNumber(data.users, 0, 'n'), 2);
    assert.equal(userNumber(data.users, 0, 'processesMax'), 4);
  });

  it('a day read back writes the same file', () => {
    const json = readFileSync(GOLDEN, 'utf8').trim();
    assert.equal(dayToJson(dayFromData(parseDay(json, DAY))), json);
  });

  it('refuses a file of another day, version or shape', () => {
    const json = readFileSync(GOLDEN, 'utf8');
    assert.throws(() => parseDay(json, '2026-11-30'), /not a version 2 rollup of 2026-11-30/);
    assert.throws(() => parseDay(json.replace('"version":2', '"version":1'), DAY), /not a version 2 rollup/);
    const short = JSON.parse(json) as { users: { num: number[] } };
    short.users.num.pop();
    assert.throws(() => parseDay(JSON.stringify(short), DAY), /malformed rollup day/);
  });
});
