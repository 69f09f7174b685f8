// Migrations: an empty file gets the whole schema; a v1 store (as the first release wrote it) is brought to the
// current version with its data kept; a store newer than this build is refused, untouched.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { migrate, userVersion } from '../../src/history/migrations.js';
import { HistoryError, openHistory } from '../../src/history/open.js';
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
      assert.deepEqual(tables(db), ['cycles', 'disks', 'hosts', 'hourly', 'hourly_disks', 'hourly_users', 'maintenance', 'processes', 'samples', 'sessions', 'users']);
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
