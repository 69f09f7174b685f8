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

/**
 * What to do with the cache: `use` it (the default), `refresh` it (use it and rewrite it at exit
 * with what this run compiled too: the build's warm-up runs), or leave it `off` (troubleshooting).
 */
export type CacheMode = 'use' | 'refresh' | 'off';

/** What happened to the cache, for tests. */
export type CacheUse =
  | 'used' // V8 accepted the cache
  | 'absent' // no cache file: one is written when the process exits
  | 'stale' // made from another bundle: rewritten at exit
  | 'rejected' // V8 refused it (another Node or V8 flags, or corrupt): rewritten at exit
  | 'off'; // FLEETPOLL_CODE_CACHE=0, or a bundle without its id line

/** Where the bundle and its cache are, and what to do with the cache. */
export interface BundleRun {
  readonly bundlePath: string;
  readonly cachePath: string;
  readonly cache: CacheMode;
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
  const matches = stored !== null && stored.toString('latin1', 0, ID_BYTES) === id;
  const script = new Script(Module.wrap(source), {
    filename: run.bundlePath,
    ...(matches ? { cachedData: stored.subarray(ID_BYTES) } : {}),
  });
  const use: CacheUse = mode === 'off' ? 'off' : stored === null ? 'absent' : !matches ? 'stale' : script.cachedDataRejected === true ? 'rejected' : 'used';
  if (id !== undefined && use !== 'off' && (use !== 'used' || mode === 'refresh')) {
    // At exit the cache also holds every function this run compiled, not only the top level.
    process.once('exit', () => writeCache(run.cachePath, id, script));
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
    return data.length > ID_BYTES ? data : null;
  } catch {
    return null;
  }
}

// Temp file + rename: a concurrent run reads the old cache or the new one, never half of one.
function writeCache(cachePath: string, id: string, script: Script): void {
  const temp = `${cachePath}.${process.pid}.tmp`;
  try {
    writeFileSync(temp, Buffer.concat([Buffer.from(id, 'latin1'), script.createCachedData()]));
    renameSync(temp, cachePath);
  } catch {
    try {
      unlinkSync(temp);
    } catch {
      // Never created (read-only directory).
    }
  }
}
