// The hand-written RFC 4180 encoder produces exactly what csv-stringify produces.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stringify } from 'csv-stringify/sync';
import { encodeRecords, type Delimiter } from '../../src/store/csv.js';

const TRICKY = ['plain', '', 'a,b', 'a;b', 'tab\there', 'say "hi"', 'line\nbreak', 'cr\ronly', 'crlf\r\nend', '"', ' spaced ', "'=HYPERLINK(\"x\")", 'ünïcødé ✓'];

describe('csv encoder', () => {
  for (const delimiter of [',', ';', '\t'] as Delimiter[]) {
    it(`matches csv-stringify byte for byte with delimiter ${JSON.stringify(delimiter)}`, () => {
      const records = TRICKY.map((value, i) => [String(i), value, TRICKY[(i + 3) % TRICKY.length] ?? '']);
      const expected = stringify(records, { delimiter, record_delimiter: '\r\n', quote_record_delimiter: true, eof: true });
      assert.equal(encodeRecords(records, { delimiter }), expected);
    });
  }

  it('encodes no records as the empty string', () => {
    assert.equal(encodeRecords([], { delimiter: ',' }), '');
  });
});
