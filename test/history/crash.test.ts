// A SIGKILL in the middle of recording leaves a store that opens, passes integrity_check and holds whole cycles
// only (WAL: a transaction is in the store entirely or not at all).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { HistoryStore } from '../../src/history/store.js';

const dir = mkdtempSync(join(tmpdir(), 'fleetpoll-history-crash-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const HOSTS = 200;

// The child records 200-host cycles back to back and says "recording" once the first is in.
const CHILD = `
import { HistoryStore } from ${JSON.stringify(new URL('../../src/history/store.js', import.meta.url).href)};
import { okResult } from ${JSON.stringify(new URL('../helpers/store-fixtures.js', import.meta.url).href)};
const store = HistoryStore.open(process.argv[2], { rawDays: 35, hourlyDays: 400 });
const results = Array.from({ length: ${HOSTS} }, (_, i) => okResult('h' + i));
for (let k = 0; ; k += 1) {
  const at = Date.UTC(2026, 10, 1) + k * 300_000;
  store.record(results, { startedAt: new Date(at), durationMs: 1 });
  store.step(at / 1000);
  if (k === 0) process.stdout.write('recording\\n');
}
`;

describe('history store after a SIGKILL', () => {
  it('opens again, integrity_check ok, only whole cycles', async () => {
    const file = join(dir, 'crash.sqlite');
    const script = join(dir, 'child.mjs');
    writeFileSync(script, CHILD);
    const child = spawn(process.execPath, [script, file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', () => resolve());
      child.on('exit', () => reject(new Error(`the child exited before recording: ${stderr}`)));
    });
    // Let it record for a while, then kill it wherever it is.
    await new Promise((r) => setTimeout(r, 700));
    const exited = new Promise((r) => child.on('exit', r));
    child.kill('SIGKILL');
    await exited;

    const store = HistoryStore.open(file, { rawDays: 35, hourlyDays: 400 });
    try {
      assert.equal(store.db.pragma('integrity_check', { simple: true }), 'ok');
      assert.deepEqual(store.db.pragma('foreign_key_check'), []);
      const cycles = store.db.prepare('SELECT count(*) FROM cycles').pluck().get() as number;
      const samples = store.db.prepare('SELECT count(*) FROM samples').pluck().get() as number;
      const disks = store.db.prepare('SELECT sum(json_array_length(disks)) FROM details').pluck().get() as number;
      assert.ok(cycles >= 1, `cycles: ${cycles}`);
      assert.equal(samples, cycles * HOSTS);
      assert.equal(disks, samples * 2);
      // And it takes the next cycle.
      store.record([], { startedAt: new Date(Date.UTC(2027, 0, 1)), durationMs: 1 });
    } finally {
      store.close();
    }
  });
});
