// The run lock of a data dir: one poll at a time writes data/, a second overlapping run is told who holds it.
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, rename, stat, unlink, utimes } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { StoreError, errorCode, hasErrorCode } from './errors.js';
import { tempPathBeside } from './files.js';
import { formatTime } from './format.js';

// Name of the lock file inside the data dir.
export const LOCK_FILE_NAME = '.fleetpoll.lock';

// A lock written by another machine (shared data dir) is taken over only after this long without refresh.
export const DEFAULT_FOREIGN_LOCK_MAX_AGE_MS = 6 * 60 * 60 * 1000;

// An empty or garbled lock: an older fleetpoll (or a filesystem without hard links) between its exclusive
// create and its write; give that time to finish.
const DEFAULT_UNREADABLE_GRACE_MS = 5_000;
const UNREADABLE_POLL_MS = 50;
// A recovery guard is judged by its writer's liveness like the lock; only a guard written on another machine
// (a shared data dir), whose process we cannot see, is taken as abandoned after this long. Recovery holds
// its guard for milliseconds, and acquireRunLock waits longer than this before it gives up.
const FOREIGN_GUARD_STALE_MS = 3_000;
const RECOVERY_BUSY_WAIT_MS = 20;
// How long acquireRunLock keeps trying beyond the longest wait above before it reports the lock contended.
const GIVE_UP_MARGIN_MS = 2_000;
// Filesystems without hard links (FAT, some network shares): a lock is then created by an exclusive open.
const NO_LINK_CODES = ['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV', 'EMLINK'];

// What a lock file records about its holder.
export interface LockInfo {
  readonly pid: number;
  readonly hostname: string;
  /** ISO 8601 UTC. */
  readonly startedAt: string;
  readonly argv: readonly string[];
  /**
   * The holder's performance.timeOrigin (ms since the epoch): with the pid, it tells this process
   * from an earlier one that had the same pid (a container's pid 1 after a restart). Null in a lock
   * an older fleetpoll wrote.
   */
  readonly processStart: number | null;
  /** The kernel's boot id (Linux), so a lock from before a reboot is known as such; null elsewhere. */
  readonly bootId: string | null;
  /**
   * The holder's start time as the kernel counts it (Linux: /proc/<pid>/stat field 22, clock ticks since
   * boot): a live pid that started at another tick is another process that reuses the pid. Null elsewhere
   * and in a lock an older fleetpoll wrote.
   */
  readonly startTicks?: number | null;
}

// Options for acquireRunLock.
export interface LockOptions {
  /** Age (since last refresh) after which another host's lock counts as stale. Default 6 h. */
  readonly foreignMaxAgeMs?: number;
  /** How long an empty or garbled lock file is assumed to be mid-write before it counts as stale. Default 5 s. */
  readonly unreadableGraceMs?: number;
  /** Recorded in the lock so an admin can tell which command holds it. Default process.argv. */
  readonly argv?: readonly string[];
}

// A lock we hold.
export interface RunLock {
  readonly path: string;
  readonly info: LockInfo;
  /** Removes the lock file if it is still ours; false when it was gone or replaced. */
  release(): Promise<boolean>;
  /** Touches the lock (its mtime is the heartbeat), so a long-running poller is never taken as stale. */
  refresh(): Promise<boolean>;
}

// Why a lock could not be acquired.
export type LockHeldReason =
  /** A live process on this host. */
  | 'alive'
  /** Another machine's lock, younger than the max age. */
  | 'other-host'
  /** The file kept changing under us while we tried to recover it. */
  | 'contended';

// Someone else holds the lock: the CLI prints the holder and exits 3.
export interface LockHeld {
  readonly kind: 'held';
  readonly path: string;
  readonly reason: LockHeldReason;
  readonly holder: LockInfo;
}

// We hold the lock; recoveredStale is the dead run's lock we took over, if any (worth a log line).
export interface LockAcquired {
  readonly kind: 'acquired';
  readonly lock: RunLock;
  readonly recoveredStale: LockInfo | null;
}

// The outcome of acquireRunLock.
export type AcquireResult = LockAcquired | LockHeld;

// Path of the lock file of a data dir.
export function lockPath(dataDir: string): string {
  return path.join(dataDir, LOCK_FILE_NAME);
}

// Takes the run lock of `dataDir` (created if missing), recovering a stale lock left by a killed run.
// Throws StoreError when the data dir cannot be written at all.
export async function acquireRunLock(dataDir: string, options: LockOptions = {}): Promise<AcquireResult> {
  const file = path.resolve(lockPath(dataDir));
  const foreignMaxAgeMs = options.foreignMaxAgeMs ?? DEFAULT_FOREIGN_LOCK_MAX_AGE_MS;
  const graceMs = options.unreadableGraceMs ?? DEFAULT_UNREADABLE_GRACE_MS;
  await storeCall(file, () => mkdir(path.dirname(file), { recursive: true }));

  const bootId = await readBootId();
  const startTicks = await readStartTicks(process.pid);
  let recoveredStale: LockInfo | null = null;
  let lastHolder: LockInfo | null = null;
  const giveUpAt = Date.now() + Math.max(graceMs, FOREIGN_GUARD_STALE_MS) + GIVE_UP_MARGIN_MS;
  while (Date.now() < giveUpAt) {
    const info: LockInfo = {
      pid: process.pid,
      hostname: os.hostname(),
      startedAt: new Date().toISOString(),
      argv: [...(options.argv ?? process.argv)],
      processStart: performance.timeOrigin,
      bootId,
      startTicks,
    };
    const content = Buffer.from(`${JSON.stringify(info, null, 2)}\n`, 'utf8');
    if (await createExclusive(file, content)) {
      return { kind: 'acquired', lock: makeRunLock(file, info, content), recoveredStale };
    }

    const seen = await readLock(file);
    if (seen === null) continue; // released between our create and our read
    const holder = parseLockInfo(seen.raw);
    const ageMs = Date.now() - seen.mtimeMs;
    if (holder === null) {
      // Most likely a run between its exclusive create and its write: wait for the content.
      if (ageMs < graceMs) {
        await sleep(UNREADABLE_POLL_MS);
        continue;
      }
    } else {
      lastHolder = holder;
      const verdict = await judge(holder, bootId, ageMs, foreignMaxAgeMs);
      if (verdict !== 'stale') return { kind: 'held', path: file, reason: verdict, holder };
    }
    if ((await recoverStale(file, seen.raw, holder !== null, graceMs, bootId)) === 'removed') recoveredStale = holder;
    // Either way, go round again: the next create succeeds or the next read shows the new holder.
  }
  if (lastHolder !== null) return { kind: 'held', path: file, reason: 'contended', holder: lastHolder };
  throw new StoreError(`cannot acquire run lock ${file}: the lock file keeps changing`, file, undefined);
}

// One line for the CLI: who holds the lock and since when.
export function describeLockHolder(held: LockHeld): string {
  const { holder } = held;
  const started = new Date(holder.startedAt);
  const since = Number.isNaN(started.getTime()) ? holder.startedAt : `${formatTime(started)} UTC`;
  const command = holder.argv.length > 0 ? ` (${holder.argv.join(' ')})` : '';
  return `${held.path} is held by pid ${holder.pid} on ${holder.hostname} since ${since}${command}`;
}

async function judge(
  holder: LockInfo,
  bootId: string | null,
  ageMs: number,
  foreignMaxAgeMs: number,
): Promise<'alive' | 'other-host' | 'stale'> {
  if (holder.hostname !== os.hostname()) {
    // We cannot see the other machine's processes; only a long silence proves it is gone.
    return ageMs > foreignMaxAgeMs ? 'stale' : 'other-host';
  }
  return (await writerAlive(holder, bootId)) ? 'alive' : 'stale';
}

// Whether the process that wrote a lock or a recovery guard on this host still runs: the pid, and for
// our own pid the process start; a file written before the last boot has no live writer.
async function writerAlive(writer: ProcessIdentity, bootId: string | null): Promise<boolean> {
  if (writer.pid === process.pid) return writer.processStart === performance.timeOrigin;
  // Written before a reboot (power loss, a crashed host): its holder is gone, and its pid may well
  // belong to another process by now. A boot id rather than times: a clock stepped by NTP after
  // boot would make a live run's lock look older than the boot.
  if (writer.bootId !== null && bootId !== null && writer.bootId !== bootId) return false;
  if (!isProcessAlive(writer.pid)) return false;
  // The pid runs, but it may be another process that got the dead holder's pid: compare kernel start ticks.
  const recorded = writer.startTicks ?? null;
  if (recorded === null || writer.bootId === null || writer.bootId !== bootId) return true;
  const now = await readStartTicks(writer.pid);
  return now === null || now === recorded;
}

// Who wrote a lock or a recovery guard.
interface ProcessIdentity {
  readonly pid: number;
  readonly processStart: number | null;
  readonly bootId: string | null;
  readonly startTicks?: number | null;
}

// A process's start in clock ticks since boot (Linux /proc/<pid>/stat field 22); null elsewhere or when gone.
export async function readStartTicks(pid: number): Promise<number | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Field 2 (the command name, in parentheses) may itself hold spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[19]);
    return Number.isSafeInteger(ticks) && ticks >= 0 ? ticks : null;
  } catch {
    return null;
  }
}

// The id Linux draws at each boot; null where there is none (Windows, macOS).
export async function readBootId(): Promise<string | null> {
  try {
    const id = (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim();
    return id === '' ? null : id;
  } catch {
    return null;
  }
}

// Whether a pid is a live process on this host.
export function isProcessAlive(pid: number): boolean {
  // 0 and negative pids address process groups, never a single holder.
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to another user.
    return hasErrorCode(error, 'EPERM');
  }
}

// Creates `file` with its whole content in one step, or returns false when it exists. The content is written
// to a temp file first and hard-linked into place, so a run killed at any instant never leaves an empty or
// half-written lock (an empty file names no holder whose liveness could be checked).
async function createExclusive(file: string, content: Buffer): Promise<boolean> {
  // Most attempts meet an existing file (a live holder, a racer's guard): learn that before a synced write.
  if (await readLock(file) !== null) return false;
  const temp = tempPathBeside(file);
  try {
    await writeSynced(temp, content);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw toStoreError(file, error);
  }
  try {
    await link(temp, file);
    return true;
  } catch (error) {
    if (hasErrorCode(error, 'EEXIST')) return false;
    if (!hasErrorCode(error, ...NO_LINK_CODES)) throw toStoreError(file, error);
    return createByExclusiveOpen(file, content);
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

async function writeSynced(file: string, content: Buffer): Promise<void> {
  const handle = await open(file, 'wx');
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

// Where hard links are not supported: an exclusive open then a write, which a kill can leave empty
// (such a file is given unreadableGraceMs before it counts as stale).
async function createByExclusiveOpen(file: string, content: Buffer): Promise<boolean> {
  let handle;
  try {
    handle = await open(file, 'wx');
  } catch (error) {
    if (hasErrorCode(error, 'EEXIST')) return false;
    throw toStoreError(file, error);
  }
  try {
    await handle.writeFile(content);
    await handle.sync();
    await handle.close();
    return true;
  } catch (error) {
    await handle.close().catch(() => undefined);
    await unlink(file).catch(() => undefined);
    throw toStoreError(file, error);
  }
}

async function readLock(file: string): Promise<{ raw: Buffer; mtimeMs: number } | null> {
  try {
    const { mtimeMs } = await stat(file);
    return { raw: await readFile(file), mtimeMs };
  } catch (error) {
    if (hasErrorCode(error, 'ENOENT')) return null;
    throw toStoreError(file, error);
  }
}

// Deletes a stale lock only if it still holds exactly the bytes we judged, under a guard file
// (`<lock>.recover`, created exclusively). Two new runs can judge the same stale lock; serialising
// the check-and-delete means the second one sees the first one's fresh lock and leaves it alone.
// (Moving the lock aside to check it instead leaves the path empty for a moment, and a third run's
// exclusive create then succeeds next to the real holder: the racing test caught exactly that.)
async function recoverStale(
  file: string,
  judged: Buffer,
  parseable: boolean,
  graceMs: number,
  bootId: string | null,
): Promise<'removed' | 'changed' | 'busy'> {
  const guard = `${file}.recover`;
  const token = Buffer.from(
    JSON.stringify({
      pid: process.pid,
      hostname: os.hostname(),
      processStart: performance.timeOrigin,
      bootId,
      startTicks: await readStartTicks(process.pid),
      nonce: randomBytes(8).toString('hex'),
    }),
  );
  if (!(await createExclusive(guard, token))) {
    await clearAbandonedGuard(guard, graceMs, bootId);
    return 'busy';
  }
  try {
    const current = await readLock(file);
    if (current === null || !current.raw.equals(judged)) return 'changed';
    // Garbled content is not unique: a run that has only just created its lock reads the same.
    if (!parseable && Date.now() - current.mtimeMs < graceMs) return 'changed';
    await storeCall(file, () => unlink(file));
    return 'removed';
  } finally {
    await removeIfSame(guard, token);
  }
}

// A guard left by a run killed mid-recovery would block recovery forever. It is cleared as soon as its
// writer is known dead (same host: pid, process start, boot id), like a lock; a live writer is waited for.
async function clearAbandonedGuard(guard: string, graceMs: number, bootId: string | null): Promise<void> {
  const seen = await readLock(guard);
  if (seen === null) return;
  if (!(await guardAbandoned(seen, graceMs, bootId))) {
    await sleep(RECOVERY_BUSY_WAIT_MS);
    return;
  }
  const aside = `${guard}.stale-${process.pid}-${randomBytes(6).toString('hex')}`;
  try {
    await rename(guard, aside);
  } catch (error) {
    if (hasErrorCode(error, 'ENOENT')) return;
    throw toStoreError(guard, error);
  }
  // Another run may have cleared it and taken a new guard in the meantime: then put that back.
  if ((await readFile(aside)).equals(seen.raw)) await unlink(aside);
  else await rename(aside, guard);
}

async function guardAbandoned(seen: { raw: Buffer; mtimeMs: number }, graceMs: number, bootId: string | null): Promise<boolean> {
  const writer = parseGuard(seen.raw);
  const ageMs = Date.now() - seen.mtimeMs;
  // Empty or garbled: an older fleetpoll killed between its create and its write, or a filesystem without links.
  if (writer === null) return ageMs > graceMs;
  if (writer.hostname !== os.hostname()) return ageMs > FOREIGN_GUARD_STALE_MS;
  return !(await writerAlive(writer, bootId));
}

function parseGuard(raw: Buffer): (ProcessIdentity & { hostname: string }) | null {
  let value: unknown;
  try {
    value = JSON.parse(raw.toString());
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const { pid, hostname, processStart, bootId, startTicks } = value as Record<string, unknown>;
  if (typeof pid !== 'number' || !Number.isSafeInteger(pid) || pid <= 0 || typeof hostname !== 'string') return null;
  return {
    pid,
    hostname,
    processStart: typeof processStart === 'number' && Number.isFinite(processStart) ? processStart : null,
    bootId: typeof bootId === 'string' && bootId !== '' ? bootId : null,
    startTicks: ticksOrNull(startTicks),
  };
}

async function removeIfSame(file: string, content: Buffer): Promise<boolean> {
  try {
    if (!(await readFile(file)).equals(content)) return false;
    await unlink(file);
    return true;
  } catch (error) {
    if (hasErrorCode(error, 'ENOENT')) return false;
    throw toStoreError(file, error);
  }
}

function makeRunLock(file: string, info: LockInfo, content: Buffer): RunLock {
  const stillOurs = async (): Promise<boolean> => {
    try {
      return (await readFile(file)).equals(content);
    } catch (error) {
      if (hasErrorCode(error, 'ENOENT')) return false;
      throw error;
    }
  };
  return {
    path: file,
    info,
    async release() {
      return removeIfSame(file, content);
    },
    async refresh() {
      if (!(await stillOurs())) return false;
      const now = new Date();
      await utimes(file, now, now);
      return true;
    },
  };
}

// Parses a lock file; null when it is not a complete lock written by fleetpoll.
export function parseLockInfo(raw: Buffer | string): LockInfo | null {
  let value: unknown;
  try {
    value = JSON.parse(raw.toString());
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const { pid, hostname, startedAt, argv, processStart, bootId, startTicks } = value as Record<string, unknown>;
  if (typeof pid !== 'number' || !Number.isSafeInteger(pid) || pid <= 0) return null;
  if (typeof hostname !== 'string' || hostname === '' || typeof startedAt !== 'string') return null;
  const args = Array.isArray(argv) ? argv.filter((arg): arg is string => typeof arg === 'string') : [];
  return {
    pid,
    hostname,
    startedAt,
    argv: args,
    processStart: typeof processStart === 'number' && Number.isFinite(processStart) ? processStart : null,
    bootId: typeof bootId === 'string' && bootId !== '' ? bootId : null,
    startTicks: ticksOrNull(startTicks),
  };
}

function ticksOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : null;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function storeCall<T>(file: string, operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    throw toStoreError(file, error);
  }
}

function toStoreError(file: string, error: unknown): Error {
  const code = errorCode(error);
  if (code === undefined) return error as Error;
  const reason = (error as Error).message;
  return new StoreError(`cannot use run lock ${file}: ${reason}`, file, code, { cause: error });
}
