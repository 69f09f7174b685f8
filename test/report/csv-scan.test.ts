// The record scanner: RFC 4180 like csv-parse, exact byte offsets, resumable, bounded, never stuck.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import { readHeader, scanRecords, utf8Text, type ScanOptions } from '../../src/report/csv-scan.js';
import { prng } from '../helpers/report-log.js';

let dir: string;
let counter = 0;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'fleetpoll-scan-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function file(content: string | Buffer): string {
  counter += 1;
  const path = join(dir, `f${counter}.csv`);
  writeFileSync(path, content);
  return path;
}

interface Scanned {
  records: string[][];
  broken: { line: number; reason: string }[];
  lines: number[];
  end: number;
  nextLine: number;
  truncated: boolean;
}

async function scan(path: string, options: Partial<ScanOptions> & { start: number }): Promise<Scanned> {
  const handle = await open(path, 'r');
  try {
    const records: string[][] = [];
    const lines: number[] = [];
    const broken: { line: number; reason: string }[] = [];
    const lastField = options.lastField ?? 9;
    const result = await scanRecords(
      handle,
      { delimiter: ',', lastField, firstLine: 2, final: false, ...options },
      (raw) => {
        const cells: string[] = [];
        for (let i = 0; i < Math.min(raw.fieldCount, lastField + 1); i += 1) cells.push(utf8Text(raw.text.slice(raw.starts[i], raw.ends[i])));
        records.push(cells);
        lines.push(raw.line);
      },
      (line, reason) => broken.push({ line, reason }),
    );
    return { records, broken, lines, end: result.endOffset, nextLine: result.nextLine, truncated: result.truncated };
  } finally {
    await handle.close();
  }
}

describe('readHeader', () => {
  it('strips the BOM, detects the delimiter and finds where rows start', async () => {
    const path = file('\uFEFFtime;server;cpu_pct\r\n2026-11-30 10:00:00;a;1,5\r\n');
    const handle = await open(path, 'r');
    try {
      const header = await readHeader(handle);
      assert.deepEqual(header, { columns: ['time', 'server', 'cpu_pct'], delimiter: ';', endOffset: Buffer.byteLength('\uFEFFtime;server;cpu_pct\r\n') });
    } finally {
      await handle.close();
    }
  });

  it('returns null while the header line is incomplete', async () => {
    const handle = await open(file('\uFEFFtime,ser'), 'r');
    try {
      assert.equal(await readHeader(handle), null);
    } finally {
      await handle.close();
    }
  });
});

describe('scanRecords', () => {
  it('splits quoted cells with delimiters, quotes, CRLF and LF inside exactly like csv-parse', async () => {
    const text = 'a,"b,1","say ""hi""",d\r\n"multi\r\nline",x,,"é ü 漢"\r\n\r\nplain,row,3,4\r\n';
    const path = file(text);
    const got = await scan(path, { start: 0 });
    assert.deepEqual(got.records, parse(text, { relax_column_count: true, skip_empty_lines: true }));
    assert.deepEqual(got.lines, [2, 3, 6], 'physical line numbers, counting the line inside the quoted cell and the blank line');
    assert.equal(got.end, Buffer.byteLength(text));
    const lf = await scan(file('a,1\nb,2\n'), { start: 0 });
    assert.deepEqual(lf.records, [['a', '1'], ['b', '2']], 'LF-only line ends too');
  });

  it('agrees with csv-parse on thousands of random records spanning many chunk boundaries', async () => {
    const random = prng(42);
    const pieces = ['x', 'é', ',', '"', '\n', '\r\n', ' ', '漢', '12.5', "'=cmd", ';'];
    const cell = (): string => {
      let value = '';
      const length = Math.floor(random() * 12);
      for (let i = 0; i < length; i += 1) value += pieces[Math.floor(random() * pieces.length)] ?? '';
      return /[",\r\n]/.test(value) || random() < 0.1 ? `"${value.replace(/"/g, '""')}"` : value;
    };
    const rows: string[] = [];
    for (let r = 0; r < 6000; r += 1) rows.push(Array.from({ length: 6 }, cell).join(','));
    const text = `${rows.join('\r\n')}\r\n`;
    assert.ok(Buffer.byteLength(text) > 300 * 1024, 'larger than several scan chunks');
    const got = await scan(file(text), { start: 0, lastField: 5 });
    const expected = (parse(text, { relax_column_count: true, skip_empty_lines: false }) as string[][]).filter((r) => !(r.length === 1 && r[0] === ''));
    assert.equal(got.records.length, expected.length);
    assert.deepEqual(got.records, expected);
  });

  it('resumes from any returned offset with the right line number, reading each record once', async () => {
    const text = Array.from({ length: 50 }, (_, i) => `${i},"v ${i}\nnext",z`).join('\r\n') + '\r\n';
    const path = file(text);
    const first = await scan(path, { start: 0, maxBytes: 300 });
    assert.equal(first.truncated, true);
    assert.ok(first.records.length > 0 && first.records.length < 50);
    const rest = await scan(path, { start: first.end, firstLine: first.nextLine });
    assert.equal(rest.truncated, false);
    assert.deepEqual([...first.records, ...rest.records].map((r) => r[0]), Array.from({ length: 50 }, (_, i) => String(i)));
    assert.equal(rest.lines[0], 2 + 2 * first.records.length, 'two physical lines per record');
  });

  it('leaves a last record without line end for later (a live file), but reads it in a complete archive', async () => {
    const path = file('a,1\r\nb,2\r\nc,');
    const live = await scan(path, { start: 0 });
    assert.deepEqual(live.records, [['a', '1'], ['b', '2']]);
    assert.equal(live.end, 10, 'offset after the last complete record');
    const archive = await scan(path, { start: 0, final: true });
    assert.deepEqual(archive.records, [['a', '1'], ['b', '2'], ['c', '']]);
    assert.equal(archive.end, 12, 'the whole file');
  });

  it('reports a quoted cell that never closes and carries on with the next line', async () => {
    const garbage = `x,"${'y'.repeat(1_200_000)}\r\n`;
    const path = file(`a,1\r\n${garbage}b,2\r\n`);
    const got = await scan(path, { start: 0 });
    assert.equal(got.broken.length, 1);
    assert.match(got.broken[0]?.reason ?? '', /longer than 1 MB/);
    assert.deepEqual(got.records, [['a', '1'], ['b', '2']]);
  });

  it('counts the real number of cells even past the last one it reads', async () => {
    const handle = await open(file('1,2,3,4,5,6\r\n'), 'r');
    try {
      let count = -1;
      await scanRecords(handle, { start: 0, delimiter: ',', lastField: 1, firstLine: 1, final: false }, (raw) => (count = raw.fieldCount), () => undefined);
      assert.equal(count, 6);
    } finally {
      await handle.close();
    }
  });
});
