// The text format's escaping and values: exactly the three escapes of a label value, the two of HELP,
// and the special values Go's ParseFloat reads.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { escapeHelp, escapeLabelValue, formatValue, label } from '../../../src/http/metrics/exposition.js';

describe('exposition format', () => {
  it('escapes backslash, double quote and line feed in label values, nothing else', () => {
    assert.equal(escapeLabelValue('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
    assert.equal(escapeLabelValue('tab\there {x=1}, # é'), 'tab\there {x=1}, # é');
    assert.equal(label('mountpoint', '/mnt/"x"'), 'mountpoint="/mnt/\\"x\\""');
  });

  it('escapes backslash and line feed in HELP, not quotes', () => {
    assert.equal(escapeHelp('a\\b\n"c"'), 'a\\\\b\\n"c"');
  });

  it('writes NaN and the infinities as the format spells them, numbers as they are', () => {
    assert.deepEqual([NaN, Infinity, -Infinity, 0, 0.3726, 8589934592, 1e21].map(formatValue), ['NaN', '+Inf', '-Inf', '0', '0.3726', '8589934592', '1e+21']);
  });
});
