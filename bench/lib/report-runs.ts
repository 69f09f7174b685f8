// What bench:report and bench:history's part (4) share: the generated log of bench:report (1,000 servers x
// 7 days by default, kept and reused between runs), and the measured children: a Node process (its own CPU
// and peak RSS through usage-hook.js) and pandas (bench/report_pandas.py, which reports its own).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFleetLogs } from '../../test/helpers/report-log.js';
import type { ChildUsage } from '../usage-hook.js';

const HOOK = new URL('../usage-hook.js', import.meta.url).href;
const PANDAS = fileURLToPath(new URL('../../../bench/report_pandas.py', import.meta.url));
// A stuck child must not hold the machine forever.
const CHILD_LIMIT_MS = 20 * 60 * 1000;

// One measured run of a child.
export interface Run {
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly maxRssMb: number;
  readonly stdout: string;
}

// The log bench:report generates.
export interface ReportLogSpec {
  readonly servers: number;
  readonly days: number;
  readonly pollMinutes: number;
}

// The first poll of the generated log.
export const REPORT_LOG_START = new Date('2026-11-09T00:00:00Z');

function child(command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<{ wallMs: number; stdout: string }> {
  return new Promise((resolveRun, reject) => {
    const began = performance.now();
    const proc = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => proc.kill('SIGKILL'), CHILD_LIMIT_MS);
    proc.on('error', reject);
    proc.on('close', (code) => {
      clearTimeout(timer);
      const wallMs = performance.now() - began;
      if (code !== 0) reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${stderr}`));
      else resolveRun({ wallMs, stdout });
    });
  });
}

/** A Node child measured by bench/usage-hook.js: its own CPU time and peak RSS, start-up included. */
export async function nodeChild(args: readonly string[]): Promise<Run> {
  const usageFile = join(tmpdir(), `fleetpoll-bench-usage-${process.pid}.json`);
  rmSync(usageFile, { force: true });
  const { wallMs, stdout } = await child(process.execPath, ['--import', HOOK, ...args], { ...process.env, BENCH_USAGE_FILE: usageFile });
  const usage = JSON.parse(readFileSync(usageFile, 'utf8')) as ChildUsage;
  rmSync(usageFile, { force: true });
  return { wallMs, cpuMs: (usage.cpuUserUs + usage.cpuSystemUs) / 1000, maxRssMb: usage.maxRssKb / 1024, stdout };
}

/** bench/report_pandas.py over `log` with `python`: its own CPU and peak RSS, the wall time as the parent sees it. */
export async function pandasChild(python: string, log: string): Promise<Run> {
  const { wallMs, stdout } = await child(python, [PANDAS, log]);
  const own = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as { cpuMs: number; maxRssKb: number; groups: number };
  return { wallMs, cpuMs: own.cpuMs, maxRssMb: own.maxRssKb / 1024, stdout };
}

/** Each figure's median over the runs (the stdout of the first). */
export function median(runs: readonly Run[]): Run {
  const pick = <K extends 'wallMs' | 'cpuMs' | 'maxRssMb'>(key: K): number => {
    const sorted = runs.map((r) => r[key]).sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)] ?? 0;
  };
  return { wallMs: pick('wallMs'), cpuMs: pick('cpuMs'), maxRssMb: pick('maxRssMb'), stdout: runs[0]?.stdout ?? '' };
}

/** The directory of the generated log (generated once, kept by the spec under BENCH_DIR or $TMPDIR); its row count. */
export function reportLogDir(spec: ReportLogSpec, base = process.env.BENCH_DIR ?? join(tmpdir(), 'fleetpoll-bench-report')): { dir: string; rows: number } {
  const dir = join(base, `${spec.servers}x${spec.days}d-${spec.pollMinutes}m`);
  const done = join(dir, '.complete');
  if (!existsSync(done)) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    process.stdout.write(`bench: generating ${spec.servers} servers x ${spec.days} days x ${spec.pollMinutes}-minute polls in ${dir} (once; kept for later runs) ...\n`);
    const began = performance.now();
    const rows = writeFleetLogs(dir, { servers: spec.servers, start: REPORT_LOG_START, days: spec.days, pollMinutes: spec.pollMinutes, seed: 1, fastEncode: true });
    writeFileSync(done, `${rows}\n`);
    process.stdout.write(`bench: ${rows} rows in ${((performance.now() - began) / 1000).toFixed(0)} s\n`);
  }
  return { dir, rows: Number(readFileSync(done, 'utf8').trim()) };
}
