// Times and ranges from query strings: formats, defaults, and each bad range's reason.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../../src/http/errors.js';
import { MAX_POINTS, parseRange, parseStep, parseSteppedRange, parseTime } from '../../src/http/time-range.js';

const T = Date.UTC(2026, 11, 4, 12, 0, 0) / 1000;

function reason(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ApiError);
    assert.equal(error.statusCode, 400);
    return error.detail;
  }
  assert.fail('expected a 400');
}

describe('parseTime', () => {
  it('reads epoch seconds and ISO 8601 with or without zone (none = UTC)', () => {
    assert.equal(parseTime('1796385600', 'from'), T);
    assert.equal(parseTime('1796385600.9', 'from'), T);
    assert.equal(parseTime('2026-12-04T12:00:00Z', 'from'), T);
    assert.equal(parseTime('2026-12-04T12:00:00.5Z', 'from'), T);
    assert.equal(parseTime('2026-12-04 12:00', 'from'), T);
    assert.equal(parseTime('2026-12-04T14:00:00+02:00', 'from'), T);
    assert.equal(parseTime('2026-12-04T07:00:00-0500', 'from'), T);
    assert.equal(parseTime('2026-12-04', 'from'), T - 12 * 3600);
  });

  it('refuses what is not a time, and dates that do not exist', () => {
    for (const text of ['now', '', '2026-13-01', '2026-02-29', '2026-12-04T24:00:00Z', '2026-12-04T12:60', '12/04/2026', '-5']) {
      assert.match(reason(() => parseTime(text, 'to')), /^query parameter "to" must be an ISO 8601 time/, text);
    }
  });
});

describe('parseStep', () => {
  it('reads seconds and units', () => {
    assert.deepEqual(['90', '5m', '1h', '1d', '2H'].map((s) => parseStep(s)), [90, 300, 3600, 86400, 7200]);
  });
  it('refuses zero, too long, and other shapes', () => {
    for (const text of ['0', '32d', '1w', '1.5h', 'PT5M']) assert.match(reason(() => parseStep(text)), /^query parameter "step" must be a duration/, text);
  });
});

describe('ranges', () => {
  it('defaults to the last 24 h ending now', () => {
    assert.deepEqual(parseRange({}, T), { fromSec: T - 86400, toSec: T });
    assert.deepEqual(parseRange({ to: '2026-12-04' }, T), { fromSec: T - 12 * 3600 - 86400, toSec: T - 12 * 3600 });
  });

  it('leaves the step to the store when none is given', () => {
    assert.deepEqual(parseSteppedRange({ from: String(T - 30 * 86400) }, T), { fromSec: T - 30 * 86400, toSec: T, stepSec: undefined });
  });

  it('says why a range is refused', () => {
    assert.equal(reason(() => parseRange({ from: String(T), to: String(T - 1) }, T)), 'the range is empty: from (2026-12-04T12:00:00Z) must be before to (2026-12-04T11:59:59Z)');
    assert.equal(parseSteppedRange({ from: String(T - MAX_POINTS * 60), step: '60' }, T).stepSec, 60, 'exactly the limit is fine');
    assert.equal(
      reason(() => parseSteppedRange({ from: String(T - MAX_POINTS * 60 - 60), step: '1m' }, T)),
      'the range is too long for the step: 2026-11-26T20:39:00Z to 2026-12-04T12:00:00Z at a step of 60 s is 11001 points, at most 11000: use a step of at least 61 s or a shorter range',
    );
  });
});
