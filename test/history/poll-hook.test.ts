// A real `fleetpoll poll` records into data/history.sqlite; a corrupt store, or one another connection holds
// in an exclusive transaction, costs a warning naming the file: the poll succeeds, the CSV files are written,
// and what the store held before is still there.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { runCli } from '../helpers/cli.js';

// fileURLToPath, not .pathname: the checkout may live in a path with spaces.
const REPO = fileURLToPath(new URL('../../../', import.meta.url));

describe('poll records into the history store', () => {
  let dir: string;
  let file: string;
  const logRows = (): number => readFileSync(join(dir, 'data', 'log.csv'), 'utf8').trim().split('\n').length - 1;
  const samples = (): number => {
    const db = new Database(file, { readonly: true });
    try {
      return db.prepare('SELECT count(*) FROM samples').pluck().get() as number;
    } finally {
      db.close();
    }
  };
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'fleetpoll-history-poll-'));
    file = join(dir, 'data', 'history.sqlite');
    writeFileSync(join(dir, 'fleetpoll.config.json'), JSON.stringify({ poll: { cpuWindowSeconds: 0.2, timeoutSeconds: 20 } }));
    cpSync(join(REPO, 'inventory'), join(dir, 'inventory'), { recursive: true });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('records each poll', async () => {
    const run = await runCli(['poll', '--quiet'], dir);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(samples(), 1);
  });

  it('a store locked by another connection: a warning naming the file, the CSV row written, the old sample kept', async () => {
    const other = new Database(file);
    other.exec('BEGIN EXCLUSIVE');
    let run;
    try {
      run = await runCli(['poll'], dir);
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`Warning: history store ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: locked by another process.*nothing of this poll was recorded in it; the CSV files were written`));
    assert.equal(logRows(), 2);
    assert.equal(samples(), 1);
  });

  it('a corrupt store: a warning naming the file, the CSV row written, the file left as it was', async () => {
    rmSync(`${file}-wal`, { force: true });
    rmSync(`${file}-shm`, { force: true });
    const garbage = Buffer.alloc(8192, 'x');
    writeFileSync(file, garbage);
    const run = await runCli(['poll'], dir);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /Warning: history store .*history\.sqlite: the file is damaged or not an SQLite database; it was left as it is/);
    assert.equal(logRows(), 3);
    assert.deepEqual(readFileSync(file), garbage);
  });
});
