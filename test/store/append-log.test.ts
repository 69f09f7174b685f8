import assert from 'node:assert/strict';
import { appendFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import { appendRows } from '../../src/store/append-log.js';
import type { CsvDialect } from '../../src/store/csv.js';

const columns = ['time', 'server', 'note'];
const comma: CsvDialect = { delimiter: ',' };
const head = '\uFEFFtime,server,note\r\n';

let dir: string;
let counter = 0;
before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'fleetpoll-append-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

// Each case gets its own directory so rotated files of one case never meet another's.
async function freshPath(): Promise<string> {
  counter += 1;
  const caseDir = path.join(dir, `case${counter}`);
  await mkdir(caseDir);
  return path.join(caseDir, 'log.csv');
}

function records(text: string, delimiter = ','): string[][] {
  return parse(text, { bom: true, delimiter, relax_column_count: true }) as string[][];
}

describe('appendRows', () => {
  it('writes BOM and header once, then only rows, with CRLF', async () => {
    const file = await freshPath();
    const first = await appendRows(file, columns, [['t1', 'a', 'x']], { dialect: comma });
    assert.equal(first.created, true);
    const second = await appendRows(file, columns, [['t2', 'b', 'y'], ['t2', 'c', 'z']], { dialect: comma });
    assert.equal(second.created, false);
    assert.equal(await readFile(file, 'utf8'), `${head}t1,a,x\r\nt2,b,y\r\nt2,c,z\r\n`);
  });

  it('writes only the header into an existing empty file', async () => {
    const file = await freshPath();
    await writeFile(file, '');
    const outcome = await appendRows(file, columns, [], { dialect: comma });
    assert.equal(outcome.wrote, true);
    assert.equal(await readFile(file, 'utf8'), head);
  });

  it('does not touch a file when there is nothing to add', async () => {
    const file = await freshPath();
    await appendRows(file, columns, [['t1', 'a', 'x']], { dialect: comma });
    const outcome = await appendRows(file, columns, [], { dialect: comma });
    assert.equal(outcome.wrote, false);
    assert.equal(await readFile(file, 'utf8'), `${head}t1,a,x\r\n`);
  });

  it('removes a half-written last row instead of closing it into a malformed row', async () => {
    const file = await freshPath();
    await appendRows(file, columns, [['t1', 'a', 'x']], { dialect: comma });
    await appendFile(file, 't2,b'); // a crash cut the write here
    const outcome = await appendRows(file, columns, [['t3', 'c', 'z']], { dialect: comma });
    const text = await readFile(file, 'utf8');
    assert.equal(text, `${head}t1,a,x\r\nt3,c,z\r\n`);
    assert.match(outcome.warnings.join('\n'), /log\.csv ended in a torn row \(4 byte\(s\) from byte \d+, .*\): removed it/);
  });

  it('completes a CR-terminated row with just LF', async () => {
    const file = await freshPath();
    await writeFile(file, `${head}t1,a,x\r`);
    await appendRows(file, columns, [['t2', 'b', 'y']], { dialect: comma });
    assert.equal(await readFile(file, 'utf8'), `${head}t1,a,x\r\nt2,b,y\r\n`);
  });

  it('removes a row cut inside a quoted cell, even after line ends inside that cell', async () => {
    const file = await freshPath();
    await appendRows(file, columns, [['t1', 'a', 'he said ""hi"" then\nleft']], { dialect: comma });
    const before = await readFile(file, 'utf8');
    // Open quote, an escaped quote, a CRLF inside the cell (it looks like a record end), then the crash.
    await appendFile(file, 't2,b,"cut off ""in the\r\nmiddle');
    await appendRows(file, columns, [['t3', 'c', 'z']], { dialect: comma });
    const text = await readFile(file, 'utf8');
    assert.equal(text, `${before}t3,c,z\r\n`);
    assert.deepEqual(records(text), [
      ['time', 'server', 'note'],
      ['t1', 'a', 'he said ""hi"" then\nleft'],
      ['t3', 'c', 'z'],
    ]);
  });

  it('removes a last row whose quoted cell was closed but whose record end was not written', async () => {
    const file = await freshPath();
    await writeFile(file, `${head}t1,a,"closed"`);
    await appendRows(file, columns, [['t2', 'b', 'y']], { dialect: comma });
    assert.equal(await readFile(file, 'utf8'), `${head}t2,b,y\r\n`);
  });

  it('removes a row torn at a page boundary (4,096 bytes), keeping every whole row before it', async () => {
    const file = await freshPath();
    const rows = Array.from({ length: 200 }, (_, i) => [`2026-12-04 10:00:${String(i % 60).padStart(2, '0')}`, `host${i}`, `note, with "quotes" ${i}`]);
    await appendRows(file, columns, rows, { dialect: comma });
    const whole = await readFile(file);
    // A write() of the next cycle cut at the page boundary after the file's current end.
    const next = Buffer.from(rows.map((r) => `${r[0]},${r[1]},"${(r[2] ?? '').replace(/"/g, '""')}"\r\n`).join(''));
    const page = 4096 * Math.ceil((whole.length + 1) / 4096);
    await appendFile(file, next.subarray(0, page - whole.length));
    assert.equal((await readFile(file)).length, page);
    const outcome = await appendRows(file, columns, [['t9', 'z', 'last']], { dialect: comma });
    const text = await readFile(file, 'utf8');
    const parsed = records(text);
    for (const record of parsed) assert.equal(record.length, 3, JSON.stringify(record));
    assert.deepEqual(parsed.at(-1), ['t9', 'z', 'last']);
    // Every whole row of the cut write is kept (no journal here: only the torn record goes).
    const keptOfCut = parsed.length - 1 - 200 - 1;
    assert.ok(keptOfCut >= 0 && keptOfCut < 200, String(keptOfCut));
    assert.match(outcome.warnings.join('\n'), /torn row/);
  });

  it('rotates a file whose header differs and starts a new one', async () => {
    const file = await freshPath();
    const old = `${head.replace('note', 'comment')}t0,old,row\r\n`;
    await writeFile(file, old);
    const now = new Date('2024-03-05T10:11:12Z');
    const outcome = await appendRows(file, columns, [['t1', 'a', 'x']], { dialect: comma, now });
    const rotated = path.join(path.dirname(file), 'log-20240305-101112-oldcolumns.csv');
    assert.equal(outcome.rotatedTo, rotated);
    assert.equal(outcome.created, true);
    assert.match(outcome.warnings[0] ?? '', /log\.csv had different columns.*log-20240305-101112-oldcolumns\.csv/);
    assert.equal(await readFile(rotated, 'utf8'), old);
    assert.equal(await readFile(file, 'utf8'), `${head}t1,a,x\r\n`);

    // A second upgrade in the same second must not overwrite the first rotated file.
    await writeFile(file, old);
    const again = await appendRows(file, columns, [['t2', 'b', 'y']], { dialect: comma, now });
    assert.equal(again.rotatedTo, path.join(path.dirname(file), 'log-20240305-101112-oldcolumns-2.csv'));
    assert.equal(await readFile(rotated, 'utf8'), old);
  });

  it('treats a different delimiter as different columns', async () => {
    const file = await freshPath();
    await appendRows(file, columns, [['t1', 'a', 'x']], { dialect: comma });
    const outcome = await appendRows(file, columns, [['t2', 'b', 'y']], { dialect: { delimiter: ';' } });
    assert.notEqual(outcome.rotatedTo, null);
    assert.equal(await readFile(file, 'utf8'), '\uFEFFtime;server;note\r\nt2;b;y\r\n');
  });

  it('accepts a matching header without BOM (the file was saved by another tool)', async () => {
    const file = await freshPath();
    await writeFile(file, 'time,server,note\r\nt1,a,x\r\n');
    const outcome = await appendRows(file, columns, [['t2', 'b', 'y']], { dialect: comma });
    assert.equal(outcome.rotatedTo, null);
    assert.equal(await readFile(file, 'utf8'), 'time,server,note\r\nt1,a,x\r\nt2,b,y\r\n');
  });

  it('restarts a file cut while its header was being written, without rotating it', async () => {
    const file = await freshPath();
    await writeFile(file, head.slice(0, 8));
    const outcome = await appendRows(file, columns, [['t1', 'a', 'x']], { dialect: comma });
    assert.equal(outcome.rotatedTo, null);
    assert.equal(await readFile(file, 'utf8'), `${head}t1,a,x\r\n`);
    assert.deepEqual(await readdir(path.dirname(file)), ['log.csv']);
  });

  it('repairs the smallest files a kill can leave: empty, BOM only, part of the BOM, header only', async () => {
    for (const [name, content] of [
      ['empty', ''],
      ['BOM only', '\uFEFF'],
      ['two bytes of the BOM', Buffer.from([0xef, 0xbb])],
      ['header without its line end', head.slice(0, -2)],
      ['header only', head],
    ] as const) {
      const file = await freshPath();
      await writeFile(file, content);
      await appendRows(file, columns, [['t1', 'a', 'x']], { dialect: comma });
      const bytes = await readFile(file);
      assert.equal(bytes.toString('utf8'), `${head}t1,a,x\r\n`, name);
      assert.equal(bytes.indexOf(Buffer.from('\uFEFF')), 0, `${name}: one BOM, at byte 0`);
      assert.equal(bytes.lastIndexOf(Buffer.from('\uFEFF')), 0, `${name}: one BOM, at byte 0`);
      assert.deepEqual(await readdir(path.dirname(file)), ['log.csv'], name);
    }
  });
});
