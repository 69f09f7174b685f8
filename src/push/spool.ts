// The push spool: per host, the last accepted push (its probe text, the time the host stamped on it and
// the time it arrived), in data/push/<host>.json. The ingest route replaces it atomically (synced temp
// file + rename: a reader sees the old push or the new one, and a killed writer leaves only a temp file
// that the next run's leftover sweep removes); the push transport reads it during the cycle.
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { hasErrorCode } from '../store/errors.js';
import { replaceFileSynced } from '../store/files.js';

/** The spool's directory under the data dir (also swept for a killed writer's temp files). */
export const PUSH_DIR = 'push';

// One accepted push, as kept in the spool.
export interface SpooledPush {
  /** The host's name as in servers.csv. */
  readonly host: string;
  /** The `time` record of the probe output: when the host took the sample (epoch seconds, the host's clock). */
  readonly sampleAtSec: number;
  /** When the poller accepted it (epoch milliseconds, the poller's clock). */
  readonly receivedAtMs: number;
  /** The probe output exactly as received (it parsed when accepted, and is parsed again by the cycle). */
  readonly body: string;
}

// A spool file that cannot be used, with the reason (a hand edit, a disk fault).
export class SpoolError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = 'SpoolError';
  }
}

/** The spool file of a host. Names are matched case-insensitively, and ':' is not allowed in Windows file names. */
export function spoolFile(dataDir: string, host: string): string {
  const safe = host.toLowerCase().replace(/[^a-z0-9_.@-]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return path.join(dataDir, PUSH_DIR, `${safe}.json`);
}

/** The last accepted push of a host, or null when it never pushed; throws SpoolError for an unusable file. */
export async function readSpool(dataDir: string, host: string): Promise<SpooledPush | null> {
  const file = spoolFile(dataDir, host);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if (hasErrorCode(error, 'ENOENT')) return null;
    throw new SpoolError(file, `cannot be read: ${(error as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new SpoolError(file, 'is not valid JSON (edited by hand?); the next accepted push replaces it');
  }
  const d = data as Partial<Record<keyof SpooledPush, unknown>>;
  if (
    data === null ||
    typeof data !== 'object' ||
    typeof d.host !== 'string' ||
    !Number.isSafeInteger(d.sampleAtSec) ||
    !Number.isSafeInteger(d.receivedAtMs) ||
    typeof d.body !== 'string'
  ) {
    throw new SpoolError(file, 'does not hold a push (host, sampleAtSec, receivedAtMs, body); the next accepted push replaces it');
  }
  return { host: d.host, sampleAtSec: d.sampleAtSec as number, receivedAtMs: d.receivedAtMs as number, body: d.body };
}

/** Replaces a host's spooled push (atomic, synced). */
export async function writeSpool(dataDir: string, push: SpooledPush): Promise<void> {
  const file = spoolFile(dataDir, push.host);
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  // The probe text names processes and users: for the poller's account only, like the token file.
  await replaceFileSynced(file, JSON.stringify(push), 0o600);
}
