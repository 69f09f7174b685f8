import assert from 'node:assert/strict';
import { appendFile, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import type { PollResult } from '../../src/model.js';
import { DATA_FILES, DISK_COLUMNS, LOG_COLUMNS, PROCESS_COLUMNS, USER_COLUMNS } from '../../src/store/columns.js';
import { StoreError, writeCycle, type WriteCycleOptions } from '../../src/store/write-cycle.js';
import { JOURNAL_FILE, beginCycle } from '../../src/store/cycle-journal.js';
import { prepareReplacement } from '../../src/store/snapshot.js';
import { GIB_KB, failedResult, okResult } from '../helpers/store-fixtures.js';

const FILES = [DATA_FILES.log, DATA_FILES.recent, DATA_FILES.processes, DATA_FILES.disks, DATA_FILES.users];
const COLUMNS_OF: Record<string, readonly string[]> = {
  [DATA_FILES.log]: LOG_COLUMNS,
  [DATA_FILES.recent]: LOG_COLUMNS,
  [DATA_FILES.processes]: PROCESS_COLUMNS,
  [DATA_FILES.disks]: DISK_COLUMNS,
  [DATA_FILES.users]: USER_COLUMNS,
};
const cycle1 = new Date('2024-03-05T10:00:00.400Z');
const cycle2 = new Date('2024-03-05T10:05:00.000Z');

let root: string;
let counter = 0;
before(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'fleetpoll-cycle-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

function options(overrides: Partial<WriteCycleOptions> = {}): WriteCycleOptions {
  counter += 1;
  return { dataDir: path.join(root, `case${counter}`, 'data'), delimiter: ',', decimalSeparator: '.', ...overrides };
}

// Parses a file back the way a reader would, as objects keyed by the header, checking the header first.
async function readBack(dataDir: string, file: string, delimiter = ','): Promise<Record<string, string>[]> {
  const records = parse(await readFile(path.join(dataDir, file)), { bom: true, delimiter }) as string[][];
  const [header, ...rows] = records;
  assert.deepEqual(header, COLUMNS_OF[file], `${file} header`);
  for (const row of rows) assert.notDeepEqual(row, header, `${file} repeats its header`);
  return rows.map((row) => Object.fromEntries((header ?? []).map((column, index) => [column, row[index] ?? ''])));
}

const firstCycle: PollResult[] = [okResult('web2'), failedResult('db1'), okResult('web10')];
const secondCycle: PollResult[] = [
  okResult('web2'),
  okResult('db1'),
  failedResult('web10', 'unreachable', 'connect', 'connect ECONNREFUSED 10.0.0.10:22'),
];

describe('writeCycle', () => {
  it('round-trips two cycles through every file', async () => {
    const opts = options();
    const first = await writeCycle(firstCycle, cycle1, opts);
    assert.deepEqual(first.warnings, []);
    assert.deepEqual(
      [...first.written].sort(),
      FILES.map((file) => path.join(opts.dataDir, file)).sort(),
    );
    await writeCycle(secondCycle, cycle2, opts);

    const log = await readBack(opts.dataDir, DATA_FILES.log);
    assert.equal(log.length, 6);
    assert.deepEqual(
      log.map((row) => `${row.time} ${row.server} ${row.status}`),
      [
        '2024-03-05 10:00:00 db1 timeout',
        '2024-03-05 10:00:00 web2 ok',
        '2024-03-05 10:00:00 web10 ok',
        '2024-03-05 10:05:00 db1 ok',
        '2024-03-05 10:05:00 web2 ok',
        '2024-03-05 10:05:00 web10 unreachable',
      ],
    );
    const web2 = log[1];
    assert.equal(web2?.mem_total_gb, '8.00'); // 8 GiB in kB
    assert.equal(web2?.mem_pct, '25.0');
    assert.equal(web2?.disk_worst_mount, '/var');
    assert.equal(log[5]?.error, 'connect ECONNREFUSED 10.0.0.10:22');
    assert.equal(log[5]?.mem_total_gb, '');

    const recent = await readBack(opts.dataDir, DATA_FILES.recent);
    assert.deepEqual(
      recent.map((row) => `${row.time} ${row.server} ${row.status}`),
      ['2024-03-05 10:05:00 db1 ok', '2024-03-05 10:05:00 web2 ok', '2024-03-05 10:05:00 web10 unreachable'],
    );
    assert.deepEqual(recent, log.slice(3), 'recentlog.csv holds the same rows as the last cycle in log.csv');

    const processes = await readBack(opts.dataDir, DATA_FILES.processes);
    assert.equal(processes.length, 16); // 2 reachable hosts x 4 processes, twice
    const postgres = processes.find((row) => row.process === 'postgres');
    assert.equal(postgres?.mem_mb, '2048.0'); // 2 GiB resident
    assert.equal(postgres?.cpu_pct, '3.1');
    assert.equal((await readBack(opts.dataDir, DATA_FILES.disks)).length, 8);
    const users = await readBack(opts.dataDir, DATA_FILES.users);
    assert.equal(users.length, 8);
    assert.equal(users[0]?.processes, '7');
  });

  it('writes decimal commas under a ; delimiter', async () => {
    const opts = options({ delimiter: ';', decimalSeparator: ',' });
    await writeCycle([okResult('web1')], cycle1, opts);
    const raw = await readFile(path.join(opts.dataDir, DATA_FILES.log), 'utf8');
    assert.ok(raw.startsWith(`\uFEFF${LOG_COLUMNS.join(';')}\r\n`));
    const [row] = await readBack(opts.dataDir, DATA_FILES.log, ';');
    assert.equal(row?.mem_total_gb, '8,00');
    assert.equal(row?.cpu_pct, '37,3');
    assert.equal(row?.uptime_days, '3,50');
    assert.equal(row?.top_cpu, 'php-fpm [www-data] 97,0%; postgres [postgres] 3,1%; cron [root] 1,0%');
    const [disk] = await readBack(opts.dataDir, DATA_FILES.disks, ';');
    assert.equal(disk?.total_gb, '100,00');
  });

  it('neutralises formulas in host text and round-trips delimiters, quotes and newlines', async () => {
    const opts = options();
    const awkward = 'worker, "the big one"\nsecond line';
    const result = okResult(
      'web1',
      {
        hostname: '@SUM(1)',
        procs: [
          { pid: 1, user: '+cmd', cpuPct: 50, rssKb: 1024, name: '=HYPERLINK("http://x","y")' },
          { pid: 2, user: 'root', cpuPct: 1, rssKb: 2048, name: awkward },
        ],
        disks: [{ mount: '-x', fsType: 'ext4', totalKb: GIB_KB, usedKb: 1024, availableKb: GIB_KB - 1024 }],
        users: [{ user: '+cmd', cpuPct: 50, rssKb: 1024, processCount: 1 }],
        warnings: ['\tindented warning'],
      },
      { address: '=1+1' },
    );
    await writeCycle([result], cycle1, opts);

    const [log] = await readBack(opts.dataDir, DATA_FILES.log);
    assert.equal(log?.hostname, "'@SUM(1)");
    assert.equal(log?.address, "'=1+1");
    assert.equal(log?.disk_worst_mount, "'-x");
    assert.equal(log?.top_cpu, `'=HYPERLINK("http://x","y") [+cmd] 50.0%; ${awkward} [root] 1.0%`);
    assert.equal(log?.notes, "'\tindented warning");
    const processes = await readBack(opts.dataDir, DATA_FILES.processes);
    assert.equal(processes[0]?.process, `'=HYPERLINK("http://x","y")`);
    assert.equal(processes[0]?.user, "'+cmd");
    assert.equal(processes[1]?.process, awkward);
    const [disk] = await readBack(opts.dataDir, DATA_FILES.disks);
    assert.equal(disk?.mount, "'-x");
    const [user] = await readBack(opts.dataDir, DATA_FILES.users);
    assert.equal(user?.user, "'+cmd");
  });

  it('starts every file with exactly one BOM and ends every record with CRLF', async () => {
    const opts = options();
    await writeCycle(firstCycle, cycle1, opts);
    await writeCycle(secondCycle, cycle2, opts);
    for (const file of FILES) {
      const raw = await readFile(path.join(opts.dataDir, file));
      assert.deepEqual([...raw.subarray(0, 3)], [0xef, 0xbb, 0xbf], `${file} starts with a BOM`);
      assert.equal(raw.indexOf(Buffer.from([0xef, 0xbb, 0xbf]), 1), -1, `${file} has one BOM only`);
      const text = raw.toString('utf8');
      assert.ok(text.endsWith('\r\n'), `${file} ends with CRLF`);
      assert.equal(text.match(/(?<!\r)\n/g), null, `${file} has a bare LF`);
      assert.equal(text.match(/\r(?!\n)/g), null, `${file} has a bare CR`);
    }
  });

  it('keeps the snapshot as a dated copy and warns when recentlog.csv cannot be replaced', async () => {
    const opts = options();
    await mkdir(path.join(opts.dataDir, DATA_FILES.recent), { recursive: true });
    const outcome = await writeCycle(firstCycle, cycle1, opts);
    const dated = outcome.written.find((file) => /recentlog-\d{8}-\d{6}\.csv$/.test(file));
    assert.ok(dated, JSON.stringify(outcome.written));
    assert.match(outcome.warnings.join('\n'), new RegExp(path.basename(dated)));
    const records = parse(await readFile(dated), { bom: true }) as string[][];
    assert.equal(records.length, 1 + firstCycle.length);
    assert.deepEqual(
      (await readdir(opts.dataDir)).filter((name) => name.endsWith('.tmp')),
      [],
    );
  });

  it('rotates log.csv written with other columns and warns', async () => {
    const opts = options();
    await mkdir(opts.dataDir, { recursive: true });
    await writeFile(path.join(opts.dataDir, DATA_FILES.log), '\uFEFFServer,Username,Process\r\nweb1,root,init\r\n');
    const outcome = await writeCycle([okResult('web1')], cycle1, opts);
    assert.match(outcome.warnings.join('\n'), /log\.csv had different columns.*log-\d{8}-\d{6}-oldcolumns\.csv/);
    assert.equal((await readBack(opts.dataDir, DATA_FILES.log)).length, 1);
  });

  it('throws StoreError naming the path when the data dir cannot be created', async () => {
    const opts = options();
    const blocker = path.dirname(opts.dataDir);
    await writeFile(blocker, 'a regular file where a directory should be');
    await assert.rejects(writeCycle(firstCycle, cycle1, opts), (error: unknown) => {
      assert.ok(error instanceof StoreError, String(error));
      assert.equal(error.path, opts.dataDir);
      assert.equal(error.code, 'ENOTDIR');
      assert.ok(error.message.includes(opts.dataDir), error.message);
      return true;
    });
  });

  it('throws StoreError naming the file when a history file cannot be written', async () => {
    const opts = options();
    const logPath = path.join(opts.dataDir, DATA_FILES.log);
    await mkdir(logPath, { recursive: true });
    await assert.rejects(writeCycle(firstCycle, cycle1, opts), (error: unknown) => {
      assert.ok(error instanceof StoreError, String(error));
      assert.equal(error.path, logPath);
      assert.equal(error.code, 'EISDIR');
      return true;
    });
  });

  // What a run killed inside its write phase leaves: the journal, the snapshot's temp file, and appends
  // that stopped part-way (log.csv in the middle of a row, processes.csv whole, the others untouched).
  async function killedMidCycle(dataDir: string): Promise<Record<string, number>> {
    const sizes: Record<string, number> = {};
    for (const file of FILES) sizes[file] = (await stat(path.join(dataDir, file))).size;
    const histories = [DATA_FILES.log, DATA_FILES.processes, DATA_FILES.disks, DATA_FILES.users].map((f) => path.join(dataDir, f));
    const temp = await prepareReplacement(path.join(dataDir, DATA_FILES.recent), 'half a snapshot');
    await beginCycle(dataDir, cycle2, histories, temp.temp);
    await appendFile(path.join(dataDir, DATA_FILES.log), '2024-03-05 10:05:00,db1,10.0.0.1,ssh,ok,,,12\r\n2024-03-05 10:05:00,web');
    await appendFile(path.join(dataDir, DATA_FILES.processes), '2024-03-05 10:05:00,db1,1,root,init,0.0,1.0\r\n');
    return sizes;
  }

  it('rolls back every file of a cycle killed while it was written, then writes the next one whole', async () => {
    const opts = options();
    await writeCycle(firstCycle, cycle1, opts);
    const before = await killedMidCycle(opts.dataDir);
    const cycle3 = new Date('2024-03-05T10:10:00.000Z');
    const outcome = await writeCycle(secondCycle, cycle3, opts);
    const messages = outcome.warnings.join('\n');
    assert.match(messages, /log\.csv: rolled back 1 whole row\(s\) and a torn row \(\d+ bytes\) of the cycle of 2024-03-05 10:05:00 UTC/);
    assert.match(messages, /processes\.csv: rolled back 1 whole row\(s\) \(/);
    assert.doesNotMatch(messages, /disks\.csv|users\.csv/);
    const log = await readBack(opts.dataDir, DATA_FILES.log);
    assert.deepEqual(
      log.map((r) => r.time),
      [...firstCycle.map(() => '2024-03-05 10:00:00'), ...secondCycle.map(() => '2024-03-05 10:10:00')],
      'cycle 1 and cycle 3 whole, nothing of the killed cycle',
    );
    for (const file of FILES) {
      const rows = await readBack(opts.dataDir, file);
      assert.ok(rows.every((r) => r.time !== '2024-03-05 10:05:00'), file);
      assert.ok((await stat(path.join(opts.dataDir, file))).size > (before[file] ?? 0) || file === DATA_FILES.recent, file);
    }
    assert.deepEqual((await readdir(opts.dataDir)).sort(), [...FILES].sort(), 'no journal, no temp file');
  });

  it('keeps a cycle whose snapshot was renamed into place before the kill (only the journal was left)', async () => {
    const opts = options();
    await writeCycle(firstCycle, cycle1, opts);
    const histories = [DATA_FILES.log].map((f) => path.join(opts.dataDir, f));
    await beginCycle(opts.dataDir, cycle2, histories, path.join(opts.dataDir, '.recentlog.csv.1.000000000000.tmp'));
    const logBefore = await readFile(path.join(opts.dataDir, DATA_FILES.log), 'utf8');
    const outcome = await writeCycle(secondCycle, new Date('2024-03-05T10:10:00.000Z'), opts);
    assert.deepEqual(outcome.warnings, []);
    assert.ok((await readFile(path.join(opts.dataDir, DATA_FILES.log), 'utf8')).startsWith(logBefore));
    assert.ok(!(await readdir(opts.dataDir)).includes(JOURNAL_FILE));
  });

  it('removes a history file the killed cycle created', async () => {
    const opts = options();
    await mkdir(opts.dataDir, { recursive: true });
    const temp = await prepareReplacement(path.join(opts.dataDir, DATA_FILES.recent), 'x');
    await beginCycle(opts.dataDir, cycle1, [path.join(opts.dataDir, DATA_FILES.log)], temp.temp);
    await writeFile(path.join(opts.dataDir, DATA_FILES.log), '\uFEFFtime,ser');
    const outcome = await writeCycle(secondCycle, cycle2, opts);
    assert.match(outcome.warnings.join('\n'), /log\.csv: removed the file the cycle of 2024-03-05 10:00:00 UTC \(pid \d+\) had created/);
    assert.equal((await readBack(opts.dataDir, DATA_FILES.log)).length, secondCycle.length);
  });
});
