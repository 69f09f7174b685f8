// Benchmark of `fleetpoll report` against the approach it replaces, all measured in one run on the same log:
//   (a) the report from a cold start, rollup rebuilt from the raw log (--rebuild);
//   (b) the same report with the rollup up to date;
//   (c) pandas read_csv + groupby(server, date) mean/max (bench/report_pandas.py, Debian's python3-pandas);
//   (d) for reference, a plain csv-parse stream over the same file (parse only, no aggregation).
// Run with `npm run bench:report`. Env: SERVERS (1000), DAYS (7), POLL_MINUTES (5), REPEAT (3: medians are
// reported), PYTHON (/usr/bin/python3), BENCH_DIR (where the generated log is kept and reused between runs).
import { statSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, nodeChild, pandasChild, REPORT_LOG_START, reportLogDir, type Run } from './lib/report-runs.js';

const CLI = fileURLToPath(new URL('../src/cli.js', import.meta.url));
const CSV_PARSE_CHILD = fileURLToPath(new URL('./csv-parse-child.js', import.meta.url));

// The targets: (a) no slower than pandas with at most 1/10 of its peak RSS; (b) at least 20x faster.
const TARGET_REBUILD_RSS_SHARE = 0.1;
const TARGET_UP_TO_DATE_SPEEDUP = 20;

const settings = {
  servers: Number(process.env.SERVERS ?? 1000),
  days: Number(process.env.DAYS ?? 7),
  pollMinutes: Number(process.env.POLL_MINUTES ?? 5),
  repeat: Number(process.env.REPEAT ?? 3),
  python: process.env.PYTHON ?? '/usr/bin/python3',
};
const end = new Date(REPORT_LOG_START.getTime() + (settings.days - 1) * 86_400_000).toISOString().slice(0, 10);

function line(label: string, r: Run): string {
  return `| ${label} | ${(r.wallMs / 1000).toFixed(2)} s | ${(r.cpuMs / 1000).toFixed(2)} s | ${r.maxRssMb.toFixed(0)} MB |`;
}

async function main(): Promise<void> {
  const { dir, rows } = reportLogDir(settings);
  const log = join(dir, 'log.csv');
  const sizeMb = statSync(log).size / 1024 / 1024;
  const out = join(dir, 'bench-report.html');
  const reportArgs = [CLI, 'report', '--days', String(settings.days), '--end', end, '--data-dir', dir, '--out', out];
  const runs = { rebuild: [] as Run[], upToDate: [] as Run[], pandas: [] as Run[], csvParse: [] as Run[] };
  for (let i = 0; i < settings.repeat; i += 1) {
    process.stdout.write(`bench: round ${i + 1}/${settings.repeat} ...\n`);
    // Interleaved, so a change in machine load hits every contender alike.
    runs.pandas.push(await pandasChild(settings.python, log));
    runs.rebuild.push(await nodeChild([...reportArgs, '--rebuild']));
    runs.upToDate.push(await nodeChild(reportArgs));
    runs.csvParse.push(await nodeChild([CSV_PARSE_CHILD, log]));
  }
  const pandas = median(runs.pandas);
  const rebuild = median(runs.rebuild);
  const upToDate = median(runs.upToDate);
  const csvParse = median(runs.csvParse);
  if (!new RegExp(`: ${settings.servers} server\\(s\\)`).test(upToDate.stdout)) throw new Error(`the report did not cover every server: ${upToDate.stdout}`);

  const speedup = pandas.wallMs / upToDate.wallMs;
  const rebuildRatio = rebuild.wallMs / pandas.wallMs;
  const rssShare = rebuild.maxRssMb / pandas.maxRssMb;
  const verdict = (ok: boolean): string => (ok ? 'met' : 'NOT met');
  const report = [
    `Log: ${settings.servers} servers x ${settings.days} days x ${settings.pollMinutes}-minute polls = ${rows.toLocaleString('en-US')} rows, ${sizeMb.toFixed(0)} MB. ` +
      `${cpus().length} CPU(s), Node ${process.versions.node}; medians of ${settings.repeat} interleaved rounds; wall time as seen by the parent, CPU and peak RSS of the child itself.`,
    '',
    '| | wall | CPU | peak RSS |',
    '|---|---|---|---|',
    line('(a) `fleetpoll report --rebuild` (cold, rollup rebuilt from the raw log)', rebuild),
    line('(b) `fleetpoll report` (rollup up to date)', upToDate),
    line('(c) pandas `read_csv` + `groupby(server, date)` mean/max', pandas),
    line('(d) reference: csv-parse stream of the same file, parse only', csvParse),
    '',
    `(a) vs (c): ${rebuildRatio.toFixed(2)}x the time (target <= 1: ${verdict(rebuildRatio <= 1)}), ` +
      `${(rssShare * 100).toFixed(1)} % of the peak RSS (target <= ${TARGET_REBUILD_RSS_SHARE * 100} %: ${verdict(rssShare <= TARGET_REBUILD_RSS_SHARE)})`,
    `(b) vs (c): ${speedup.toFixed(1)}x faster (target >= ${TARGET_UP_TO_DATE_SPEEDUP}x: ${verdict(speedup >= TARGET_UP_TO_DATE_SPEEDUP)})`,
  ].join('\n');
  process.stdout.write(`\n${report}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
