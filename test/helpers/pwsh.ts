// Finds a PowerShell 7 for the tests: a real pwsh (PATH, ~/.dotnet/tools), else pwsh-sma, the
// PowerShell engine from NuGet behind pwsh's command line (test/helpers/pwsh-sma), built on demand.
import { spawnSync } from 'node:child_process';
import { accessSync, chmodSync, constants, cpSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { basename, delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// A PowerShell 7 the tests can start.
export interface TestPwsh {
  readonly path: string;
  readonly kind: 'pwsh' | 'pwsh-sma';
  /** e.g. "PowerShell 7.6.9". */
  readonly version: string;
}

const BUILD = fileURLToPath(new URL('../../../test/helpers/pwsh-sma/build.sh', import.meta.url));
let found: TestPwsh | string | undefined;

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function version(path: string): string | null {
  const run = spawnSync(path, ['-NoProfile', '-Version'], { encoding: 'utf8', timeout: 120_000 });
  return run.status === 0 ? run.stdout.trim() : null;
}

/**
 * The PowerShell to test with, or the reason there is none: tests skip with it on a
 * developer's machine. In CI (CI=true) a missing PowerShell fails the suite instead.
 */
export function findPwsh(): TestPwsh | string {
  if (found !== undefined) return found;
  const candidates = [
    process.env.FLEETPOLL_TEST_PWSH,
    ...(process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, 'pwsh')),
    join(homedir(), '.dotnet', 'tools', 'pwsh'),
  ].filter((p): p is string => p !== undefined && p !== '');
  for (const path of candidates) {
    if (!existsSync(path) || !executable(path)) continue;
    const v = version(path);
    if (v !== null) return (found = { path, kind: 'pwsh', version: v });
  }
  const build = spawnSync(BUILD, [], { encoding: 'utf8', timeout: 600_000 });
  const built = build.stdout.trim().split('\n').pop() ?? '';
  if (build.status === 0 && executable(built)) {
    const shared = copyForOtherAccounts(built);
    const v = version(shared);
    if (v !== null) return (found = { path: shared, kind: 'pwsh-sma', version: v });
  }
  const why =
    'no PowerShell 7: pwsh is not on PATH or in ~/.dotnet/tools, and pwsh-sma could not be built ' +
    `(${(build.stderr ?? '').trim().split('\n').slice(-3).join(' ') || `exit ${build.status}`})`;
  if (process.env.CI === 'true') throw new Error(`CI requires PowerShell: ${why}`);
  return (found = why);
}

/**
 * sshd starts PowerShell as the unprivileged test account (the remoting subsystem, a Windows host's
 * shell), and pwsh-sma is built inside the checkout (node_modules/.cache). A checkout under a 0700
 * directory (what `mktemp -d` makes) is out of that account's reach, and a path with a space cannot
 * be written in sshd_config's Subsystem line. So the tests run a copy in a fresh directory under the
 * system temp dir, removed when this process exits.
 */
function copyForOtherAccounts(built: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'fleetpoll-pwsh-sma-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  cpSync(dirname(built), dir, { recursive: true });
  // mkdtemp makes the directory 0700; build.sh made the files readable by all (a+rX).
  chmodSync(dir, 0o755);
  const copy = join(dir, basename(built));
  const problem = unusableByOthers(copy);
  if (problem !== null) {
    const why = `the test account cannot run pwsh-sma from ${copy}: ${problem}`;
    if (process.env.CI === 'true') throw new Error(why);
    process.stderr.write(`pwsh: ${why}; the remoting tests will fail\n`);
  }
  return copy;
}

// Why another account could not start `path` through sshd, or null when it can.
function unusableByOthers(path: string): string | null {
  if (/\s/.test(path)) return 'the path has white space, which sshd_config cannot hold; set TMPDIR to a path without spaces (e.g. /tmp)';
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    const mode = statSync(dir).mode & 0o777;
    if ((mode & 0o001) === 0) return `${dir} is not searchable by other users (mode ${mode.toString(8)}); set TMPDIR to a directory they can traverse (e.g. /tmp)`;
    if (dirname(dir) === dir) return null;
  }
}

// What a synchronous PowerShell run printed.
export interface PwshRun {
  readonly stdout: string;
  readonly stderr: string;
  readonly status: number | null;
}

/** Runs PowerShell code (as -EncodedCommand), optionally with stdin; synchronous, bounded. */
export function runPwsh(pwsh: TestPwsh, code: string, options: { stdin?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): PwshRun {
  const run = spawnSync(pwsh.path, ['-NoProfile', '-NonInteractive', '-EncodedCommand', Buffer.from(code, 'utf16le').toString('base64')], {
    encoding: 'utf8',
    input: options.stdin ?? '',
    env: options.env ?? process.env,
    timeout: options.timeoutMs ?? 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return { stdout: run.stdout ?? '', stderr: run.stderr ?? '', status: run.status };
}

/** A PowerShell single-quoted string literal: the only escape is '' for '. */
export function psQuote(text: string): string {
  return `'${text.replace(/'/g, "''").replace(/[\u2018\u2019\u201a\u201b]/g, (c) => c + c)}'`;
}
