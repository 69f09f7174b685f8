// Decoding rows by header name: reordered columns, missing ones, times and numbers as spreadsheets write them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RawRecord } from '../../src/report/csv-scan.js';
import { decoderFor, parseTime, type LogRecord } from '../../src/report/records.js';

// A raw record over plain cells, as the scanner hands it over.
function raw(cells: readonly string[]): RawRecord {
  const starts = new Int32Array(cells.length);
  const ends = new Int32Array(cells.length);
  let text = '';
  cells.forEach((c, i) => {
    starts[i] = text.length;
    text += Buffer.from(c, 'utf8').toString('latin1');
    ends[i] = text.length;
  });
  return { text, starts, ends, fieldCount: cells.length, line: 2 };
}

describe('decoderFor', () => {
  it('finds columns by name, whatever their order', () => {
    const decoder = decoderFor('log', ['cpu_pct', 'status', 'server', 'time', 'mem_pct']);
    assert.ok('decode' in decoder);
    const record = decoder.decode(raw(['12.5', 'ok', 'wéb1', '2026-11-30 10:00:00', '40']));
    assert.equal(typeof record, 'object');
    const r = record as LogRecord;
    assert.deepEqual([r.server, r.day, r.secondOfDay, r.cpuPct, r.memPct, r.memTotalGb], ['wéb1', '2026-11-30', 36_000, 12.5, 40, null]);
  });

  it('says which required columns a header lacks', () => {
    assert.deepEqual(decoderFor('disks', ['time', 'server', 'mount', 'used_gb']), { missing: ['free_gb'] });
  });

  it('gives a reason for every kind of bad cell', () => {
    const decoder = decoderFor('processes', ['time', 'server', 'pid', 'user', 'process', 'cpu_pct', 'mem_mb']);
    assert.ok('decode' in decoder);
    const cases: [string[], string][] = [
      [['2026-11-30 10:00:00', 's', '1', 'u', 'p', '0x1f', '1'], 'cpu_pct "0x1f" is not a number ≥ 0'],
      [['2026-11-30 10:00:00', 's', '1', 'u', 'p', ' 1', '1'], 'cpu_pct " 1" is not a number ≥ 0'],
      [['2026-11-30 10:00:00', 's', '1', 'u', 'p', '-3', '1'], 'cpu_pct "-3" is not a number ≥ 0'],
      [['2026-11-30 10:00:00', 's', '1', 'u', '', '1', '1'], 'process is empty'],
      [['2026-11-30 25:00:00', 's', '1', 'u', 'p', '1', '1'], 'time "2026-11-30 25:00:00" is not YYYY-MM-DD HH:MM:SS'],
      [['2026-11-30 10:00:00', 's', '1', 'u', 'p', '1'], 'has 6 cells, the header has 7'],
    ];
    for (const [cells, reason] of cases) assert.equal(decoder.decode(raw(cells)), reason);
    const ok = decoder.decode(raw(['2026-11-30T10:00', 's', '1', 'u', 'p', '1.5E+02', '2,5']));
    assert.equal(typeof ok, 'object', 'a T, no seconds, an exponent and a decimal comma are all fine');
  });
});

describe('parseTime', () => {
  it('accepts real UTC times only', () => {
    assert.equal(parseTime('2026-11-30 23:59:59'), 86_399);
    assert.equal(parseTime('2024-02-29 00:00:00'), 0);
    assert.equal(parseTime('2026-02-29 00:00:00'), -1);
    assert.equal(parseTime('2026-11-30'), -1);
  });
});
