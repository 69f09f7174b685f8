import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { LOG_COLUMNS } from '../../src/store/columns.js';
import { encodeRecords, fileHead } from '../../src/store/csv.js';
import { replaceFileAtomically } from '../../src/store/snapshot.js';

const readerScript = fileURLToPath(new URL('../helpers/snapshot-reader.js', import.meta.url));
const dialect = { delimiter: ',' } as const;

let dir: string;
before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'fleetpoll-snapshot-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

// A snapshot whose every row carries its version, with quoted cells so a torn read cannot parse cleanly.
// Encoded once and stamped per version: encoding 2,000 rows 50 times would dominate the test.
function snapshotMaker(rows: number): (version: number) => string {
  const records: string[][] = [];
  for (let index = 0; index < rows; index += 1) {
    const row = LOG_COLUMNS.map((column) => `${column}-${index}`);
    row[0] = '@VERSION@';
    row[1] = `srv-${String(index).padStart(5, '0')}`;
    row[6] = `error, with "quotes"\nand a newline ${index}`;
    records.push(row);
  }
  const template = fileHead(LOG_COLUMNS, dialect) + encodeRecords(records, dialect);
  return (version) => template.replaceAll('@VERSION@', `v${version}`);
}

async function tempFiles(where: string): Promise<string[]> {
  return (await readdir(where)).filter((name) => name.endsWith('.tmp'));
}

describe('replaceFileAtomically', () => {
  it('replaces the target and leaves no temp file', async () => {
    const target = path.join(dir, 'plain.csv');
    await writeFile(target, 'old');
    const outcome = await replaceFileAtomically(target, 'new content');
    assert.deepEqual(outcome, { path: target, warning: null });
    assert.equal(await readFile(target, 'utf8'), 'new content');
    assert.deepEqual(await tempFiles(dir), []);
  });

  it('never shows a concurrent reader in another process a partial file', async () => {
    const work = path.join(dir, 'concurrent');
    await mkdir(work);
    const target = path.join(work, 'recentlog.csv');
    const stopFile = path.join(work, 'stop');
    const rows = 2000;
    const snapshot = snapshotMaker(rows);
    await replaceFileAtomically(target, snapshot(0));

    const reader = spawn(process.execPath, [readerScript, target, String(rows), stopFile], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    reader.stdout.setEncoding('utf8');
    const ready = new Promise<void>((resolve) => {
      reader.stdout.on('data', (chunk: string) => {
        output += chunk;
        if (output.includes('ready\n')) resolve();
      });
    });
    const exited = once(reader, 'exit');
    try {
      await ready;
      for (let version = 1; version <= 50; version += 1) {
        const outcome = await replaceFileAtomically(target, snapshot(version));
        assert.equal(outcome.warning, null);
        // Spread the replacements over about a second so even a slow reader overlaps many of them.
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    } finally {
      await writeFile(stopFile, '');
    }
    const [code] = await exited;
    assert.equal(code, 0);
    const report = JSON.parse(output.slice(output.indexOf('ready\n') + 6)) as {
      reads: number;
      versions: number;
      problems: string[];
    };
    assert.deepEqual(report.problems, [], `${report.reads} reads`);
    // More than one version seen proves the reads overlapped the replacements.
    assert.ok(report.versions > 1, `reader saw ${report.versions} version(s) in ${report.reads} reads`);
    assert.deepEqual(await tempFiles(work), []);
  });

  it('keeps the snapshot as a dated copy when the target cannot be replaced', async () => {
    const work = path.join(dir, 'fallback');
    const target = path.join(work, 'recentlog.csv');
    await mkdir(target, { recursive: true }); // rename() cannot replace a directory
    const content = snapshotMaker(20)(7);
    const now = new Date('2024-03-05T10:11:12Z');

    const outcome = await replaceFileAtomically(target, content, { now, retryDelaysMs: [10, 20] });
    const dated = path.join(work, 'recentlog-20240305-101112.csv');
    assert.equal(outcome.path, dated);
    assert.match(outcome.warning ?? '', /could not replace recentlog\.csv.*recentlog-20240305-101112\.csv/);
    assert.equal(await readFile(dated, 'utf8'), content);

    const second = await replaceFileAtomically(target, 'second', { now, retryDelaysMs: [] });
    assert.equal(second.path, path.join(work, 'recentlog-20240305-101112-2.csv'));
    assert.equal(await readFile(dated, 'utf8'), content, 'an earlier dated copy is never overwritten');
    assert.deepEqual(await tempFiles(work), []);
    assert.deepEqual((await readdir(work)).sort(), [
      'recentlog-20240305-101112-2.csv',
      'recentlog-20240305-101112.csv',
      'recentlog.csv',
    ]);
  });

  it('removes its temp file when the directory itself is unusable', async () => {
    const notADir = path.join(dir, 'a-file');
    await writeFile(notADir, 'x');
    await assert.rejects(replaceFileAtomically(path.join(notADir, 'recentlog.csv'), 'data'), { code: 'ENOTDIR' });
    assert.deepEqual(await tempFiles(dir), []);
  });
});
