// data/alert-state.json: the alert entries and the mail queue, written atomically (temp + fsync + rename).
import { randomBytes } from 'node:crypto';
import { readFile, rename, stat } from 'node:fs/promises';
import path from 'node:path';
import { replaceFileSynced } from '../store/files.js';
import { fileStamp } from '../store/format.js';
import type { AlertEntry, AlertState, Notification, QueuedNotification } from './types.js';

/** File name of the state inside the data directory. */
export const STATE_FILE = 'alert-state.json';

// What was found on disk: a state, nothing yet, or a file that could not be used (already moved aside).
export type LoadedState =
  | { readonly kind: 'ok'; readonly state: AlertState }
  | { readonly kind: 'missing' }
  | { readonly kind: 'corrupt'; readonly reason: string; readonly movedTo: string | null };

/** An empty state. */
export function emptyState(): AlertState {
  return { version: 1, alerts: [], queue: [] };
}

/**
 * Reads the state. A file that is not valid JSON or not a version-1 state is renamed to
 * `alert-state.corrupt-YYYYMMDD-HHMMSS.json` (kept for a post-mortem) unless `readOnly`.
 */
export async function loadState(file: string, options: { readonly readOnly?: boolean; readonly now?: Date } = {}): Promise<LoadedState> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    throw error;
  }
  let reason: string | null = null;
  let state: AlertState | null = null;
  try {
    const problem = validateState(JSON.parse(text));
    if (typeof problem === 'string') reason = problem;
    else state = problem;
  } catch (error) {
    reason = `not valid JSON: ${(error as Error).message}`;
  }
  if (state !== null) return { kind: 'ok', state };
  let movedTo: string | null = null;
  if (options.readOnly !== true) {
    const { dir, name } = path.parse(file);
    movedTo = path.join(dir, `${name}.corrupt-${fileStamp(options.now ?? new Date())}-${randomBytes(2).toString('hex')}.json`);
    await rename(file, movedTo);
  }
  return { kind: 'corrupt', reason: reason ?? 'unreadable', movedTo };
}

/** Replaces the state file atomically; a reader (or a crash) sees the old state or the new one. */
export async function saveState(file: string, state: AlertState): Promise<void> {
  const body = `${JSON.stringify({ ...state, updatedAt: new Date().toISOString() }, null, 1)}\n`;
  // Synced, or a power cut after the rename could leave an empty state, which would read as corrupt.
  await replaceFileSynced(file, body, 0o600);
}

/**
 * The state a long-running process (serve) saved or read last, kept in memory and used again while
 * the file is the one it knows (same inode, size and modification time): an always-on poller then
 * neither reads nor checks the whole file each cycle (20,000 firing alerts are ~8 MB of JSON). A
 * file replaced by anyone else (another fleetpoll, an admin) is read again.
 */
export class StateCache {
  private kept: { readonly file: string; readonly stamp: string; readonly state: AlertState } | null = null;

  /** As loadState. */
  async load(file: string, options: { readonly now?: Date } = {}): Promise<LoadedState> {
    const stamp = await stampOf(file);
    if (this.kept !== null && this.kept.file === file && this.kept.stamp === stamp) return { kind: 'ok', state: this.kept.state };
    this.kept = null;
    const loaded = await loadState(file, options);
    // Read after the stamp: a file replaced in between has another stamp next time, and is read again.
    if (loaded.kind === 'ok' && stamp !== null) this.kept = { file, stamp, state: loaded.state };
    return loaded;
  }

  /** As saveState; the state saved is the one kept. (States are never changed in place: see run-alerts.ts.) */
  async save(file: string, state: AlertState): Promise<void> {
    this.kept = null;
    await saveState(file, state);
    const stamp = await stampOf(file);
    if (stamp !== null) this.kept = { file, stamp, state };
  }
}

// Which version of a file this is, or null when there is none.
async function stampOf(file: string): Promise<string | null> {
  try {
    const s = await stat(file, { bigint: true });
    return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}`;
  } catch {
    return null;
  }
}

// Returns the state, or a sentence saying what is wrong with it.
function validateState(data: unknown): AlertState | string {
  if (!isObject(data)) return 'not a JSON object';
  if (data.version !== 1) return `unknown version ${JSON.stringify(data.version)}`;
  if (!Array.isArray(data.alerts)) return '"alerts" is not a list';
  if (!Array.isArray(data.queue)) return '"queue" is not a list';
  for (const [i, a] of data.alerts.entries()) {
    if (!isEntry(a)) return `alerts[${i}] is not a valid alert`;
  }
  for (const [i, q] of data.queue.entries()) {
    if (!isQueued(q)) return `queue[${i}] is not a valid queued notification`;
  }
  return { version: 1, alerts: data.alerts as AlertEntry[], queue: data.queue as QueuedNotification[] };
}

const RULES = ['cpu', 'mem', 'swap', 'load', 'disk', 'down'];
const LEVELS = ['warning', 'critical'];
const KINDS = ['firing', 'escalated', 'resolved', 'reminder'];

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
const isStr = (v: unknown): v is string => typeof v === 'string';
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isTime = (v: unknown): boolean => isStr(v) && !Number.isNaN(Date.parse(v));
const orNull = (check: (v: unknown) => boolean) => (v: unknown): boolean => v === null || check(v);

function isEntry(v: unknown): v is AlertEntry {
  return (
    isObject(v) &&
    isStr(v.host) &&
    RULES.includes(v.rule as string) &&
    orNull(isStr)(v.mount) &&
    (v.phase === 'pending' || v.phase === 'firing') &&
    LEVELS.includes(v.level as string) &&
    isTime(v.since) &&
    orNull(isTime)(v.firedAt) &&
    isNum(v.heldPolls) &&
    isNum(v.critPolls) &&
    isNum(v.clearPolls) &&
    isNum(v.lowerPolls) &&
    orNull(isNum)(v.value) &&
    orNull(isNum)(v.threshold) &&
    orNull(isStr)(v.reason) &&
    orNull(isTime)(v.lastNoticeAt) &&
    typeof v.adopted === 'boolean'
  );
}

function isNotification(v: unknown): v is Notification {
  return (
    isObject(v) &&
    isStr(v.id) &&
    KINDS.includes(v.kind as string) &&
    isStr(v.host) &&
    RULES.includes(v.rule as string) &&
    orNull(isStr)(v.mount) &&
    LEVELS.includes(v.level as string) &&
    orNull(isNum)(v.value) &&
    orNull(isNum)(v.threshold) &&
    orNull(isStr)(v.reason) &&
    isTime(v.since) &&
    isTime(v.at) &&
    orNull(isTime)(v.firedAt) &&
    Array.isArray(v.topProcesses) &&
    v.topProcesses.every((p) => isObject(p) && isNum(p.pid) && isStr(p.user) && isStr(p.name) && isNum(p.cpuPct) && isNum(p.rssKb))
  );
}

function isQueued(v: unknown): v is QueuedNotification {
  return (
    isObject(v) &&
    isNotification(v.notification) &&
    Array.isArray(v.recipients) &&
    v.recipients.every(isStr) &&
    isTime(v.queuedAt) &&
    isNum(v.attempts) &&
    orNull(isStr)(v.lastError)
  );
}
