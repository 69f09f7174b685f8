// Runs the CommonJS bundle of the CLI through a V8 code cache kept next to it. Node 20 has no
// compile cache of its own, and compiling yargs, winston and fleetpoll on every start was most of
// a small poll's CPU (README "Performance"). Only node: built-ins here: this runs before any of them.
import { readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import path from 'node:path';
import { Script } from 'node:vm';

// scripts/bundle.mjs starts the bundle with this line and the SHA-256 of the rest; a cache file starts
// with the same id. V8 itself only checks the source's length, so a rebuilt bundle of the same length
// would otherwise run the old bundle's bytecode.
const ID_LINE = /^\/\/ fleetpoll-bundle ([0-9a-f]{64})\n/;
const ID_BYTES = 64;
// After the id, one byte says which run wrote the cache: a poll or the build's warm-up holds what
// scheduled polls run (full); any other command (`--version`, `report`) only what it compiled (partial).
const FULL = 0x46; // 'F'
const PARTIAL = 0x50; // 'P'
const HEAD_BYTES = ID_BYTES + 1;

/**
 * What to do with the cache: `use` it (the default), `refresh` it (use it and rewrite it at exit
 * with what this run compiled too: the build's warm-up runs), or leave it `off` (troubleshooting).
 */
export type CacheMode = 'use' | 'refresh' | 'off';

/** What happened to the cache, for tests. */
export type CacheUse =
  | 'used' // V8 accepted the cache
  | 'partial' // V8 accepted a cache another command than a poll wrote: a poll rewrites it at exit
  | 'absent' // no cache file: one is written when the process exits
  | 'stale' // made from another bundle: rewritten at exit
  | 'rejected' // V8 refused it (another Node or V8 flags, or corrupt): rewritten at exit
  | 'off'; // FLEETPOLL_CODE_CACHE=0, or a bundle without its id line

/** Where the bundle and its cache are, and what to do with the cache. */
export interface BundleRun {
  readonly bundlePath: string;
  readonly cachePath: string;
  readonly cache: CacheMode;
  /** This run is a poll (see `pollsByArgs`): a cache it writes holds what scheduled polls compile. */
  readonly polls: boolean;
}

// The commands of cli-main.ts other than poll, and the options that stop before any command runs.
const NOT_A_POLL = new Set(['report', 'alerts', '--version', '--help', '-h']);

/**
 * Whether a command line runs a poll, the default command: after a Node upgrade the first run
 * rewrites the cache, and one made by `fleetpoll --version` would leave every later poll compiling
 * the poll's functions again. A host named like a command in `--only` only makes a poll look like
 * another command, which costs that run the cache's upgrade, nothing else.
 */
export function pollsByArgs(args: readonly string[]): boolean {
  return !args.some((arg) => NOT_A_POLL.has(arg));
}

/** The cache mode an environment asks for: FLEETPOLL_CODE_CACHE=0 (or off) or refresh. */
export function cacheModeFrom(env: NodeJS.ProcessEnv): CacheMode {
  const value = (env.FLEETPOLL_CODE_CACHE ?? '').trim().toLowerCase();
  if (value === '0' || value === 'off' || value === 'no' || value === 'false') return 'off';
  return value === 'refresh' ? 'refresh' : 'use';
}

/**
 * Compiles and runs `bundlePath` as a CommonJS module (its top level starts the CLI) and returns
 * what happened to the cache. A cache that cannot be written (read-only install) is skipped
 * silently: the CLI runs the same, only its start-up costs more.
 */
export function runBundle(run: BundleRun): CacheUse {
  // The bundle is ASCII (esbuild escapes the rest), and latin1 is the cheapest decoding.
  const source = readFileSync(run.bundlePath, 'latin1');
  const id = ID_LINE.exec(source)?.[1];
  const mode = id === undefined ? 'off' : run.cache;
  const stored = mode === 'off' ? null : readCache(run.cachePath);
  const matches = stored !== null && stored.toString('latin1', 0, ID_BYTES) === id && (stored[ID_BYTES] === FULL || stored[ID_BYTES] === PARTIAL);
  const script = new Script(Module.wrap(source), {
    filename: run.bundlePath,
    ...(matches ? { cachedData: stored.subarray(HEAD_BYTES) } : {}),
  });
  const use: CacheUse =
    mode === 'off'
      ? 'off'
      : stored === null
        ? 'absent'
        : !matches
          ? 'stale'
          : script.cachedDataRejected === true
            ? 'rejected'
            : stored[ID_BYTES] === PARTIAL
              ? 'partial'
              : 'used';
  const full = run.polls || mode === 'refresh';
  const rewrite = use === 'absent' || use === 'stale' || use === 'rejected' || mode === 'refresh' || (use === 'partial' && run.polls);
  if (id !== undefined && use !== 'off' && rewrite) {
    // At exit the cache also holds every function this run compiled, not only the top level. A poll
    // that stopped early (exit 2 bad usage or inventory, 3 lock held) compiled little more than a
    // --version did; one that polled exits 0, or 1 with --fail-on-down.
    process.once('exit', (code) => writeCache(run.cachePath, id, full && (code === 0 || code === 1), script));
  }
  const bundle = new Module(run.bundlePath);
  bundle.filename = run.bundlePath;
  const wrapper = script.runInThisContext() as (exports: unknown, require: NodeJS.Require, module: Module, filename: string, dirname: string) => void;
  wrapper.call(bundle.exports, bundle.exports, createRequire(run.bundlePath), bundle, run.bundlePath, path.dirname(run.bundlePath));
  return use;
}

function readCache(cachePath: string): Buffer | null {
  try {
    const data = readFileSync(cachePath);
    return data.length > HEAD_BYTES ? data : null;
  } catch {
    return null;
  }
}

// Temp file + rename: a concurrent run reads the old cache or the new one, never half of one.
function writeCache(cachePath: string, id: string, full: boolean, script: Script): void {
  const temp = `${cachePath}.${process.pid}.tmp`;
  try {
    writeFileSync(temp, Buffer.concat([Buffer.from(id, 'latin1'), Buffer.of(full ? FULL : PARTIAL), script.createCachedData()]));
    renameSync(temp, cachePath);
  } catch {
    try {
      unlinkSync(temp);
    } catch {
      // Never created (read-only directory).
    }
  }
}
