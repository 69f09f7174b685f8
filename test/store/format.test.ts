import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cellFormatter, fileStamp, formatFixed, formatTime, neutralise } from '../../src/store/format.js';

describe('neutralise', () => {
  it('prefixes every formula-starting character with a quote', () => {
    for (const text of ['=1+1', '+cmd', '-x', '@SUM(1)', '\tx', '\rx']) {
      assert.equal(neutralise(text), `'${text}`);
    }
  });

  it('leaves ordinary text alone and turns absent values into empty cells', () => {
    assert.equal(neutralise('web1'), 'web1');
    assert.equal(neutralise("a=b"), 'a=b');
    assert.equal(neutralise(''), '');
    assert.equal(neutralise(null), '');
    assert.equal(neutralise(undefined), '');
  });
});

describe('formatTime and fileStamp', () => {
  it('writes UTC whatever the local zone', () => {
    const time = new Date('2024-03-05T07:08:09.999Z');
    assert.equal(formatTime(time), '2024-03-05 07:08:09');
    assert.equal(fileStamp(time), '20240305-070809');
  });

  it('gives an empty cell for an invalid date', () => {
    assert.equal(formatTime(new Date(Number.NaN)), '');
  });
});

describe('cellFormatter', () => {
  it('converts kB to GB with 2 decimals and MB with 1 decimal', () => {
    const fmt = cellFormatter('.');
    assert.equal(fmt.kbAsGb(8 * 1024 * 1024), '8.00');
    assert.equal(fmt.kbAsGb(1536 * 1024), '1.50');
    assert.equal(fmt.kbAsMb(2 * 1024 * 1024), '2048.0');
    assert.equal(fmt.kbAsMb(512), '0.5');
    assert.equal(fmt.pct(97), '97.0');
    assert.equal(fmt.integer(1234.6), '1235');
  });

  it('uses the decimal comma when asked', () => {
    const fmt = cellFormatter(',');
    assert.equal(fmt.kbAsGb(8 * 1024 * 1024), '8,00');
    assert.equal(fmt.pct(12.34), '12,3');
    assert.equal(formatFixed(1234.5, 1, ','), '1234,5');
  });

  it('never neutralises numbers and leaves absent or non-finite numbers empty', () => {
    const fmt = cellFormatter('.');
    assert.equal(fmt.pct(null), '');
    assert.equal(fmt.kbAsGb(undefined), '');
    assert.equal(fmt.fixed(Number.NaN, 2), '');
    assert.equal(fmt.fixed(Number.POSITIVE_INFINITY, 2), '');
    assert.equal(fmt.text('-x'), "'-x");
  });
});
