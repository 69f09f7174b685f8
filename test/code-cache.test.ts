// The launcher's code cache: a bundle runs the same with a cache that is missing, stale, corrupt or
// unwritable, and a good cache is used. Each case runs in a child process, as the cache is written at exit.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { cacheModeFrom, pollsByArgs } from '../src/code-cache.js';
import { VERSION } from '../src/version.js';

const CODE_CACHE = new URL('../src/code-cache.js', import.meta.url).href;
const TIERING = new URL('../src/v8-tiering.js', import.meta.url).href;
const REAL_BUNDLE = fileURLToPath(new URL('../bundle/fleetpoll.cjs', import.meta.url));
const PACKAGE_JSON = fileURLToPath(new URL('../../package.json', import.meta.url));

interface Outcome {
  readonly use: string;
  readonly stdout: string;
  readonly stderr: string;
  readonly status: number | null;
}

// Runs runBundle in a fresh node, after the V8 flags dist/src/cli.js sets (a code cache holds the
// flags it was made under); the bundle's own output goes to stdout, the cache use to stderr. A run
// is a poll unless `polls: false` says otherwise.
function runBundleChild(bundlePath: string, cachePath: string, cache: string, child: { argv?: readonly string[]; cwd?: string; polls?: boolean } = {}): Outcome {
  const { argv = [], cwd, polls = true } = child;
  const script = `
    (await import(${JSON.stringify(TIERING)})).tuneTiering();
    const { runBundle } = await import(${JSON.stringify(CODE_CACHE)});
    process.argv = [process.argv[0], 'fleetpoll', ...${JSON.stringify(argv)}];
    process.stderr.write('USE ' + runBundle({ bundlePath: ${JSON.stringify(bundlePath)}, cachePath: ${JSON.stringify(cachePath)}, cache: ${JSON.stringify(cache)}, polls: ${JSON.stringify(polls)} }) + '\\n');
  `;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd, encoding: 'utf8', timeout: 60_000 });
  const use = /^USE (\w+)$/m.exec(run.stderr)?.[1] ?? `none (stderr: ${run.stderr.trim()})`;
  return { use, stdout: run.stdout, stderr: run.stderr, status: run.status };
}

// A CommonJS body in the shape scripts/bundle.mjs writes: the id line, then the code.
function writeBundle(path: string, body: string, withId = true): string {
  const id = createHash('sha256').update(body).digest('hex');
  writeFileSync(path, withId ? `// fleetpoll-bundle ${id}\n${body}` : body);
  return id;
}

describe('runBundle (src/code-cache.ts)', () => {
  let dir: string;
  let bundle: string;
  let cache: string;
  // Proves the bundle ran as a module of its own file: require, __dirname and module.exports all work.
  const body = `const path = require('node:path');
function square(n) { return n * n; }
module.exports = { square };
process.stdout.write(JSON.stringify({ dir: path.basename(__dirname), file: path.basename(__filename), nine: module.exports.square(3) }));
`;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'fleetpoll-code-cache-'));
    bundle = join(dir, 'fleetpoll.cjs');
    cache = `${bundle}.cache`;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('runs the bundle without a cache, writes one at exit that starts with the bundle id, and uses it next time', () => {
    rmSync(cache, { force: true });
    const id = writeBundle(bundle, body);
    const first = runBundleChild(bundle, cache, 'use');
    assert.equal(first.use, 'absent');
    assert.deepEqual(JSON.parse(first.stdout), { dir: dir.split('/').pop(), file: 'fleetpoll.cjs', nine: 9 });
    assert.ok(existsSync(cache), 'the cache was written at exit');
    assert.equal(readFileSync(cache).toString('latin1', 0, 64), id);
    assert.ok(statSync(cache).size > 65, 'V8 data follows the id and the kind byte');

    const second = runBundleChild(bundle, cache, 'use');
    assert.equal(second.use, 'used');
    assert.equal(JSON.parse(second.stdout).nine, 9);
  });

  it('ignores the cache of another bundle of the same length, runs the new one and replaces the cache', () => {
    writeBundle(bundle, body);
    runBundleChild(bundle, cache, 'use');
    // Same length, other code: V8 alone would accept the old bytecode for it.
    const other = body.replace('n * n', 'n + n');
    assert.equal(other.length, body.length);
    const id = writeBundle(bundle, other);
    const run = runBundleChild(bundle, cache, 'use');
    assert.equal(run.use, 'stale');
    assert.equal(JSON.parse(run.stdout).nine, 6, 'the new code ran');
    assert.equal(readFileSync(cache).toString('latin1', 0, 64), id, 'the cache now belongs to the new bundle');
    assert.equal(runBundleChild(bundle, cache, 'use').use, 'used');
  });

  it('runs the bundle when V8 rejects a corrupt cache, and rewrites it', () => {
    const id = writeBundle(bundle, body);
    writeFileSync(cache, Buffer.concat([Buffer.from(`${id}F`, 'latin1'), Buffer.alloc(4096, 0x5a)]));
    const run = runBundleChild(bundle, cache, 'use');
    assert.equal(run.use, 'rejected');
    assert.equal(JSON.parse(run.stdout).nine, 9);
    assert.equal(runBundleChild(bundle, cache, 'use').use, 'used', 'the rewritten cache is good');
  });

  it('runs the bundle when the cache cannot be written (read-only install), leaving no temp file', () => {
    writeBundle(bundle, body);
    const unwritable = join(dir, 'no-such-dir', 'fleetpoll.cjs.cache');
    const run = runBundleChild(bundle, unwritable, 'use');
    assert.equal(run.status, 0);
    assert.equal(run.use, 'absent');
    assert.equal(JSON.parse(run.stdout).nine, 9);
    assert.equal(existsSync(join(dir, 'no-such-dir')), false);
  });

  it('neither reads nor writes the cache when it is off, or when the bundle has no id line', () => {
    rmSync(cache, { force: true });
    writeBundle(bundle, body);
    assert.equal(runBundleChild(bundle, cache, 'off').use, 'off');
    assert.equal(existsSync(cache), false);
    writeBundle(bundle, body, false);
    const run = runBundleChild(bundle, cache, 'use');
    assert.equal(run.use, 'off');
    assert.equal(JSON.parse(run.stdout).nine, 9);
    assert.equal(existsSync(cache), false);
  });

  it('refresh uses the cache and rewrites it with what the run compiled', () => {
    writeBundle(bundle, body);
    runBundleChild(bundle, cache, 'use');
    writeFileSync(cache, Buffer.concat([readFileSync(cache), Buffer.from('trailing bytes a rewrite drops')]));
    const before = statSync(cache).size;
    const run = runBundleChild(bundle, cache, 'refresh');
    assert.equal(run.use, 'used');
    assert.notEqual(statSync(cache).size, before, 'rewritten at exit');
  });

  it('a cache another command than a poll wrote is partial: the next poll uses it and rewrites it with its own functions', () => {
    // pollPath is compiled only when a run calls it, as the poll's functions are by `fleetpoll poll` only.
    const lazy = `${body}
function pollPath(n) { let total = 0; for (let i = 0; i < n; i += 1) total += [i, i * 2, i * 3].map((x) => x % 7).reduce((a, b) => a + b, 0); return total; }
if (process.argv.includes('poll')) process.stdout.write(' polled ' + pollPath(10));
if (process.argv.includes('bad')) process.exitCode = 2;
`;
    rmSync(cache, { force: true });
    writeBundle(bundle, lazy);
    const version = runBundleChild(bundle, cache, 'use', { argv: ['--version'], polls: false });
    assert.equal(version.use, 'absent');
    assert.equal(readFileSync(cache)[64], 0x50, "written by --version: 'P'");
    const partialSize = statSync(cache).size;

    assert.equal(runBundleChild(bundle, cache, 'use', { argv: ['report'], polls: false }).use, 'partial');
    assert.equal(statSync(cache).size, partialSize, 'another command leaves a partial cache as it is');
    // A poll that stops at bad usage (exit 2) has compiled no more than --version: still partial.
    const failed = runBundleChild(bundle, cache, 'use', { argv: ['poll', 'bad'] });
    assert.equal(failed.status, 2);
    assert.equal(failed.use, 'partial');
    assert.equal(readFileSync(cache)[64], 0x50);

    const poll = runBundleChild(bundle, cache, 'use', { argv: ['poll'] });
    assert.equal(poll.use, 'partial');
    assert.match(poll.stdout, / polled \d+$/);
    assert.equal(readFileSync(cache)[64], 0x46, "rewritten by the poll: 'F'");
    assert.ok(statSync(cache).size > partialSize, `the poll's functions were added (${partialSize} -> ${statSync(cache).size} bytes)`);

    const fullSize = statSync(cache).size;
    assert.equal(runBundleChild(bundle, cache, 'use', { argv: ['--version'], polls: false }).use, 'used');
    assert.equal(runBundleChild(bundle, cache, 'use', { argv: ['poll'] }).use, 'used');
    assert.equal(statSync(cache).size, fullSize, 'a full cache is not rewritten');
  });

  it('tells a poll (the default command) from the other commands by the command line', () => {
    for (const args of [[], ['poll'], ['poll', '--only', 'web*'], ['--config', 'fleetpoll.json'], ['--json', '--concurrency', '200']]) {
      assert.equal(pollsByArgs(args), true, args.join(' '));
    }
    for (const args of [['--version'], ['--help'], ['-h'], ['poll', '--help'], ['report', '--days', '7'], ['alerts', 'test'], ['--config', 'x.json', 'report']]) {
      assert.equal(pollsByArgs(args), false, args.join(' '));
    }
  });

  it('reads FLEETPOLL_CODE_CACHE: 0/off disable, refresh refreshes, anything else uses', () => {
    assert.equal(cacheModeFrom({}), 'use');
    assert.equal(cacheModeFrom({ FLEETPOLL_CODE_CACHE: '0' }), 'off');
    assert.equal(cacheModeFrom({ FLEETPOLL_CODE_CACHE: ' OFF ' }), 'off');
    assert.equal(cacheModeFrom({ FLEETPOLL_CODE_CACHE: 'refresh' }), 'refresh');
    assert.equal(cacheModeFrom({ FLEETPOLL_CODE_CACHE: '1' }), 'use');
  });
});

describe('the build: dist/bundle/fleetpoll.cjs and its code cache', () => {
  it('made the bundle with its id line and a code cache V8 accepts for it', () => {
    const head = readFileSync(REAL_BUNDLE, 'latin1').slice(0, 200);
    const id = /^\/\/ fleetpoll-bundle ([0-9a-f]{64})\n/.exec(head)?.[1];
    assert.ok(id !== undefined, `no id line at the top of ${REAL_BUNDLE}`);
    assert.equal(readFileSync(`${REAL_BUNDLE}.cache`).toString('latin1', 0, 65), `${id}F`, 'the warm-up poll made a full cache');
    // The real CLI, from the real bundle and cache: a command that stops at the inventory.
    const work = mkdtempSync(join(tmpdir(), 'fleetpoll-bundle-run-'));
    try {
      const run = runBundleChild(REAL_BUNDLE, `${REAL_BUNDLE}.cache`, 'use', { argv: ['poll', '--inventory', 'no-such-servers.csv', '--data-dir', 'data'], cwd: work });
      assert.equal(run.use, 'used');
      assert.equal(run.status, 2);
      assert.match(run.stderr, /no-such-servers\.csv: file not found/);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it('prints the version of package.json', () => {
    assert.equal(VERSION, (JSON.parse(readFileSync(PACKAGE_JSON, 'utf8')) as { version: string }).version);
    const run = spawnSync(process.execPath, [fileURLToPath(new URL('../src/cli.js', import.meta.url)), '--version'], { encoding: 'utf8' });
    assert.equal(run.stdout.trim(), VERSION);
  });
});
