// Migrations: an empty file gets the whole schema; a v1 store (as the first release wrote it) is brought to the
// current version with its data kept; a v2 store's detail rows become one details row per poll; a store newer than this build is refused, untouched.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { migrate, userVersion } from '../../src/history/migrations.js';
import { HistoryError, openHistory } from '../../src/history/open.js';
import { HistoryQueries } from '../../src/history/queries.js';
import { MIGRATIONS, SCHEMA_VERSION } from '../../src/history/schema.js';

const dir = mkdtempSync(join(tmpdir(), 'fleetpoll-history-migrations-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function tables(db: Database.Database): string[] {
  return db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as string[];
}

describe('history migrations', () => {
  it('creates every table in a new file, in WAL mode with foreign keys on', () => {
    const db = openHistory(join(dir, 'new.sqlite'));
    try {
      assert.equal(userVersion(db), SCHEMA_VERSION);
      assert.deepEqual(tables(db), ['cycles', 'details', 'hosts', 'hourly', 'hourly_disks', 'hourly_users', 'maintenance', 'samples']);
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
      assert.equal(db.pragma('foreign_keys', { simple: true }), 1);
      assert.ok((db.pragma('busy_timeout', { simple: true }) as number) > 0);
    } finally {
      db.close();
    }
  });

  it('brings a v1 store to the current version and keeps its rows', () => {
    const file = join(dir, 'v1.sqlite');
    const v1 = new Database(file);
    assert.deepEqual(migrate(v1, MIGRATIONS, 1), { from: 0, to: 1 });
    v1.prepare("INSERT INTO hosts (name) VALUES ('web1')").run();
    v1.prepare("INSERT INTO samples (host_id, at, status, cpu_pct) VALUES (1, 1000, 'ok', 12.5)").run();
    assert.equal(userVersion(v1), 1);
    assert.ok(!tables(v1).includes('hourly'));
    v1.close();

    const db = openHistory(file);
    try {
      assert.equal(userVersion(db), SCHEMA_VERSION);
      assert.ok(tables(db).includes('hourly'));
      assert.deepEqual(db.prepare('SELECT at, status, cpu_pct FROM samples').all(), [{ at: 1000, status: 'ok', cpu_pct: 12.5 }]);
    } finally {
      db.close();
    }
    // Opening again runs nothing.
    const again = openHistory(file);
    assert.deepEqual(migrate(again), { from: SCHEMA_VERSION, to: SCHEMA_VERSION });
    again.close();
  });

  it('brings a v2 store to v3: each poll\'s users, disks, processes and sessions become its details row', () => {
    const file = join(dir, 'v2.sqlite');
    const v2 = new Database(file);
    assert.deepEqual(migrate(v2, MIGRATIONS, 2), { from: 0, to: 2 });
    v2.exec(`
      INSERT INTO hosts (id, name) VALUES (1, 'web1'), (2, 'db1');
      INSERT INTO samples (host_id, at, status, cpu_cores, mem_total_kb) VALUES (1, 1000, 'ok', 4, 8000), (1, 1300, 'ok', 4, 8000), (2, 1000, 'timeout', NULL, NULL), (2, 1300, 'ok', 2, 4000);
      INSERT INTO users VALUES (1, 1000, 'www-data', 97, 307200, 12), (1, 1000, 'postgres', 3.1, 2097152, 7), (1, 1300, 'root', 0.5, 1024, NULL);
      INSERT INTO disks VALUES (1, 1000, '/', 'ext4', 100, 45, 50), (1, 1000, '/var', 'xfs', NULL, 18, 2);
      INSERT INTO processes VALUES (1, 1000, '[[202,"www-data",97,307200,"php-fpm"]]'), (2, 1300, '[[1,"root",0.1,512,"init"]]');
      INSERT INTO sessions VALUES (1, 1300, '[["alice","pts/0","10.0.0.8"]]');
    `);
    v2.close();

    const db = openHistory(file);
    try {
      assert.equal(userVersion(db), SCHEMA_VERSION);
      assert.ok(!tables(db).some((t) => ['users', 'disks', 'processes', 'sessions'].includes(t)), tables(db).join(' '));
      const rows = db.prepare('SELECT host_id, at, users, disks, processes, sessions FROM details ORDER BY at, host_id').raw().all() as unknown[][];
      assert.deepEqual(rows.map((r) => r.map((v) => (typeof v === 'string' ? JSON.parse(v) : v))), [
        [1, 1000, [['postgres', 3.1, 2097152, 7], ['www-data', 97, 307200, 12]], [['/', 'ext4', 100, 45, 50], ['/var', 'xfs', null, 18, 2]], [[202, 'www-data', 97, 307200, 'php-fpm']], null],
        [1, 1300, [['root', 0.5, 1024, null]], null, null, [['alice', 'pts/0', '10.0.0.8']]],
        [2, 1300, null, null, [[1, 'root', 0.1, 512, 'init']], null],
      ]);
      // And the queries read them as they read v2's rows.
      const q = new HistoryQueries(db);
      assert.deepEqual(q.processes('web1', 1000)?.processes, [{ pid: 202, user: 'www-data', cpuPct: 97, rssKb: 307200, name: 'php-fpm' }]);
      assert.deepEqual(q.processes('web1', 1300)?.sessions, [{ user: 'alice', terminal: 'pts/0', from: '10.0.0.8' }]);
      assert.deepEqual(q.users('web1', 1000, 1600)?.map((u) => [u.user, u.polls, u.cpuPctAvg, u.rssKbMax]), [['www-data', 1, 97, 307200], ['postgres', 1, 3.1, 2097152], ['root', 1, 0.5, 1024]]);
      assert.deepEqual(db.pragma('foreign_key_check'), []);
    } finally {
      db.close();
    }
  });

  it('refuses a store written by a newer fleetpoll, naming the file', () => {
    const file = join(dir, 'future.sqlite');
    const future = new Database(file);
    future.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    future.close();
    assert.throws(
      () => openHistory(file),
      (error: unknown) =>
        error instanceof HistoryError && error.problem === 'too_new' && error.message.includes(file) && /newer than this fleetpoll's/.test(error.message),
    );
  });
});
