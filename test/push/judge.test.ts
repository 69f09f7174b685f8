// judgePush and readTimeRecord (src/push/judge.ts): the strict parser's verdict, the time record, the
// future, the too old and the replay, each with its status and exact reason.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { judgePush, readTimeRecord, utc } from '../../src/push/judge.js';

const FIXTURE = readFileSync(new URL('../../../test/fixtures/probe/debian12-dash/output.txt', import.meta.url), 'utf8');
const NOW = Date.UTC(2026, 11, 4, 12, 0, 0) / 1000;
const ctx = { nowSec: NOW, intervalSeconds: 300, graceSeconds: 60, maxClockSkewSeconds: 60, lastSampleAtSec: null };
const stamped = (time: string | number, output = FIXTURE): string => output.replace('fleetpoll-probe\t1\n', `fleetpoll-probe\t1\ntime\t${time}\n`);

describe('judgePush', () => {
  it('accepts a parsable output with a current time record', () => {
    assert.deepEqual(judgePush(stamped(NOW - 5), ctx), { ok: true, sampleAtSec: NOW - 5 });
    assert.deepEqual(judgePush(stamped(NOW + 60), ctx), { ok: true, sampleAtSec: NOW + 60 }, 'within the skew');
    assert.deepEqual(judgePush(stamped(NOW - 5).replace(/\n/g, '\r\n'), ctx), { ok: true, sampleAtSec: NOW - 5 }, 'CRLF, as PowerShell may send');
  });

  it('refuses what the protocol parser refuses (422, its message)', () => {
    assert.deepEqual(judgePush('', ctx), { ok: false, statusCode: 422, detail: 'not a valid probe output: no output from probe' });
    assert.deepEqual(judgePush(stamped(NOW).replace('\nend\n', '\n'), ctx), { ok: false, statusCode: 422, detail: 'not a valid probe output: output truncated: no end record' });
  });

  it('refuses a missing, repeated or malformed time record (422)', () => {
    assert.match(String(readTimeRecord(FIXTURE)), /^no 'time' record: a push must say when its sample was taken/);
    assert.equal(readTimeRecord(stamped(`${NOW}\ntime\t${NOW}`)), "line 3: a second 'time' record: a push carries exactly one");
    assert.equal(readTimeRecord(stamped('yesterday')), 'line 2: the \'time\' record must be "time<TAB><epoch seconds UTC>" (got "time\\tyesterday")');
    assert.equal(readTimeRecord(stamped(`${NOW}\t1`)), `line 2: the 'time' record must be "time<TAB><epoch seconds UTC>" (got "time\\t${NOW}\\t1")`);
    assert.equal(readTimeRecord(`${stamped(NOW)}time\t1\n`), NOW, 'after end: not part of the output');
    const verdict = judgePush(FIXTURE, ctx);
    assert.equal(verdict.ok === false && verdict.statusCode, 422);
  });

  it('refuses the future beyond the skew and the too old (422), the not newer (409)', () => {
    assert.deepEqual(judgePush(stamped(NOW + 61), ctx), {
      ok: false,
      statusCode: 422,
      detail: "the sample is from the future: its time record says 2026-12-04 12:01:01 UTC, 61 s ahead of the poller's clock (2026-12-04 12:00:00 UTC; at most 60 s allowed): set the host's clock (NTP)",
    });
    assert.deepEqual(judgePush(stamped(NOW - 361), ctx), {
      ok: false,
      statusCode: 422,
      detail: "the sample is too old to be current: its time record says 2026-12-04 11:53:59 UTC, 361 s ago, more than the host's interval (300 s) plus push.graceSeconds (60 s): set the host's clock (NTP), or do not send stored output",
    });
    const last = { ...ctx, lastSampleAtSec: NOW - 10 };
    for (const time of [NOW - 10, NOW - 11]) {
      assert.deepEqual(judgePush(stamped(time), last), {
        ok: false,
        statusCode: 409,
        detail: `the sample is not newer than the last one accepted: its time record says ${utc(time)}, the last accepted push was taken at ${utc(NOW - 10)} (a replay, or pushes sent out of order)`,
      });
    }
    assert.deepEqual(judgePush(stamped(NOW - 9), last), { ok: true, sampleAtSec: NOW - 9 });
  });
});
