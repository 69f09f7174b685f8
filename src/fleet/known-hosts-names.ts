// The names hashed known_hosts lines were found to hash, kept in the data dir between polls: finding
// them costs one HMAC per line and host (minutes for 10,000 of each), verifying them one per line.
// Only a cache: KnownHosts checks every pair by its HMAC, so a missing, stale or tampered file can
// only cost that scan again, never make a line name the wrong host.
import { readFile } from 'node:fs/promises';
import { compareCodeUnits } from '../server-names.js';
import { replaceFileSynced } from '../store/files.js';

/** The file's name in the data dir. */
export const KNOWN_HOSTS_NAMES_FILE = 'known-hosts-names.json';

const FORMAT = 'fleetpoll-known-hosts-names';
const VERSION = 1;

/** The saved pairs (hashed host field -> lookup name); empty when the file is missing or not ours. */
export async function readKnownHostsNames(file: string): Promise<Map<string, string>> {
  let data: unknown;
  try {
    data = JSON.parse(await readFile(file, 'utf8'));
  } catch {
    return new Map();
  }
  const names = new Map<string, string>();
  if (typeof data !== 'object' || data === null) return names;
  const { format, version, lines } = data as { format?: unknown; version?: unknown; lines?: unknown };
  if (format !== FORMAT || version !== VERSION || typeof lines !== 'object' || lines === null) return names;
  for (const [field, name] of Object.entries(lines)) {
    if (field.startsWith('|') && typeof name === 'string') names.set(field, name);
  }
  return names;
}

/** Replaces the file with these pairs (0600: they undo the hashing for the fleet's own hosts). */
export async function writeKnownHostsNames(file: string, names: ReadonlyMap<string, string>): Promise<void> {
  const lines = Object.fromEntries([...names].sort(([a], [b]) => compareCodeUnits(a, b)));
  const text = `${JSON.stringify({ format: FORMAT, version: VERSION, lines }, null, 1)}\n`;
  await replaceFileSynced(file, text, 0o600);
}
