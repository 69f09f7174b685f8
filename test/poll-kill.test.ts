// End to end: real polls of a real sshd fleet, each SIGKILLed at a different moment (spread over the run,
// and the instant a file in data/ changes), then one clean poll. Every CSV file must then be whole records
// with the header's column count, one header, a BOM only at byte 0; every cycle must be in log.csv whole or
// not at all; nothing of fleetpoll's own may be left over; and no poll may be refused by a dead run's lock.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { watch, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import { DATA_FILES, DISK_COLUMNS, LOG_COLUMNS, PROCESS_COLUMNS, USER_COLUMNS } from '../src/store/columns.js';
import { readBootId } from '../src/store/lock.js';
import { CLI, runCli } from './helpers/cli.js';
import { ensureTestUser, loopbackAddresses, makeKeys, missingTool, pickPort, removeKeys, SSHD, startSshdFleet, TEST_USER, type Sshd, type SshdKeys } from './helpers/sshd.js';

const COLUMNS: Record<string, readonly string[]> = {
  [DATA_FILES.log]: LOG_COLUMNS,
  [DATA_FILES.recent]: LOG_COLUMNS,
  [DATA_FILES.processes]: PROCESS_COLUMNS,
  [DATA_FILES.disks]: DISK_COLUMNS,
  [DATA_FILES.users]: USER_COLUMNS,
};
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
// Hosts nobody listens for: refused at once, they make every file's cycle (and its write) larger.
const DOWN_HOSTS = 300;
// Kills at these times after the start, spread over a poll (start-up, lock, connect, probe, write).
const TIMED_KILLS_MS = [60, 250, 500, 800, 1_200, 1_800];
// Kills the instant (plus a few ms) a file of the write phase changes.
const WATCHED_KILLS: readonly { file: string; delayMs: number }[] = [
  { file: '.fleetpoll-cycle.json', delayMs: 0 },
  { file: 'log.csv', delayMs: 0 },
  { file: 'processes.csv', delayMs: 0 },
  { file: 'disks.csv', delayMs: 1 },
  { file: 'users.csv', delayMs: 0 },
  { file: 'log.csv', delayMs: 3 },
  { file: 'recentlog.csv', delayMs: 0 },
  { file: '.fleetpoll-cycle.json', delayMs: 2 },
];

// The pid of a process that has exited.
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '0']).pid as number;
}

// Checks one CSV file record by record; returns its records without the header.
function checkCsv(file: string, columns: readonly string[]): string[][] {
  const bytes = readFileSync(file);
  const name = file.split('/').at(-1);
  assert.ok(bytes.subarray(0, 3).equals(BOM), `${name}: starts with the BOM`);
  assert.equal(bytes.indexOf(BOM, 3), -1, `${name}: a BOM only at byte 0`);
  assert.equal(bytes.subarray(-2).toString('latin1'), '\r\n', `${name}: ends with a whole record`);
  const records = parse(bytes.subarray(3), { relax_column_count: true, relax_quotes: false }) as string[][];
  const [header, ...rows] = records;
  assert.deepEqual(header, columns, `${name}: header`);
  for (const [index, row] of rows.entries()) {
    assert.equal(row.length, columns.length, `${name} record ${index + 2} has ${row.length} field(s): ${JSON.stringify(row).slice(0, 200)}`);
    assert.notDeepEqual(row, columns, `${name}: one header`);
  }
  return rows;
}

describe('fleetpoll poll killed with SIGKILL at many moments', { skip: missingTool(SSHD) ?? false }, () => {
  let keys: SshdKeys;
  let fleet: Sshd[] = [];
  let dir: string;
  const port = pickPort(47);
  const addresses = loopbackAddresses(16, 94);
  const hosts = addresses.length + DOWN_HOSTS;

  before(async () => {
    ensureTestUser();
    keys = makeKeys();
    fleet = await startSshdFleet(addresses, port, keys);
    dir = mkdtempSync(join(tmpdir(), 'fleetpoll-kill-'));
    writeFileSync(join(dir, 'fleetpoll.config.json'), JSON.stringify({ poll: { cpuWindowSeconds: 0.2, timeoutSeconds: 10, retries: 0 }, alerts: { enabled: false } }));
    writeFileSync(join(dir, 'known_hosts'), `${fleet.flatMap((s) => s.knownHostsLines()).join('\n')}\n`);
    const rows = addresses.map((a, i) => `host${String(i + 1).padStart(2, '0')},${a},ssh,${port},${TEST_USER},key:${keys.clientKeyPath},linux,fleet,yes`);
    for (const a of loopbackAddresses(DOWN_HOSTS, 94, 1)) rows.push(`down-${a},${a},ssh,${port},${TEST_USER},key:${keys.clientKeyPath},linux,down,yes`);
    mkdirSync(join(dir, 'inventory'));
    writeFileSync(join(dir, 'inventory', 'servers.csv'), `name,address,transport,port,user,auth,os,tags,enabled\n${rows.join('\n')}\n`);
    mkdirSync(join(dir, 'data'));
  });

  after(async () => {
    await Promise.all(fleet.map((s) => s.stop()));
    if (keys !== undefined) removeKeys(keys);
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  // Starts a poll; `kill` arms the SIGKILL. Resolves with how it ended.
  function poll(kill: (child: ReturnType<typeof spawn>) => () => void): Promise<{ code: number | null; signal: string | null; stdout: string }> {
    const child = spawn(process.execPath, [CLI, 'poll', '--known-hosts', join(dir, 'known_hosts')], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (stdout += c.toString()));
    const disarm = kill(child);
    return new Promise((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code, signal) => {
        disarm();
        resolve({ code, signal, stdout });
      });
    });
  }

  it('leaves whole records, whole cycles, no leftovers and no lock in the way', async () => {
    const data = join(dir, 'data');
    let killedInWrite = 0;
    const outcomes: string[] = [];
    const expectNotRefused = (run: { code: number | null; signal: string | null; stdout: string }, what: string): void => {
      outcomes.push(`${what}: ${run.signal ?? run.code}`);
      assert.ok(run.signal === 'SIGKILL' || run.code === 0, `${what} ended with ${run.code}: ${run.stdout}`);
      assert.doesNotMatch(run.stdout, /another poll is running/, what);
    };

    for (const delayMs of TIMED_KILLS_MS) {
      const run = await poll((child) => {
        const timer = setTimeout(() => child.kill('SIGKILL'), delayMs);
        return () => clearTimeout(timer);
      });
      expectNotRefused(run, `killed at ${delayMs} ms`);
    }
    for (const { file, delayMs } of WATCHED_KILLS) {
      const run = await poll((child) => {
        let fired = false;
        const watcher = watch(data, (_event, name) => {
          if (fired || name !== file) return;
          fired = true;
          const fire = (): void => {
            // Whether the kill landed between the journal and the commit (for the diagnostic only).
            if (readdirSync(data).includes('.fleetpoll-cycle.json')) killedInWrite += 1;
            child.kill('SIGKILL');
          };
          if (delayMs === 0) fire();
          else setTimeout(fire, delayMs);
        });
        return () => watcher.close();
      });
      expectNotRefused(run, `killed when ${file} changed (+${delayMs} ms)`);
    }

    // The worst leftover of all: a dead holder's lock next to a dead recoverer's guard.
    const bootId = await readBootId();
    writeFileSync(join(data, '.fleetpoll.lock'), JSON.stringify({ pid: deadPid(), hostname: hostname(), startedAt: new Date().toISOString(), argv: ['fleetpoll', 'poll'], processStart: Date.now(), bootId }));
    writeFileSync(join(data, '.fleetpoll.lock.recover'), JSON.stringify({ pid: deadPid(), hostname: hostname(), processStart: Date.now(), bootId, nonce: '0f0f' }));

    const clean = await runCli(['poll', '--known-hosts', join(dir, 'known_hosts')], dir);
    assert.equal(clean.code, 0, `${outcomes.join('\n')}\n${clean.stdout}\n${clean.stderr}`);

    // Nothing of fleetpoll's own is left: no lock, guard, journal or temp file (all are hidden names).
    assert.deepEqual(readdirSync(data).filter((name) => name.startsWith('.')), []);
    const csvFiles = readdirSync(data).filter((name) => name.endsWith('.csv'));
    assert.deepEqual(csvFiles.sort(), Object.keys(COLUMNS).sort(), 'no file was set aside or rotated');

    const recent = checkCsv(join(data, DATA_FILES.recent), LOG_COLUMNS);
    assert.equal(recent.length, hosts, 'recentlog.csv: one row per host');
    const log = checkCsv(join(data, DATA_FILES.log), LOG_COLUMNS);
    // A cycle is all there or not there: every cycle time has one row per host (a multiple, should two
    // cycles have started in the same second).
    const perCycle = new Map<string, number>();
    for (const row of log) perCycle.set(row[0] ?? '', (perCycle.get(row[0] ?? '') ?? 0) + 1);
    for (const [time, count] of perCycle) assert.equal(count % hosts, 0, `log.csv: cycle ${time} has ${count} rows of ${hosts}`);
    assert.ok(perCycle.size >= 1, 'the clean poll at least');
    for (const name of [DATA_FILES.processes, DATA_FILES.disks, DATA_FILES.users]) {
      const rows = checkCsv(join(data, name), COLUMNS[name] ?? []);
      for (const row of rows) assert.ok(perCycle.has(row[0] ?? ''), `${name}: a row of cycle ${row[0]}, which log.csv does not have`);
    }
    const cycles = [...perCycle.keys()].sort();
    const okLast = recent.filter((row) => row[LOG_COLUMNS.indexOf('status')] === 'ok').length;
    assert.equal(okLast, addresses.length, 'the clean poll reached every sshd host');
    // For the record: how the kills fell.
    process.stdout.write(`# ${outcomes.join('; ')}; ${killedInWrite} kill(s) inside the write phase; ${cycles.length} whole cycle(s) kept\n`);
  });
});
