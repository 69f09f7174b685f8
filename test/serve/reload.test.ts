// The sections a reload cannot change (src/serve/reload.ts): an edit to one of them is named and the
// running values are kept; the rest of the edit applies.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig, type Config } from '../../src/config.js';
import { keepRestartOnly, restartOnlyChanges } from '../../src/serve/reload.js';

function configOf(settings: Record<string, unknown>): Config {
  const dir = mkdtempSync(join(tmpdir(), 'fleetpoll-reload-'));
  try {
    writeFileSync(join(dir, 'fleetpoll.config.json'), JSON.stringify(settings));
    return loadConfig({}, {}, dir, 'me');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('restart-only settings at a reload', () => {
  it('names each edited restart-only section, and keeps its running values while the rest of the edit applies', () => {
    const running = configOf({ http: { port: 8080 }, log: { level: 'info' }, poll: { timeoutSeconds: 30 } });
    const edited = configOf({ http: { port: 9090 }, log: { level: 'debug' }, poll: { timeoutSeconds: 10 } });
    assert.deepEqual(restartOnlyChanges(running, edited), [
      'config: the http settings changed: they take effect at the next restart (the running service keeps the ones it started with)',
      'config: the log settings changed: they take effect at the next restart (the running service keeps the ones it started with)',
    ]);
    const kept = keepRestartOnly(running, edited);
    assert.equal(kept.http.port, 8080);
    assert.equal(kept.log.level, 'info');
    assert.equal(kept.poll.timeoutMs, 10_000, 'the rest of the edit applies');
    assert.deepEqual(restartOnlyChanges(running, kept), [], 'the next reload compares against the running sections');
  });

  it('an edit outside those sections needs no restart', () => {
    assert.deepEqual(restartOnlyChanges(configOf({ poll: { timeoutSeconds: 30 } }), configOf({ poll: { timeoutSeconds: 12 } })), []);
  });
});
