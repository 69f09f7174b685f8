// Recording a cycle: every field of the sample, its disks, users, processes and sessions, and the cycle row,
// round-trip through the queries; a failed poll keeps status, phase and error; a second record of the same
// second adds nothing.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { quantile } from '../../src/history/record.js';
import { HistoryStore } from '../../src/history/store.js';
import { failedResult, GIB_KB, okResult } from '../helpers/store-fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'fleetpoll-history-record-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const retention = { rawDays: 35, hourlyDays: 400 };
const T0 = Date.parse('2026-11-02T10:00:00Z') / 1000;

describe('history record', () => {
  it('round-trips a cycle: latest, processes and sessions, users, cycles', () => {
    const store = HistoryStore.open(join(dir, 'roundtrip.sqlite'), retention);
    try {
      const results = [okResult('web1', {}, { tags: ['prod', 'web'] }), failedResult('db1', 'auth_failed', 'auth', 'permission denied (publickey)')];
      const outcome = store.record(results, { startedAt: new Date(T0 * 1000 + 400), durationMs: 2500, reconnects: 3 });
      assert.deepEqual(outcome, { samples: 2, at: T0 });
      const q = store.read();

      const latest = q.latest();
      assert.equal(latest.length, 2);
      const [db1, web1] = latest;
      assert.deepEqual(
        { host: db1?.host, at: db1?.at, status: db1?.status, phase: db1?.phase, error: db1?.error, cpuPct: db1?.cpuPct, memPct: db1?.memPct },
        { host: 'db1', at: T0, status: 'auth_failed', phase: 'auth', error: 'permission denied (publickey)', cpuPct: null, memPct: null },
      );
      assert.deepEqual(web1, {
        host: 'web1', address: 'web1.example.net', transport: 'ssh', tags: ['prod', 'web'], at: T0, status: 'ok', phase: null, error: null,
        durationMs: 1234, hostname: 'web1', os: 'Debian GNU/Linux 12 (bookworm)', uptimeSec: 3 * 86400 + 43200, cpuCores: 4, cpuPct: 37.26, load1m: 2,
        memTotalKb: 8 * GIB_KB, memAvailableKb: 6 * GIB_KB, memPct: 25, swapPct: 25,
      });
      // Every Sample field is in the row.
      const row = store.db.prepare("SELECT * FROM samples WHERE status = 'ok'").get() as Record<string, unknown>;
      assert.deepEqual(
        [row.os_family, row.os_version, row.load_5m, row.load_15m, row.mem_free_kb, row.swap_total_kb, row.swap_free_kb, row.attempts],
        ['linux', '6.1.0-18-amd64', 1.5, 1, 5 * GIB_KB, 2 * GIB_KB, 1.5 * GIB_KB, 1],
      );
      const disks = store.db.prepare('SELECT disks FROM details WHERE disks IS NOT NULL').pluck().all() as string[];
      assert.equal(disks.length, 1);
      assert.deepEqual(JSON.parse(disks[0] as string), [
        ['/', 'ext4', 100 * GIB_KB, 45 * GIB_KB, 50 * GIB_KB],
        ['/var', 'xfs', 20 * GIB_KB, 18 * GIB_KB, 2 * GIB_KB],
      ]);

      const snapshot = q.processes('web1', T0 + 100);
      assert.equal(snapshot?.at, T0);
      assert.equal(snapshot?.status, 'ok');
      assert.deepEqual(snapshot?.processes.map((p) => [p.pid, p.name, p.user, p.cpuPct, p.rssKb]), [
        [202, 'php-fpm', 'www-data', 97, 300 * 1024],
        [101, 'postgres', 'postgres', 3.1, 2 * GIB_KB],
        [404, 'cron', 'root', 1, 1024],
        [303, 'sshd', 'root', 0.04, 512],
      ]);
      assert.deepEqual(snapshot?.sessions, [
        { user: 'bob', terminal: 'pts/1', from: '10.0.0.9' },
        { user: 'alice', terminal: 'pts/0', from: '10.0.0.8' },
        { user: 'bob', terminal: 'pts/2', from: '10.0.0.9' },
      ]);
      assert.deepEqual(q.processes('db1', T0)?.processes, []);
      assert.equal(q.processes('nobody', T0), null);

      assert.deepEqual(q.users('web1', T0, T0 + 300), [
        { user: 'www-data', polls: 1, cpuPctAvg: 97, cpuPctMax: 97, rssKbAvg: 300 * 1024, rssKbMax: 300 * 1024 },
        { user: 'postgres', polls: 1, cpuPctAvg: 3.1, cpuPctMax: 3.1, rssKbAvg: 2 * GIB_KB, rssKbMax: 2 * GIB_KB },
      ]);
      assert.deepEqual(q.cycles(T0, T0 + 1), [
        { startedAt: T0, durationMs: 2500, hostsTotal: 2, hostsOk: 1, hostsFailed: 1, coveragePct: 50, latencyP50Ms: 1234, latencyP95Ms: 10000, reconnects: 3 },
      ]);

      // The same second again (a second poll within it): nothing added, the first kept whole.
      assert.equal(store.record([okResult('web1', { cpuBusyPct: 1 })], { startedAt: new Date(T0 * 1000), durationMs: 1 }).samples, 0);
      assert.equal(store.read().latest()[1]?.cpuPct, 37.26);
    } finally {
      store.close();
    }
  });

  it('quantile is nearest-rank', () => {
    assert.equal(quantile([], 0.5), null);
    assert.equal(quantile([5], 0.95), 5);
    assert.equal(quantile([1, 2, 3, 4], 0.5), 2);
    assert.equal(quantile(Array.from({ length: 100 }, (_, i) => i + 1), 0.95), 95);
  });
});
