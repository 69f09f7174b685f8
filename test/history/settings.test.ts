// The history section: defaults, and each bad value pinned to its exact message.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { configProblems } from '../helpers/config.js';

describe('history settings', () => {
  it('defaults: enabled, 35 days raw, 400 days hourly, data/history.sqlite', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fleetpoll-history-settings-'));
    try {
      const config = loadConfig({}, {}, dir, 'me');
      assert.deepEqual(config.history, { enabled: true, rawDays: 35, hourlyDays: 400, path: null });
      writeFileSync(join(dir, 'fleetpoll.config.json'), JSON.stringify({ history: { enabled: false, rawDays: 7, hourlyDays: 30, path: 'db/h.sqlite' } }));
      assert.deepEqual(loadConfig({}, {}, dir, 'me').history, { enabled: false, rawDays: 7, hourlyDays: 30, path: join(dir, 'db/h.sqlite') });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names each bad value with its line', () => {
    assert.deepEqual(configProblems('{\n"history": {\n"rawDays": 0,\n"hourlyDays": "x",\n"enabled": "maybe",\n"path": "",\n"keep": 1\n}\n}'), [
      'fleetpoll.config.json:7: unknown setting "history.keep" (known: history.enabled, history.rawDays, history.hourlyDays, history.path)',
      'fleetpoll.config.json:3: history.rawDays must be a whole number from 1 to 3660 (got 0)',
      'fleetpoll.config.json:4: history.hourlyDays must be a whole number from 1 to 36600 (got "x")',
      'fleetpoll.config.json:5: history.enabled must be true or false (got "maybe")',
      'fleetpoll.config.json:6: history.path must be a non-empty path (got "")',
    ]);
    assert.deepEqual(configProblems('{"history": {"rawDays": 40, "hourlyDays": 30}}'), [
      'fleetpoll.config.json:1: history.hourlyDays (30) must be at least history.rawDays (40): hourly rollups outlive the raw samples they summarise',
    ]);
    assert.deepEqual(configProblems('{"history": []}'), ['fleetpoll.config.json:1: history must be an object (got [])']);
  });
});
