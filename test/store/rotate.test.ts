// Monthly rotation of the history CSVs: by the month of the first row, never over an existing file.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { rotateHistories, rotateMonthly } from '../../src/store/rotate.js';

const HEAD = '\uFEFFtime,server\r\n';
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fleetpoll-rotate-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('rotateMonthly', () => {
  it('moves log.csv to log-<month of its first row>.csv once a later month starts', async () => {
    writeFileSync(join(dir, 'log.csv'), `${HEAD}2026-10-31 23:55:00,a\r\n2026-11-30 23:55:00,a\r\n`);
    assert.equal(await rotateMonthly(join(dir, 'log.csv'), new Date('2026-10-31T23:59:59Z')), null, 'same month as the first row: stays');
    const done = await rotateMonthly(join(dir, 'log.csv'), new Date('2026-12-01T00:00:00Z'));
    assert.deepEqual(done, { from: join(dir, 'log.csv'), to: join(dir, 'log-2026-10.csv') });
    assert.deepEqual(readdirSync(dir), ['log-2026-10.csv']);
  });

  it('never replaces an archive of the same name (a clock set back)', async () => {
    writeFileSync(join(dir, 'log-2026-10.csv'), 'older archive');
    writeFileSync(join(dir, 'log.csv'), `${HEAD}2026-10-02 00:00:00,a\r\n`);
    const done = await rotateMonthly(join(dir, 'log.csv'), new Date('2026-11-01T00:00:00Z'));
    assert.equal(done?.to, join(dir, 'log-2026-10-2.csv'));
    assert.equal(readFileSync(join(dir, 'log-2026-10.csv'), 'utf8'), 'older archive');
  });

  it('leaves missing, header-only and unreadable-time files alone', async () => {
    const now = new Date('2027-01-01T00:00:00Z');
    assert.equal(await rotateMonthly(join(dir, 'log.csv'), now), null);
    writeFileSync(join(dir, 'log.csv'), HEAD);
    assert.equal(await rotateMonthly(join(dir, 'log.csv'), now), null);
    writeFileSync(join(dir, 'log.csv'), `${HEAD}30/11/2026 10:00,a\r\n`);
    assert.equal(await rotateMonthly(join(dir, 'log.csv'), now), null);
  });

  it('rotateHistories rotates every history file but not the snapshot', async () => {
    for (const name of ['log.csv', 'processes.csv', 'disks.csv', 'users.csv', 'recentlog.csv']) writeFileSync(join(dir, name), `${HEAD}2026-11-05 10:00:00,a\r\n`);
    const { rotated, failed } = await rotateHistories(dir, new Date('2026-12-01T00:05:00Z'));
    assert.equal(failed.length, 0);
    assert.equal(rotated.length, 4);
    assert.deepEqual(readdirSync(dir).sort(), ['disks-2026-11.csv', 'log-2026-11.csv', 'processes-2026-11.csv', 'recentlog.csv', 'users-2026-11.csv']);
  });
});
