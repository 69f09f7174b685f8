// The terminal progress line (src/progress-line.ts) against a fake terminal stream and a fake clock:
// what it says, that it fits the width and redraws in place, and when a poll shows it at all.
// The real terminal case (a pseudo-terminal) is in test/cli.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Log } from '../src/log.js';
import type { PollResult } from '../src/model.js';
import { clearingLineBefore, ProgressLine, wantsProgress, type TerminalStream } from '../src/progress-line.js';
import { hostsFromCsv } from './helpers/fleet.js';

// A fake terminal: records what is written.
function fakeTerminal(columns = 200): TerminalStream & { written: string[] } {
  const written: string[] = [];
  return { isTTY: true, columns, written, write: (text: string) => written.push(text) };
}

const hosts = hostsFromCsv('name,address\nweb1,10.0.0.1\nweb2,10.0.0.2\ndb1,10.0.0.3\n');
const [web1, web2, db1] = hosts;
// Only what the line reads of a result: the host and the status.
const result = (host: (typeof hosts)[number] | undefined, status: 'ok' | 'timeout'): PollResult => ({ host, status }) as unknown as PollResult;

describe('progress line with a fake terminal and a fake clock', () => {
  it('says done of total, ok, failed, elapsed and the slowest host still running', () => {
    let nowMs = 1000;
    const term = fakeTerminal();
    const line = new ProgressLine(term, () => nowMs);
    line.cycleStarted(hosts);
    try {
      assert.equal(line.text(), 'fleetpoll: 0/3 hosts done, 0 ok, 0 failed, 0.0 s');
      assert.ok(web1 !== undefined && web2 !== undefined && db1 !== undefined);
      line.hostStarted(web1);
      nowMs += 500;
      line.hostStarted(web2);
      nowMs += 1500;
      assert.equal(line.text(), 'fleetpoll: 0/3 hosts done, 0 ok, 0 failed, 2.0 s; slowest running: web1 (2.0 s)');
      line.hostDone(result(web1, 'timeout'));
      line.hostStarted(db1);
      nowMs += 1000;
      assert.equal(line.text(), 'fleetpoll: 1/3 hosts done, 0 ok, 1 failed, 3.0 s; slowest running: web2 (2.5 s)');
      line.hostDone(result(web2, 'ok'));
      line.hostDone(result(db1, 'ok'));
      assert.equal(line.text(), 'fleetpoll: 3/3 hosts done, 2 ok, 1 failed, 3.0 s');
    } finally {
      line.stop();
    }
  });

  it('redraws in place (carriage return + erase line), never a newline, and stop() erases it', () => {
    const term = fakeTerminal();
    const line = new ProgressLine(term, () => 0);
    line.cycleStarted(hosts);
    line.stop();
    assert.deepEqual(term.written, ['\r\x1b[2Kfleetpoll: 0/3 hosts done, 0 ok, 0 failed, 0.0 s', '\r\x1b[2K']);
    line.stop();
    assert.equal(term.written.length, 2, 'an erased line is not erased twice');
  });

  it('fits the terminal width, so that it never wraps', () => {
    const [long] = hostsFromCsv(`name,address\n${'a'.repeat(120)},10.0.0.9\n`);
    assert.ok(long !== undefined);
    const line = new ProgressLine(fakeTerminal(60), () => 0);
    line.cycleStarted([long]);
    line.hostStarted(long);
    line.stop();
    assert.equal(line.text().length, 59);
    assert.ok(line.text().endsWith('...'));
  });

  it('erases the line before a warning or an error reaches the terminal', () => {
    const term = fakeTerminal();
    const line = new ProgressLine(term, () => 0);
    const events: string[] = [];
    const recorder: Log = {
      error: (m) => events.push(`error ${m} after ${JSON.stringify(term.written.at(-1))}`),
      warn: (m) => events.push(`warn ${m} after ${JSON.stringify(term.written.at(-1))}`),
      info: (m) => events.push(`info ${m}`),
      debug: (m) => events.push(`debug ${m}`),
      child: () => recorder,
    };
    const log = clearingLineBefore(recorder, line);
    line.cycleStarted(hosts);
    log.child({ host: 'web1' }).warn('slow');
    log.info('quiet');
    line.stop();
    assert.deepEqual(events, ['warn slow after "\\r\\u001b[2K"', 'info quiet']);
  });
});

describe('when a poll shows the progress line', () => {
  const none = { quiet: false, json: false, verbose: false };
  it('only when stderr is a terminal (a fake TTY stream here)', () => {
    assert.equal(wantsProgress({ isTTY: true, write: () => true }, none), true);
    assert.equal(wantsProgress({ isTTY: false, write: () => true }, none), false);
    assert.equal(wantsProgress({ write: () => true }, none), false, 'a pipe or file has no isTTY');
  });
  it('never with --quiet, --json or --verbose', () => {
    const tty = { isTTY: true, write: () => true };
    assert.equal(wantsProgress(tty, { ...none, quiet: true }), false);
    assert.equal(wantsProgress(tty, { ...none, json: true }), false);
    assert.equal(wantsProgress(tty, { ...none, verbose: true }), false);
  });
});
