// `~` in a path from the settings or the inventory: the one rule every path setting follows.
import { homedir } from 'node:os';
import { resolve } from 'node:path';

// `~` alone, or `~/` / `~\` at the start (Windows users write either), becomes the home directory;
// anything else (`~user`, `a/~`) is left as written.
export function expandHome(path: string, home: string = homedir()): string {
  if (path === '~') return home;
  if (path.startsWith('~/') || path.startsWith('~\\')) return resolve(home, path.slice(2));
  return path;
}
