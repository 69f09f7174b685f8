// bench:history's bulk load writes exactly the store the product's own path (record() + step() per cycle)
// writes for the same generated fleet: every table, row for row, value for value, the maintenance state included.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type Database from 'better-sqlite3';
import { bulkLoadFleet, recordFleet, type FleetSpec } from '../../../bench/lib/history-load.js';
import { HistoryStore } from '../../../src/history/store.js';

const dir = mkdtempSync(join(tmpdir(), 'fleetpoll-history-load-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const retention = { rawDays: 35, hourlyDays: 400 };

// Every table's rows in primary-key-free order (all columns), so the two stores compare whole.
function dump(db: Database.Database): Record<string, unknown[]> {
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all() as string[];
  const out: Record<string, unknown[]> = { user_version: [db.pragma('user_version', { simple: true })] };
  for (const table of tables) {
    const columns = (db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name);
    out[table] = db.prepare(`SELECT * FROM ${table} ORDER BY ${columns.map((_, i) => i + 1).join(', ')}`).raw().all();
  }
  return out;
}

function both(name: string, spec: FleetSpec): { product: Record<string, unknown[]>; bulk: Record<string, unknown[]> } {
  const product = HistoryStore.open(join(dir, `${name}-product.sqlite`), retention);
  const bulk = HistoryStore.open(join(dir, `${name}-bulk.sqlite`), retention);
  try {
    recordFleet(product, spec);
    bulkLoadFleet(bulk, spec, retention);
    return { product: dump(product.db), bulk: dump(bulk.db) };
  } finally {
    product.close();
    bulk.close();
  }
}

describe('bench history bulk load', () => {
  it('writes the same rows as record() + step() per cycle (60 hosts, 4 hours from mid-hour: failures, disks, prune cursor wrapping)', () => {
    // 60 hosts: the prune batch is 50, so the cursor wraps; 49 polls from 10:10 to 14:10: 4 hours rolled up, a 5th open, the cursor left at 50.
    const spec: FleetSpec = { hosts: 60, start: Date.parse('2026-11-02T10:10:00Z') / 1000, polls: 49, pollSec: 300, diskEvery: 12, seed: 17 };
    const { product, bulk } = both('small', spec);
    assert.equal(product.samples?.length, 60 * 49);
    assert.ok((product.samples as unknown[][]).some((row) => row[2] === 'timeout'), 'some polls failed');
    assert.equal(product.hourly?.length, 60 * 4);
    assert.ok((product.hourly_disks?.length ?? 0) > 0);
    assert.equal(product.cycles?.length, 49);
    assert.deepEqual(product.maintenance, [['prune_cursor', 50], ['rolled_up_to', Date.parse('2026-11-02T14:00:00Z') / 1000]]);
    for (const table of Object.keys(product)) assert.deepEqual(bulk[table], product[table], `table ${table}`);
    assert.deepEqual(Object.keys(bulk), Object.keys(product));
  });

  it('writes the same rows for a fleet larger than a prune batch of 50 and under an hour', () => {
    const spec: FleetSpec = { hosts: 700, start: Date.parse('2026-11-02T10:00:00Z') / 1000, polls: 11, pollSec: 300, diskEvery: 12, seed: 3 };
    const { product, bulk } = both('wide', spec);
    assert.equal(product.hourly?.length, 0);
    for (const table of Object.keys(product)) assert.deepEqual(bulk[table], product[table], `table ${table}`);
  });

  it('refuses a span the steps would have pruned, and a store that is not empty', () => {
    const store = HistoryStore.open(join(dir, 'refuse.sqlite'), retention);
    try {
      const long: FleetSpec = { hosts: 1, start: 0, polls: (36 * 86_400) / 300, pollSec: 300, diskEvery: 12, seed: 1 };
      assert.throws(() => bulkLoadFleet(store, long, retention), /span more than history.rawDays \(35\)/);
      bulkLoadFleet(store, { ...long, polls: 2 }, retention);
      assert.throws(() => bulkLoadFleet(store, { ...long, polls: 2 }, retention), /the store is not empty/);
    } finally {
      store.close();
    }
  });
});
