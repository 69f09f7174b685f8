// The bounded failure lines of one cycle's run log (src/fleet/failure-lines.ts), with a recording log.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FailureLines, FailureLinesByCycle } from '../../src/fleet/failure-lines.js';
import type { Log } from '../../src/log.js';

type Line = { level: string; message: string; meta: Record<string, unknown> };

// A Log that keeps its lines, child() meta merged in (as winston's child does).
function recordingLog(lines: Line[], base: Record<string, unknown> = {}): Log {
  const at = (level: string) => (message: string, meta?: Record<string, unknown>): void => {
    lines.push({ level, message, meta: { ...base, ...meta } });
  };
  return { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug'), child: (meta) => recordingLog(lines, { ...base, ...meta }) };
}

describe('failure lines', () => {
  it('names every failed host up to the limit, and nothing more is written at flush', () => {
    const lines: Line[] = [];
    const failures = new FailureLines(recordingLog(lines), 3);
    failures.failed('a', 'unreachable during connect', { error: 'connection refused', attempts: 2 });
    failures.failed('b', 'timeout during handshake', { error: 'no banner' });
    failures.flush();
    assert.deepEqual(lines, [
      { level: 'warn', message: 'unreachable during connect', meta: { host: 'a', error: 'connection refused', attempts: 2 } },
      { level: 'warn', message: 'timeout during handshake', meta: { host: 'b', error: 'no banner' } },
    ]);
  });

  it('past the limit, counts the hosts per status and phase in one line at flush', () => {
    const lines: Line[] = [];
    const failures = new FailureLines(recordingLog(lines), 2);
    for (let i = 0; i < 5; i += 1) failures.failed(`r${i}`, 'unreachable during connect', { error: 'connection refused' });
    for (let i = 0; i < 3; i += 1) failures.failed(`s${i}`, 'timeout during handshake', { error: 'no banner' });
    failures.failed('p', 'probe_error', { error: 'output truncated' });
    assert.equal(lines.length, 2, 'only the first two hosts are named before flush');
    assert.deepEqual(lines.map((l) => l.meta.host), ['r0', 'r1']);
    failures.flush();
    assert.equal(lines.length, 3);
    assert.equal(lines[2]!.level, 'warn');
    assert.match(lines[2]!.message, /^7 more failed hosts not named one by one \(the first 2 are above; every host's status and error are in recentlog\.csv\)$/);
    assert.deepEqual(lines[2]!.meta, { failed: '3 unreachable during connect, 3 timeout during handshake, 1 probe_error' });
    failures.flush();
    assert.equal(lines.length, 3, 'a second flush has nothing left to count');
  });

  it('per cycle (a zone worker): each cycle has its own limit; a third cycle writes the counts of the oldest; flushAll writes the rest', () => {
    const lines: Line[] = [];
    const byCycle = new FailureLinesByCycle(recordingLog(lines), 1);
    for (const host of ['a', 'b', 'c']) byCycle.of('c1').failed(host, 'unreachable during connect', {});
    for (const host of ['d', 'e']) byCycle.of('c2').failed(host, 'timeout during handshake', {});
    assert.deepEqual(lines.map((l) => l.meta.host ?? l.message), ['a', 'd'], 'one named host per cycle, nothing counted yet');
    byCycle.of('c3').failed('f', 'unreachable during connect', {});
    assert.equal(lines.length, 4);
    assert.match(lines[2]!.message, /^2 more failed hosts not named one by one/, 'c1 is written when c3 starts');
    assert.equal(lines[3]!.meta.host, 'f');
    byCycle.flushAll();
    assert.equal(lines.length, 5);
    assert.match(lines[4]!.message, /^1 more failed hosts not named one by one/, 'c2 at the stop; c3 had nothing to count');
  });
});
