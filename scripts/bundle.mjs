// Bundles the command line (dist/src/cli-main.js and every dependency but ssh2) into one CommonJS
// file, dist/bundle/fleetpoll.cjs, which dist/src/cli.js runs through a V8 code cache; then makes
// that cache by running a small poll and a report, so even the first scheduled run starts fast.
// esbuild: the standard bundler for Node; see README "Performance" for what this saves.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { build } from 'esbuild';

const BUNDLE = 'dist/bundle/fleetpoll.cjs';

// yargs and cliui import string-width, which builds an Intl.Segmenter and Unicode-property regexes
// (\p{RGI_Emoji}...) as it loads: ~20 ms of every run, needed only to lay out --help text. Each import
// of it gets a stand-in that loads the real module (the version that importer resolves) on first call.
const lazyStringWidth = {
  name: 'lazy-string-width',
  setup(b) {
    b.onResolve({ filter: /^string-width$/ }, async (args) => {
      if (args.namespace === 'lazy-string-width') return undefined;
      const real = await b.resolve('string-width', { resolveDir: args.resolveDir, kind: args.kind, namespace: 'lazy-string-width' });
      if (real.errors.length > 0) return { errors: real.errors };
      return { path: real.path, namespace: 'lazy-string-width' };
    });
    b.onLoad({ filter: /.*/, namespace: 'lazy-string-width' }, (args) => ({
      contents: `let real;\nexport default function stringWidth(text, options) {\n  real ??= require(${JSON.stringify(args.path)}).default;\n  return real(text, options);\n}\n`,
      resolveDir: dirname(args.path),
      loader: 'js',
    }));
  },
};

// winston's internal debug output (@dabh/diagnostics) picks its development build unless
// NODE_ENV=production, and that build colours namespaces with colorspace as it loads: ~5 ms of every
// run, for output that only DEBUG=winston:* shows. The bundle always takes the production build.
const quietWinstonDebug = {
  name: 'quiet-winston-debug',
  setup(b) {
    b.onResolve({ filter: /^@dabh\/diagnostics$/ }, async (args) => {
      const real = await b.resolve('@dabh/diagnostics/node/production.js', { resolveDir: args.resolveDir, kind: args.kind });
      return real.errors.length > 0 ? { errors: real.errors } : { path: real.path };
    });
  },
};
const CLI = resolve('dist/src/cli.js');

// The probe scripts beside it are copied by copy-assets.mjs, which runs first.
for (const file of [BUNDLE, `${BUNDLE}.cache`]) rmSync(file, { force: true });
const { outputFiles } = await build({
  write: false,
  entryPoints: ['dist/src/cli-main.js'],
  outfile: BUNDLE,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // Node 20 has the regexp v flag; rewritten as `new RegExp(...)` (esbuild's default for node20),
  // string-width's emoji pattern was parsed again on every start, ~14 ms, instead of coming from the code cache.
  supported: { 'regexp-set-notation': true },
  // ssh2 loads its optional native crypto binding (and cpu-features) by paths relative to itself.
  external: ['ssh2', 'cpu-features'],
  // Modules find the probe scripts (and yargs its own files) relative to import.meta.url, which a
  // CommonJS bundle lacks: it becomes the bundle's own URL, and the scripts are copied next to it.
  define: { 'import.meta.url': 'importMetaUrl' },
  inject: ['scripts/import-meta-url.js'],
  // yargs' `extends` (import.meta.resolve) is a feature fleetpoll does not use.
  logOverride: { 'empty-import-meta': 'silent' },
  plugins: [lazyStringWidth, quietWinstonDebug],
  logLevel: 'warning',
});
// The launcher decodes the bundle as latin1, the cheapest way (a UTF-8 decode of 1.6 MB costs ~5 ms of
// every start). esbuild escapes non-ASCII characters everywhere but in the comments it keeps, and a
// comment's text does not matter.
const code = outputFiles[0].text.replace(/[^\x00-\x7f]/g, '?');
// The id its code cache is checked against (src/code-cache.ts).
const id = createHash('sha256').update(code).digest('hex');
writeFileSync(BUNDLE, `// fleetpoll-bundle ${id}\n${code}`);

// A closed port on loopback: the warm-up's SSH host fails fast, which still runs the SSH code paths.
function closedPort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

// Each run adds the functions it compiled; FLEETPOLL_CODE_CACHE=refresh keeps what earlier runs cached.
function warmUp(dir, args, cacheMode) {
  const env = { ...process.env, FLEETPOLL_CODE_CACHE: cacheMode };
  const run = spawnSync(process.execPath, [CLI, ...args], { cwd: dir, env, encoding: 'utf8', timeout: 60_000 });
  if (run.status !== 0) {
    const why = run.error?.message ?? `exit ${run.status ?? run.signal}: ${(run.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}`;
    process.stderr.write(`bundle: warm-up \`fleetpoll ${args[0]}\` failed (${why}); the first real run makes the code cache instead\n`);
    return false;
  }
  return true;
}

const dir = mkdtempSync(join(tmpdir(), 'fleetpoll-warmup-'));
try {
  const rows = [`warmup-ssh,127.0.0.1,ssh,${await closedPort()}`];
  // The local transport runs the POSIX probe with sh, which a Windows poller does not have.
  if (process.platform !== 'win32') rows.unshift('warmup-local,localhost,local,');
  writeFileSync(join(dir, 'servers.csv'), `name,address,transport,port\n${rows.join('\n')}\n`);
  const common = ['--data-dir', join(dir, 'data'), '--quiet'];
  const polled = warmUp(dir, ['poll', '--inventory', join(dir, 'servers.csv'), '--timeout', '10', ...common], 'use');
  if (polled) warmUp(dir, ['report', '--days', '1', ...common], 'refresh');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
