// The store's errors name the file and say what is wrong: a corrupt file (left as it is), a file another
// connection holds in an exclusive transaction (the writer gives up after busy_timeout, the data stays).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { HistoryError, openHistory } from '../../src/history/open.js';
import { HistoryStore } from '../../src/history/store.js';
import { okResult } from '../helpers/store-fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'fleetpoll-history-open-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const retention = { rawDays: 35, hourlyDays: 400 };

describe('history store errors', () => {
  it('a file that is not a database is "corrupt", named, and left untouched', () => {
    const file = join(dir, 'corrupt.sqlite');
    const garbage = Buffer.from('this is not an SQLite database, just some bytes a disk error left behind\n'.repeat(100));
    writeFileSync(file, garbage);
    assert.throws(
      () => openHistory(file),
      (error: unknown) => error instanceof HistoryError && error.problem === 'corrupt' && error.message.startsWith(`history store ${file}: `) && /damaged or not an SQLite database/.test(error.message),
    );
    assert.deepEqual(readFileSync(file), garbage);
  });

  it('a store another connection holds in an exclusive transaction is "locked"; what was recorded stays', () => {
    const file = join(dir, 'locked.sqlite');
    const store = HistoryStore.open(file, retention, { busyTimeoutMs: 100 });
    store.record([okResult('web1')], { startedAt: new Date('2026-11-01T10:00:00Z'), durationMs: 10 });
    store.close();

    const other = new Database(file);
    other.pragma('busy_timeout = 0');
    other.exec('BEGIN EXCLUSIVE');
    try {
      const writer = HistoryStore.open(file, retention, { busyTimeoutMs: 100 });
      try {
        assert.throws(
          () => writer.record([okResult('web1')], { startedAt: new Date('2026-11-01T10:05:00Z'), durationMs: 10 }),
          (error: unknown) => error instanceof HistoryError && error.problem === 'locked' && error.message.includes(file) && /locked by another process/.test(error.message),
        );
      } finally {
        writer.close();
      }
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    const reader = HistoryStore.open(file, retention);
    assert.equal(reader.db.prepare('SELECT count(*) FROM samples').pluck().get(), 1);
    reader.close();
  });
});
