import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DISK_COLUMNS, LOG_COLUMNS, PROCESS_COLUMNS, USER_COLUMNS } from '../../src/store/columns.js';
import { cellFormatter } from '../../src/store/format.js';
import { compareByServer, diskRows, logRow, processRows, userRows, type Row } from '../../src/store/rows.js';
import { GIB_KB, failedResult, okResult } from '../helpers/store-fixtures.js';

const start = new Date('2024-03-05T10:00:00Z');
const fmt = cellFormatter('.');

function asRecord(columns: readonly string[], row: Row): Record<string, string> {
  assert.equal(row.length, columns.length);
  return Object.fromEntries(columns.map((column, index) => [column, row[index] ?? '']));
}

describe('logRow', () => {
  it('formats every metric of a reachable host', () => {
    const row = asRecord(LOG_COLUMNS, logRow(okResult('web1'), start, fmt));
    assert.deepEqual(row, {
      time: '2024-03-05 10:00:00',
      server: 'web1',
      address: 'web1.example.net',
      transport: 'ssh',
      status: 'ok',
      phase: '',
      error: '',
      duration_ms: '1234',
      hostname: 'web1',
      os: 'Debian GNU/Linux 12 (bookworm)',
      kernel: '6.1.0-18-amd64',
      uptime_days: '3.50',
      cores: '4',
      cpu_pct: '37.3',
      load_1m: '2.00',
      load_5m: '1.50',
      load_15m: '1.00',
      load_per_core: '0.50',
      mem_total_gb: '8.00',
      mem_used_gb: '2.00',
      mem_available_gb: '6.00',
      mem_pct: '25.0',
      swap_total_gb: '2.00',
      swap_used_gb: '0.50',
      swap_pct: '25.0',
      disk_worst_mount: '/var',
      disk_worst_pct: '90.0',
      disk_worst_free_gb: '2.00',
      top_cpu: 'php-fpm [www-data] 97.0%; postgres [postgres] 3.1%; cron [root] 1.0%',
      top_mem: 'postgres [postgres] 2048.0 MB; php-fpm [www-data] 300.0 MB; cron [root] 1.0 MB',
      logged_in: 'alice bob',
      notes: '',
    });
  });

  it('keeps identity and error of a failed host and leaves metrics empty', () => {
    const row = asRecord(LOG_COLUMNS, logRow(failedResult('db9', 'auth_failed', 'auth', 'permission denied'), start, fmt));
    assert.equal(row.status, 'auth_failed');
    assert.equal(row.phase, 'auth');
    assert.equal(row.error, 'permission denied');
    assert.equal(row.duration_ms, '10000');
    assert.equal(row.address, 'db9.example.net');
    for (const column of LOG_COLUMNS.slice(LOG_COLUMNS.indexOf('hostname'))) assert.equal(row[column], '', column);
  });

  it('measures disk use as df does, used / (used + available), ignoring reserved blocks', () => {
    const disks = [
      // 50 % of total, but 60 / (60 + 20) = 75 % by df.
      { mount: '/data', fsType: 'ext4', totalKb: 120 * GIB_KB, usedKb: 60 * GIB_KB, availableKb: 20 * GIB_KB },
      { mount: '/', fsType: 'ext4', totalKb: 10 * GIB_KB, usedKb: 7 * GIB_KB, availableKb: 3 * GIB_KB },
      { mount: '/proc-like', fsType: 'tmpfs', totalKb: 0, usedKb: 0, availableKb: 0 },
    ];
    const row = asRecord(LOG_COLUMNS, logRow(okResult('web1', { disks }), start, fmt));
    assert.equal(row.disk_worst_mount, '/data');
    assert.equal(row.disk_worst_pct, '75.0');
    assert.equal(row.disk_worst_free_gb, '20.00');
  });

  it('leaves swap_pct, load and disk cells empty when the host has none', () => {
    const base = okResult('web1');
    assert.equal(base.status, 'ok');
    const mem = { ...base.sample.mem, swapTotalKb: 0, swapFreeKb: 0 };
    const row = asRecord(LOG_COLUMNS, logRow(okResult('web1', { mem, load: null, disks: [], osPretty: '' }), start, fmt));
    assert.equal(row.swap_pct, '');
    assert.equal(row.swap_total_gb, '0.00');
    assert.equal(row.load_1m, '');
    assert.equal(row.load_per_core, '');
    assert.equal(row.disk_worst_mount, '');
    assert.equal(row.os, 'linux');
  });

  it('neutralises formula text in composed cells and joins warnings', () => {
    const procs = [{ pid: 1, user: 'x', cpuPct: 50, rssKb: 1024, name: '=cmd|"/c calc"!A1' }];
    const row = asRecord(LOG_COLUMNS, logRow(okResult('web1', { procs, warnings: ['-mount hung', 'no load'] }), start, fmt));
    assert.equal(row.top_cpu, `'=cmd|"/c calc"!A1 [x] 50.0%`);
    assert.equal(row.notes, "'-mount hung; no load");
  });
});

describe('detail rows', () => {
  it('lists every process, disk and user of a reachable host', () => {
    const result = okResult('web1');
    const procs = processRows(result, start, fmt).map((row) => asRecord(PROCESS_COLUMNS, row));
    assert.equal(procs.length, 4);
    assert.deepEqual(procs[0], {
      time: '2024-03-05 10:00:00',
      server: 'web1',
      pid: '101',
      user: 'postgres',
      process: 'postgres',
      cpu_pct: '3.1',
      mem_mb: '2048.0',
    });
    const disks = diskRows(result, start, fmt).map((row) => asRecord(DISK_COLUMNS, row));
    assert.deepEqual(disks[1], {
      time: '2024-03-05 10:00:00',
      server: 'web1',
      mount: '/var',
      fstype: 'xfs',
      total_gb: '20.00',
      used_gb: '18.00',
      free_gb: '2.00',
      used_pct: '90.0',
    });
    const users = userRows(result, start, fmt).map((row) => asRecord(USER_COLUMNS, row));
    assert.deepEqual(users[1], {
      time: '2024-03-05 10:00:00',
      server: 'web1',
      user: 'www-data',
      cpu_pct: '97.0',
      mem_mb: '300.0',
      processes: '12',
    });
  });

  it('has no detail rows for a failed host', () => {
    const result = failedResult('db9');
    assert.deepEqual(processRows(result, start, fmt), []);
    assert.deepEqual(diskRows(result, start, fmt), []);
    assert.deepEqual(userRows(result, start, fmt), []);
  });
});

describe('compareByServer', () => {
  it('sorts numbers inside names numerically', () => {
    const names = ['web10', 'db1', 'web2', 'Web3'].map((name) => okResult(name)).sort(compareByServer);
    assert.deepEqual(
      names.map((result) => result.host.name),
      ['db1', 'web2', 'Web3', 'web10'],
    );
  });
});
