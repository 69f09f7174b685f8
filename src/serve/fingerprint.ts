// What the service watches between cycles: a fingerprint (size, mtime, content hash) of each file it
// was started from, so an edit is noticed even when the editor keeps the mtime or the size.
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';

// One file's state; `missing` when it does not exist (a settings file may appear later).
export type FileFingerprint = { readonly path: string; readonly missing: true } | { readonly path: string; readonly missing: false; readonly size: number; readonly mtimeMs: number; readonly sha256: string };

/** Fingerprints a file; unreadable counts as missing (the reload then says why). */
export async function fingerprint(path: string): Promise<FileFingerprint> {
  try {
    const info = await stat(path);
    const sha256 = createHash('sha256').update(await readFile(path)).digest('hex');
    return { path, missing: false, size: info.size, mtimeMs: info.mtimeMs, sha256 };
  } catch {
    return { path, missing: true };
  }
}

/** Fingerprints every file, in order. */
export function fingerprintAll(paths: readonly string[]): Promise<FileFingerprint[]> {
  return Promise.all(paths.map((p) => fingerprint(p)));
}

/** The paths among `before` whose file changed (or appeared, or went) since. */
export function changedFiles(before: readonly FileFingerprint[], after: readonly FileFingerprint[]): string[] {
  const changed: string[] = [];
  const byPath = new Map(before.map((f) => [f.path, f]));
  for (const now of after) {
    const was = byPath.get(now.path);
    if (was === undefined || !sameFile(was, now)) changed.push(now.path);
  }
  return changed;
}

function sameFile(a: FileFingerprint, b: FileFingerprint): boolean {
  if (a.missing || b.missing) return a.missing === b.missing;
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.sha256 === b.sha256;
}
