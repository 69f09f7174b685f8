// The alerts page's data from real files: the state (read-only: a corrupt file is reported and left
// where it is), and the transitions log the alert run appends (newest first, within the range, a torn
// last line skipped).
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { appendTransitions } from '../../src/alerts/transition-log.js';
import type { Notification } from '../../src/alerts/types.js';
import { readAlerts } from '../../src/web/alert-files.js';

const dir = mkdtempSync(join(tmpdir(), 'fleetpoll-alert-files-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function notification(kind: Notification['kind'], at: string): Notification {
  return { id: `${kind}-${at}`, kind, host: 'web1', rule: 'cpu', mount: null, level: 'warning', value: 91, threshold: 90, reason: null, since: at, at, firedAt: null, topProcesses: [] };
}

describe('alert files', () => {
  it('lists what is firing, and the transitions of the range, newest first', async () => {
    const state = join(dir, 'alert-state.json');
    const log = join(dir, 'alert-transitions.jsonl');
    writeFileSync(state, JSON.stringify({ version: 1, queue: [], alerts: [{ host: 'web1', rule: 'cpu', mount: null, phase: 'firing', level: 'warning', since: '2026-12-04T10:00:00.000Z', firedAt: '2026-12-04T10:10:00.000Z', heldPolls: 3, critPolls: 0, clearPolls: 0, lowerPolls: 0, value: 91, threshold: 90, reason: null, lastNoticeAt: null, adopted: false }] }));
    await appendTransitions(log, [notification('firing', '2026-12-04T10:10:00.000Z')]);
    await appendTransitions(log, []);
    await appendTransitions(log, [notification('resolved', '2026-12-04T11:00:00.000Z'), notification('firing', '2026-12-05T00:00:00.000Z')]);
    appendFileSync(log, '{"at":"2026-12-04T11:30:00.000Z","ki');
    const from = Date.parse('2026-12-04T00:00:00Z') / 1000;
    const data = await readAlerts(state, log, from, from + 86_400);
    assert.equal(data.enabled, true);
    assert.deepEqual(data.now.map((a) => [a.host, a.rule, a.phase]), [['web1', 'cpu', 'firing']]);
    assert.deepEqual(data.transitions.map((t) => [t.kind, t.at]), [['resolved', '2026-12-04T11:00:00.000Z'], ['firing', '2026-12-04T10:10:00.000Z']]);
  });

  it('a corrupt state is reported, not moved; missing files are an empty page', async () => {
    const state = join(dir, 'bad-state.json');
    writeFileSync(state, '{ not json');
    const data = await readAlerts(state, join(dir, 'none.jsonl'), 0, 1);
    assert.match(data.problem ?? '', /bad-state\.json cannot be read: not valid JSON/);
    assert.ok(existsSync(state));
    assert.deepEqual(await readAlerts(join(dir, 'none.json'), join(dir, 'none.jsonl'), 0, 1), { enabled: true, problem: null, now: [], transitions: [], queued: 0 });
  });
});
