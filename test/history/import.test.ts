// `history import` back-fills from the CSV files the poll wrote (a rotated month and the live files), through
// the report's readers: the values come back as recorded (within the CSV's rounding), and importing twice,
// from the library or the command line, adds nothing.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { importCsvHistory } from '../../src/history/import.js';
import { HistoryStore } from '../../src/history/store.js';
import { silentLog } from '../../src/log.js';
import { rotateBeforeWrite } from '../../src/report/poll-hooks.js';
import { writeCycle } from '../../src/store/write-cycle.js';
import { runCli } from '../helpers/cli.js';
import { failedResult, GIB_KB, okResult } from '../helpers/store-fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'fleetpoll-history-import-'));
const dataDir = join(dir, 'data');
const OCT = Date.parse('2026-10-31T23:40:00Z') / 1000;
const NOV = Date.parse('2026-11-01T00:00:00Z') / 1000;
const CYCLES = [OCT, OCT + 600, NOV, NOV + 300, NOV + 600];
const retention = { rawDays: 3000, hourlyDays: 3000 };

before(async () => {
  for (const at of CYCLES) {
    const cycleStart = new Date(at * 1000);
    await rotateBeforeWrite(dataDir, cycleStart, 'monthly', silentLog);
    const results = [okResult('web1', { cpuBusyPct: 12.3 }), at === NOV ? failedResult('db1', 'unreachable', 'connect', 'connection refused') : okResult('db1')];
    await writeCycle(results, cycleStart, { dataDir, delimiter: ',', decimalSeparator: '.' });
  }
  writeFileSync(join(dir, 'fleetpoll.config.json'), JSON.stringify({ history: { rawDays: 3000, hourlyDays: 3000 } }));
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('history import', () => {
  it('reads the rotated month and the live files into samples, details and cycles', async () => {
    assert.ok(readdirSync(dataDir).includes('log-2026-10.csv'), `rotated: ${readdirSync(dataDir).join(' ')}`);
    const store = HistoryStore.open(join(dataDir, 'history.sqlite'), retention);
    try {
      const outcome = await importCsvHistory(store, dataDir);
      assert.deepEqual(outcome.range, { from: OCT, to: NOV + 600 });
      assert.equal(outcome.cyclesAdded, CYCLES.length);
      const added = (kind: string): number => outcome.files.filter((f) => f.kind === kind).reduce((n, f) => n + f.added, 0);
      assert.equal(added('log'), 2 * CYCLES.length);
      assert.equal(added('disks'), 2 * (2 * CYCLES.length - 1));
      assert.equal(added('users'), 2 * (2 * CYCLES.length - 1));
      assert.equal(added('processes'), 2 * CYCLES.length - 1);
      assert.ok(outcome.files.every((f) => f.bad === 0 && f.orphans === 0), JSON.stringify(outcome.files));

      const q = store.read();
      const latest = q.latest();
      assert.deepEqual(latest.map((l) => [l.host, l.at, l.status]), [['db1', NOV + 600, 'ok'], ['web1', NOV + 600, 'ok']]);
      const web1 = latest[1];
      assert.equal(web1?.cpuPct, 12.3);
      assert.equal(web1?.memTotalKb, 8 * GIB_KB);
      assert.equal(web1?.os, 'Debian GNU/Linux 12 (bookworm)');
      assert.equal(web1?.cpuCores, 4);
      assert.equal(web1?.load1m, 2);
      const failed = q.series('db1', ['cpu_pct'], NOV, NOV + 300, 300)?.points[0];
      assert.deepEqual(failed, { t: NOV, polls: 1, ok: 0, status: 'unreachable', values: { cpu_pct: null } });
      assert.equal(store.db.prepare("SELECT error FROM samples WHERE status = 'unreachable'").pluck().get(), 'connection refused');
      const snapshot = q.processes('web1', NOV);
      assert.deepEqual(snapshot?.processes.map((p) => [p.pid, p.name, p.user]), [[202, 'php-fpm', 'www-data'], [101, 'postgres', 'postgres'], [404, 'cron', 'root'], [303, 'sshd', 'root']]);
      assert.equal(q.users('web1', OCT, NOV + 601)?.[0]?.user, 'www-data');
      // Rolled up: the October hour and the November hour.
      assert.equal(store.db.prepare('SELECT count(*) FROM hourly').pluck().get(), 4);

      const again = await importCsvHistory(store, dataDir);
      assert.equal(again.cyclesAdded, 0);
      assert.deepEqual(again.files.map((f) => f.added), again.files.map(() => 0));
    } finally {
      store.close();
    }
  });

  it('`fleetpoll history import` twice adds nothing the second time', async () => {
    const first = await runCli(['history', 'import'], dir);
    assert.equal(first.code, 0, first.stderr);
    const second = await runCli(['history', 'import', '--json'], dir);
    assert.equal(second.code, 0, second.stderr);
    const outcome = JSON.parse(second.stdout) as { files: { added: number }[]; cyclesAdded: number };
    assert.equal(outcome.cyclesAdded, 0);
    assert.ok(outcome.files.length >= 8 && outcome.files.every((f) => f.added === 0), second.stdout);
    const stats = await runCli(['history', 'stats'], dir);
    assert.equal(stats.code, 0, stats.stderr);
    assert.match(stats.stdout, /2 host\(s\), 5 cycle\(s\), 10 sample\(s\) from 2026-10-31 23:40:00 to 2026-11-01 00:10:00 UTC/);
  });
});
