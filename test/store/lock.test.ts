import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { StoreError } from '../../src/store/errors.js';
import {
  LOCK_FILE_NAME,
  acquireRunLock,
  describeLockHolder,
  isProcessAlive,
  lockPath,
  parseLockInfo,
  readBootId,
  readStartTicks,
  type AcquireResult,
  type LockInfo,
} from '../../src/store/lock.js';

const racerScript = fileURLToPath(new URL('../helpers/lock-racer.js', import.meta.url));

let root: string;
let counter = 0;
before(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'fleetpoll-lock-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

async function freshDir(): Promise<string> {
  counter += 1;
  const dir = path.join(root, `case${counter}`);
  await mkdir(dir);
  return dir;
}

// The pid of a process that has already exited: what a killed run leaves in its lock.
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '0']);
  assert.equal(typeof child.pid, 'number');
  const pid = child.pid as number;
  assert.equal(isProcessAlive(pid), false);
  return pid;
}

async function writeLock(dir: string, info: LockInfo): Promise<string> {
  const file = lockPath(dir);
  await writeFile(file, JSON.stringify(info));
  return file;
}

function acquired(result: AcquireResult): Extract<AcquireResult, { kind: 'acquired' }> {
  assert.equal(result.kind, 'acquired', JSON.stringify(result));
  return result as Extract<AcquireResult, { kind: 'acquired' }>;
}

describe('acquireRunLock', () => {
  it('creates the lock with pid, hostname, start time and argv', async () => {
    const dir = await freshDir();
    const { lock } = acquired(await acquireRunLock(path.join(dir, 'data'), { argv: ['fleetpoll', 'poll'] }));
    const onDisk = parseLockInfo(await readFile(path.join(dir, 'data', LOCK_FILE_NAME)));
    assert.deepEqual(onDisk, lock.info);
    assert.equal(onDisk?.pid, process.pid);
    assert.equal(onDisk?.hostname, os.hostname());
    assert.deepEqual(onDisk?.argv, ['fleetpoll', 'poll']);
    assert.equal(onDisk?.processStart, performance.timeOrigin, 'the process start survives the JSON round trip exactly');
    assert.ok(Math.abs(Date.parse(onDisk?.startedAt ?? '') - Date.now()) < 60_000);
    assert.equal(await lock.release(), true);
  });

  it('refuses a second acquire while held and names the holder', async () => {
    const dir = await freshDir();
    const { lock } = acquired(await acquireRunLock(dir));
    const second = await acquireRunLock(dir);
    assert.equal(second.kind, 'held');
    assert.ok(second.kind === 'held');
    assert.equal(second.reason, 'alive');
    assert.equal(second.holder.pid, process.pid);
    assert.equal(second.holder.startedAt, lock.info.startedAt);
    assert.match(describeLockHolder(second), new RegExp(`held by pid ${process.pid} on .* since \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC`));
    await lock.release();
    acquired(await acquireRunLock(dir)).lock.release();
  });

  it('treats a lock held by another live process on this host as held', async () => {
    const dir = await freshDir();
    const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      const pid = sleeper.pid as number;
      await writeLock(dir, { pid, hostname: os.hostname(), startedAt: new Date().toISOString(), argv: [], processStart: null, bootId: null });
      const result = await acquireRunLock(dir);
      assert.ok(result.kind === 'held');
      assert.equal(result.holder.pid, pid);
      assert.equal(result.reason, 'alive');
    } finally {
      sleeper.kill();
    }
  });

  it('recovers a lock written before this host last booted, even when its pid is alive again', async () => {
    const bootId = await readBootId();
    assert.ok(process.platform !== 'linux' || bootId !== null, 'Linux has a boot id');
    const dir = await freshDir();
    const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      const pid = sleeper.pid as number;
      const info = { pid, hostname: os.hostname(), startedAt: new Date().toISOString(), argv: [], processStart: null };
      // This boot's id, or none (an older fleetpoll): the live pid keeps the lock.
      for (const id of [bootId, null]) {
        await writeLock(dir, { ...info, bootId: id });
        const held = await acquireRunLock(dir);
        assert.ok(held.kind === 'held' && held.reason === 'alive', JSON.stringify(held));
      }
      await writeLock(dir, { ...info, bootId: 'a3c1f0e2-0000-4000-8000-000000000000' });
      const result = acquired(await acquireRunLock(dir));
      assert.equal(result.recoveredStale?.pid, pid);
      assert.equal(result.lock.info.bootId, bootId);
      await result.lock.release();
    } finally {
      sleeper.kill();
    }
  });

  it('recovers a stale lock whose process is dead', async () => {
    const dir = await freshDir();
    const pid = deadPid();
    await writeLock(dir, { pid, hostname: os.hostname(), startedAt: '2024-01-01T00:00:00.000Z', argv: [], processStart: null, bootId: null });
    const result = acquired(await acquireRunLock(dir));
    assert.equal(result.recoveredStale?.pid, pid);
    assert.equal(parseLockInfo(await readFile(lockPath(dir)))?.pid, process.pid);
    await result.lock.release();
    assert.deepEqual(await readdir(dir), [], 'no aside file is left behind');
  });

  it('recovers at once a dead holder’s lock next to a dead recoverer’s .recover guard', async () => {
    // What a poll killed while it was itself recovering a stale lock leaves behind.
    const bootId = await readBootId();
    for (const guard of [
      { pid: deadPid(), hostname: os.hostname(), processStart: Date.now() - 5_000, bootId, nonce: '00aa' },
      // An older fleetpoll's guard: no process start, no boot id.
      { pid: deadPid(), hostname: os.hostname(), nonce: '00bb' },
    ]) {
      const dir = await freshDir();
      const holder = deadPid();
      await writeLock(dir, { pid: holder, hostname: os.hostname(), startedAt: new Date().toISOString(), argv: [], processStart: Date.now() - 5_000, bootId });
      await writeFile(`${lockPath(dir)}.recover`, JSON.stringify(guard));
      const started = Date.now();
      const result = acquired(await acquireRunLock(dir));
      const elapsed = Date.now() - started;
      assert.ok(elapsed < 1_500, `took ${elapsed} ms: a dead recoverer's guard must not be waited out`);
      assert.equal(result.recoveredStale?.pid, holder);
      await result.lock.release();
      assert.deepEqual(await readdir(dir), [], 'the dead guard, the lock and every temp file are gone');
    }
  });

  it('waits for a live recoverer’s guard and then sees its lock', async () => {
    const dir = await freshDir();
    const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      const pid = sleeper.pid as number;
      await writeLock(dir, { pid: deadPid(), hostname: os.hostname(), startedAt: new Date().toISOString(), argv: [], processStart: null, bootId: null });
      const guard = `${lockPath(dir)}.recover`;
      await writeFile(guard, JSON.stringify({ pid, hostname: os.hostname(), processStart: null, bootId: await readBootId(), startTicks: await readStartTicks(pid), nonce: '01' }));
      // The live recoverer finishes 300 ms later: it replaced the stale lock with its own.
      setTimeout(() => {
        void writeLock(dir, { pid, hostname: os.hostname(), startedAt: new Date().toISOString(), argv: [], processStart: null, bootId: null }).then(() => rm(guard));
      }, 300);
      const result = await acquireRunLock(dir);
      assert.ok(result.kind === 'held' && result.reason === 'alive' && result.holder.pid === pid, JSON.stringify(result));
    } finally {
      sleeper.kill();
    }
  });

  it('recovers a lock whose pid now belongs to another process (the kernel start time differs)', async () => {
    const bootId = await readBootId();
    if (process.platform !== 'linux') return;
    const dir = await freshDir();
    const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      const pid = sleeper.pid as number;
      const ticks = await readStartTicks(pid);
      assert.ok(ticks !== null);
      const info = { pid, hostname: os.hostname(), startedAt: new Date().toISOString(), argv: [], processStart: null, bootId };
      await writeLock(dir, { ...info, startTicks: ticks });
      const held = await acquireRunLock(dir);
      assert.ok(held.kind === 'held' && held.reason === 'alive', 'the same process still holds it');
      await writeLock(dir, { ...info, startTicks: ticks + 12_345 });
      const result = acquired(await acquireRunLock(dir));
      assert.equal(result.recoveredStale?.pid, pid);
      assert.equal(result.lock.info.startTicks, await readStartTicks(process.pid));
      await result.lock.release();
    } finally {
      sleeper.kill();
    }
  });

  it('recovers a lock carrying our own pid that an earlier process wrote (pid reuse after restart)', async () => {
    // An earlier process with this pid, and one from a fleetpoll that did not record process starts.
    for (const processStart of [performance.timeOrigin - 3_600_000, null]) {
      const dir = await freshDir();
      await writeLock(dir, { pid: process.pid, hostname: os.hostname(), startedAt: '2024-01-01T00:00:00.000Z', argv: [], processStart, bootId: null });
      const result = acquired(await acquireRunLock(dir));
      assert.equal(result.recoveredStale?.pid, process.pid, String(processStart));
      assert.equal(result.lock.info.processStart, performance.timeOrigin);
      await result.lock.release();
    }
  });

  it('respects another host’s lock until it is older than the max age', async () => {
    const dir = await freshDir();
    const file = await writeLock(dir, { pid: 4242, hostname: 'elsewhere.example', startedAt: new Date().toISOString(), argv: [], processStart: null, bootId: null });
    const held = await acquireRunLock(dir);
    assert.ok(held.kind === 'held');
    assert.equal(held.reason, 'other-host');
    assert.equal(held.holder.hostname, 'elsewhere.example');

    const sevenHoursAgo = new Date(Date.now() - 7 * 3600_000);
    await utimes(file, sevenHoursAgo, sevenHoursAgo);
    const stillHeld = await acquireRunLock(dir, { foreignMaxAgeMs: 8 * 3600_000 });
    assert.equal(stillHeld.kind, 'held');
    const result = acquired(await acquireRunLock(dir));
    assert.equal(result.recoveredStale?.hostname, 'elsewhere.example');
    await result.lock.release();
  });

  it('waits out an empty lock file being written, then treats a lasting one as stale', async () => {
    const dir = await freshDir();
    await writeFile(lockPath(dir), '');
    const started = Date.now();
    const result = acquired(await acquireRunLock(dir, { unreadableGraceMs: 300 }));
    assert.ok(Date.now() - started >= 200, 'a fresh empty lock is given time to be written');
    await result.lock.release();
  });

  it('lets exactly one of several racing runs take over a stale lock', async () => {
    for (let round = 0; round < 5; round += 1) {
      const dir = await freshDir();
      const stalePid = deadPid();
      await writeLock(dir, { pid: stalePid, hostname: os.hostname(), startedAt: '2024-01-01T00:00:00.000Z', argv: [], processStart: null, bootId: null });
      const racers = Array.from({ length: 4 }, () => startRacer(dir));
      try {
        // Release them together only once all are up, so they really race.
        await Promise.all(racers.map((racer) => racer.nextLine()));
        for (const racer of racers) racer.child.stdin.write('go\n');
        const outcomes = await Promise.all(
          racers.map(async (racer) => JSON.parse(await racer.nextLine()) as RacerOutcome),
        );
        const winners = outcomes.filter((outcome) => outcome.kind === 'acquired');
        assert.equal(winners.length, 1, `round ${round}: ${JSON.stringify(outcomes)}`);
        for (const loser of outcomes.filter((outcome) => outcome.kind === 'held')) {
          assert.equal(loser.holder, winners[0]?.pid, 'every loser names the winner');
        }
      } finally {
        for (const racer of racers) racer.child.stdin.end();
        const codes = await Promise.all(racers.map((racer) => racer.exited));
        assert.deepEqual(codes, [0, 0, 0, 0]);
      }
      assert.deepEqual(await readdir(dir), [], 'the winner released and nothing was left aside');
    }
  });
});

interface RacerOutcome {
  kind: 'acquired' | 'held';
  pid: number;
  holder?: number;
  recovered?: number | null;
}

// A lock-racer child with a line reader over its stdout.
function startRacer(dir: string) {
  const child = spawn(process.execPath, [racerScript, dir], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines: string[] = [];
  const waiting: ((line: string) => void)[] = [];
  let buffered = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    buffered += chunk;
    for (let newline = buffered.indexOf('\n'); newline !== -1; newline = buffered.indexOf('\n')) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      const waiter = waiting.shift();
      if (waiter === undefined) lines.push(line);
      else waiter(line);
    }
  });
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  const nextLine = (): Promise<string> => {
    const line = lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    return Promise.race([
      new Promise<string>((resolve) => waiting.push(resolve)),
      exited.then((code) => Promise.reject(new Error(`racer exited (${code}) before writing a line`))),
    ]);
  };
  return { child, nextLine, exited };
}

describe('RunLock.release', () => {
  it('removes only a lock that is still ours', async () => {
    const dir = await freshDir();
    const { lock } = acquired(await acquireRunLock(dir));
    const other = JSON.stringify({ pid: 1, hostname: 'elsewhere.example', startedAt: new Date().toISOString(), argv: [], processStart: null, bootId: null });
    await writeFile(lock.path, other); // another run took over (e.g. judged us stale)
    assert.equal(await lock.release(), false);
    assert.equal(await readFile(lock.path, 'utf8'), other);
  });

  it('removes our own lock, and says so only once', async () => {
    const dir = await freshDir();
    const { lock } = acquired(await acquireRunLock(dir));
    assert.equal(await lock.release(), true);
    await assert.rejects(stat(lock.path), { code: 'ENOENT' });
    assert.equal(await lock.release(), false);
  });

  it('refresh moves the heartbeat forward', async () => {
    const dir = await freshDir();
    const { lock } = acquired(await acquireRunLock(dir));
    const past = new Date(Date.now() - 3600_000);
    await utimes(lock.path, past, past);
    assert.equal(await lock.refresh(), true);
    assert.ok((await stat(lock.path)).mtimeMs > Date.now() - 60_000);
    await lock.release();
  });
});

describe('acquireRunLock on an unusable data dir', () => {
  it('throws StoreError naming the path', async () => {
    const dir = await freshDir();
    const file = path.join(dir, 'plain-file');
    await writeFile(file, 'x');
    await assert.rejects(acquireRunLock(path.join(file, 'data')), (error: unknown) => {
      assert.ok(error instanceof StoreError);
      assert.equal(error.code, 'ENOTDIR');
      assert.ok(error.path.startsWith(path.join(file, 'data')), error.path);
      assert.match(error.message, /plain-file/);
      return true;
    });
  });
});
