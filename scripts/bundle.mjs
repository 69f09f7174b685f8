// Bundles the command line (dist/src/cli-main.js and its dependencies, native addons aside) into one CommonJS
// file, dist/bundle/fleetpoll.cjs, which dist/src/cli.js runs through a V8 code cache; then makes
// that cache by running a small poll and a report, so even the first scheduled run starts fast.
// esbuild: the standard bundler for Node; see README "Performance" for what this saves.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { build } from 'esbuild';
import { startWarmupSshd } from './warmup-sshd.mjs';

const BUNDLE = 'dist/bundle/fleetpoll.cjs';

// Gives every import of `specifier` a stand-in whose default export loads the real module (the version
// that importer resolves) on first call, for modules whose loading costs every run and whose use is rare.
function lazyDefaultExport(specifier) {
  const namespace = `lazy-${specifier}`;
  // Package names are letters, digits and - . _ / @; only the dot means something in a pattern.
  const filter = new RegExp(`^${specifier.replaceAll('.', '\\.')}$`);
  return {
    name: namespace,
    setup(b) {
      b.onResolve({ filter }, async (args) => {
        if (args.namespace === namespace) return undefined;
        const real = await b.resolve(specifier, { resolveDir: args.resolveDir, kind: args.kind, namespace });
        if (real.errors.length > 0) return { errors: real.errors };
        return { path: real.path, namespace };
      });
      // A CommonJS module exports the function itself, an ES module's namespace has it as `default`.
      b.onLoad({ filter: /.*/, namespace }, (args) => ({
        contents: [
          'let real;',
          'export default function lazy(...args) {',
          `  real ??= ((loaded) => (typeof loaded === 'function' ? loaded : loaded.default))(require(${JSON.stringify(args.path)}));`,
          '  return real.apply(this, args);',
          '}',
          '',
        ].join('\n'),
        resolveDir: dirname(args.path),
        loader: 'js',
      }));
    },
  };
}
// yargs and cliui import string-width, which builds an Intl.Segmenter and Unicode-property regexes
// (\p{RGI_Emoji}...) as it loads: ~20 ms of every run, needed only to lay out --help text.
const lazyStringWidth = lazyDefaultExport('string-width');
// node-ssh imports make-dir for its directory download, which fleetpoll never uses; make-dir loads
// semver and parses a version range as it loads: ~3 ms of every poll.
const lazyMakeDir = lazyDefaultExport('make-dir');

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
// Loads the modules `filter` matches with the one piece of text `find` replaced by `replacement(path)`;
// the build fails if a dependency update changed that text, rather than bundle it unpatched.
function rewriteModule(b, filter, find, replacement) {
  b.onLoad({ filter }, async (args) => {
    const source = await readFile(args.path, 'utf8');
    if (!source.includes(find)) throw new Error(`bundle: ${args.path} no longer contains ${JSON.stringify(find)}`);
    return { contents: source.replace(find, replacement(args.path)), loader: 'js', resolveDir: dirname(args.path) };
  });
}
const bundleDir = resolve(dirname(BUNDLE));
const fromBundle = (file) => relative(bundleDir, file).split('\\').join('/');
// ssh2 is bundled like the rest: loaded by Node's own loader it cost ~70 ms of CPU in every poll, from
// the code cache a fraction of that. Two places in it find files relative to themselves, which in the
// bundle become paths from the bundle's directory to where those files are in node_modules:
// - its optional native crypto binding (built only where npm ran ssh2's install script; ssh2 falls back
//   to node:crypto when the require fails, as it does without the bundle);
// - pagent.exe, its bridge to PuTTY's Pageant on Windows.
// cpu-features, its other native addon, stays an ordinary require, resolved from the bundle's directory.
const ssh2Files = {
  name: 'ssh2-files',
  setup(b) {
    b.onResolve({ filter: /^\.\/crypto\/build\/Release\/sshcrypto\.node$/ }, (args) => ({
      path: `./${fromBundle(resolve(args.resolveDir, args.path))}`,
      external: true,
    }));
    rewriteModule(b, /[\\/]ssh2[\\/]lib[\\/]agent\.js$/, "resolve(__dirname, '..', 'util/pagent.exe')", (file) =>
      `resolve(__dirname, ${JSON.stringify(fromBundle(dirname(file)))}, '..', 'util/pagent.exe')`,
    );
  },
};
// yargs' platform shim takes its own location from import.meta.url, which in the bundle is the bundle's:
// its locale files were then looked for outside the project (help and errors only in English), and the
// package.json it reads for a default --version was looked for from the working directory up, which
// where there is none ends in a failed assertion whose stack trace costs ~6 ms (line ends of the whole
// bundle). The shim is given back its real path in node_modules, relative to the bundle.
const yargsFiles = {
  name: 'yargs-files',
  setup(b) {
    rewriteModule(b, /[\\/]yargs[\\/]lib[\\/]platform-shims[\\/]esm\.mjs$/, 'const __dirname = fileURLToPath(import.meta.url);', (file) =>
      `const __dirname = fileURLToPath(new URL(${JSON.stringify(fromBundle(file))}, import.meta.url));`,
    );
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
  // better-sqlite3 finds its native addon from its own package directory (the `bindings` lookup), so it stays
  // an ordinary require, like cpu-features.
  external: ['cpu-features', 'better-sqlite3'],
  // Modules find the probe scripts (and yargs its own files) relative to import.meta.url, which a
  // CommonJS bundle lacks: it becomes the bundle's own URL, and the scripts are copied next to it.
  define: { 'import.meta.url': 'importMetaUrl' },
  inject: ['scripts/import-meta-url.js'],
  // yargs' `extends` (import.meta.resolve) is a feature fleetpoll does not use.
  logOverride: { 'empty-import-meta': 'silent' },
  plugins: [lazyStringWidth, lazyMakeDir, quietWinstonDebug, ssh2Files, yargsFiles],
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
// Asynchronous, so that the warm-up SSH server in this process can answer the poll.
function warmUp(dir, args, cacheMode) {
  const env = { ...process.env, FLEETPOLL_CODE_CACHE: cacheMode };
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: dir, env, stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (text) => (stderr += text));
    const fail = (why) => {
      process.stderr.write(`bundle: warm-up \`fleetpoll ${args[0]}\` failed (${why}); the first real run makes the code cache instead\n`);
      resolveRun(false);
    };
    child.on('error', (error) => fail(error.message));
    child.on('close', (code, signal) => {
      if (code === 0) resolveRun(true);
      else fail(`exit ${code ?? signal}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
    });
  });
}

// Starts the warm-up SSH server; without it (it failed to start) the cache only lacks the SSH path.
async function warmupSshd() {
  try {
    return await startWarmupSshd();
  } catch (error) {
    process.stderr.write(`bundle: warm-up SSH server not started (${error.message}); the code cache will lack the SSH path\n`);
    return null;
  }
}

const dir = mkdtempSync(join(tmpdir(), 'fleetpoll-warmup-'));
const sshd = await warmupSshd();
try {
  const key = join(dir, 'warmup_ed25519');
  const rows = [];
  if (sshd !== null) {
    writeFileSync(key, sshd.clientPrivateKey, { mode: 0o600 });
    writeFileSync(join(dir, 'known_hosts'), `${sshd.knownHostsLine}\n`, { mode: 0o600 });
    rows.push(`warmup-ssh,127.0.0.1,ssh,${sshd.port},key:${key}`);
  }
  // A host that refuses (the unreachable path), and this machine over `local`; the local transport runs
  // the POSIX probe with sh, which a Windows poller does not have.
  rows.push(`warmup-down,127.0.0.1,ssh,${await closedPort()},${sshd === null ? '' : `key:${key}`}`);
  if (process.platform !== 'win32') rows.unshift('warmup-local,localhost,local,,');
  writeFileSync(join(dir, 'servers.csv'), `name,address,transport,port,auth\n${rows.join('\n')}\n`);
  const common = ['--data-dir', join(dir, 'data'), '--quiet'];
  const pollArgs = ['poll', '--inventory', join(dir, 'servers.csv'), '--known-hosts', join(dir, 'known_hosts'), '--timeout', '10', ...common];
  const polled = await warmUp(dir, pollArgs, 'use');
  if (polled) await warmUp(dir, ['report', '--days', '1', ...common], 'refresh');
} finally {
  await sshd?.close();
  rmSync(dir, { recursive: true, force: true });
}
