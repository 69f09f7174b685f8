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

  it('starts on a new line after a half-written last row', async () => {
    const file = await freshPath();
    await appendRows(file, columns, [['t1', 'a', 'x']], { dialect: comma });
    await appendFile(file, 't2,b'); // a crash cut the write here
    await appendRows(file, columns, [['t3', 'c', 'z']], { dialect: comma });
    const text = await readFile(file, 'utf8');
    assert.equal(text, `${head}t1,a,x\r\nt2,b\r\nt3,c,z\r\n`);
    assert.deepEqual(records(text).at(-1), ['t3', 'c', 'z']);
  });

  it('completes a CR-terminated row with just LF', async () => {
    const file = await freshPath();
    await writeFile(file, `${head}t1,a,x\r`);
    await appendRows(file, columns, [['t2', 'b', 'y']], { dialect: comma });
    assert.equal(await readFile(file, 'utf8'), `${head}t1,a,x\r\nt2,b,y\r\n`);
  });

  it('closes a quoted cell cut mid-write so it cannot swallow the new rows', async () => {
    const file = await freshPath();
    await appendRows(file, columns, [['t1', 'a', 'he said ""hi"" then\nleft']], { dialect: comma });
    await appendFile(file, 't2,b,"cut off ""in the'); // open quote, an escaped quote, then the crash
    await appendRows(file, columns, [['t3', 'c', 'z']], { dialect: comma });
    const rows = records(await readFile(file, 'utf8'));
    assert.deepEqual(rows, [
      ['time', 'server', 'note'],
      ['t1', 'a', 'he said ""hi"" then\nleft'],
      ['t2', 'b', 'cut off "in the'],
      ['t3', 'c', 'z'],
    ]);
  });

  it('sees that a quote ending the cut closed its cell', async () => {
    const file = await freshPath();
    await writeFile(file, `${head}t1,a,"closed"`);
    await appendRows(file, columns, [['t2', 'b', 'y']], { dialect: comma });
    assert.deepEqual(records(await readFile(file, 'utf8')).slice(1), [
      ['t1', 'a', 'closed'],
      ['t2', 'b', 'y'],
    ]);
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
});
