// The rendered report: host text escaped, mail-safe markup, "no data" windows, bad rows at the end.
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { silentLog } from '../../src/log.js';
import { bar, esc } from '../../src/report/html.js';
import { runReport, type ReportOutcome } from '../../src/report/run-report.js';
import { renderText } from '../../src/report/text.js';
import { writeCycle } from '../../src/store/write-cycle.js';
import { failedResult, okResult } from '../helpers/store-fixtures.js';

const HOSTILE = '<script>alert(1)</script>';
const HOSTILE_USER = '"><img src=x onerror=alert(2)>';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fleetpoll-html-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function report(end: string, days = 2): Promise<Extract<ReportOutcome, { kind: 'written' }>> {
  const config = loadConfig({ dataDir: dir }, {}, dir, 'tester');
  const outcome = await runReport({ config, days, end, email: false, rebuild: false, out: null, now: new Date(`${end}T23:00:00Z`), env: {}, log: silentLog });
  assert.equal(outcome.kind, 'written');
  return outcome as Extract<ReportOutcome, { kind: 'written' }>;
}

async function hostilePolls(): Promise<void> {
  for (let i = 0; i < 6; i += 1) {
    const at = new Date(Date.parse('2026-11-30T08:00:00Z') + i * 3_600_000);
    const web = okResult('web1', {
      procs: [{ pid: 66, user: HOSTILE_USER, cpuPct: 90, rssKb: 4096, name: HOSTILE }],
      users: [{ user: HOSTILE_USER, cpuPct: 90, rssKb: 4096, processCount: 1 }],
      disks: [{ mount: '/mnt/<b>x</b>', fsType: 'ext4', totalKb: 1024 * 1024, usedKb: 512 * 1024, availableKb: 512 * 1024 }],
    });
    await writeCycle([web, failedResult('db1', 'probe_error', 'parse', 'not probe output: <iframe src=//evil>')], at, { dataDir: dir, delimiter: ',', decimalSeparator: '.' });
  }
}

describe('HTML report', () => {
  it('escapes everything that came from a host: process, user, mount, failure text', async () => {
    await hostilePolls();
    const { file, model } = await report('2026-11-30');
    const html = readFileSync(file, 'utf8');
    assert.equal(model.servers.find((s) => s.name === 'web1')?.topCpu[0]?.process, HOSTILE, 'the model keeps the real name');
    assert.ok(html.includes(esc(HOSTILE)), 'the process name is shown, escaped');
    assert.ok(html.includes('&lt;img src=x onerror=alert(2)&gt;'), 'the user name is shown, escaped');
    assert.ok(html.includes('/mnt/&lt;b&gt;x&lt;/b&gt;'));
    assert.ok(html.includes('not probe output: &lt;iframe src=//evil&gt;'));
    assert.doesNotMatch(html, /<script|<img|<iframe|<b>x/i, 'no markup from a host survives');
    assert.doesNotMatch(html, /javascript:/i);
    const text = renderText(model);
    assert.ok(text.includes(HOSTILE), 'the text part shows the name as is (text/plain runs nothing)');
  });

  it('is mail-client friendly: no script, no SVG, no images; bars are table cells sized by width attributes', async () => {
    await hostilePolls();
    const html = readFileSync((await report('2026-11-30')).file, 'utf8');
    assert.doesNotMatch(html.replace(/&lt;[^&]*&gt;/g, ''), /<(script|svg|img|link|iframe)\b/i);
    const cells = bar(37, 60, ['#111111', '#222222']);
    assert.match(cells, /<td width="37" height="8" bgcolor="#111111"[^>]*>&nbsp;<\/td><td width="23" height="8" bgcolor="#222222"[^>]*>&nbsp;<\/td><td width="40" height="8" bgcolor="#e9ecef"/);
    assert.equal(bar(null, null, ['#1', '#2']), '', 'no bar without data');
    assert.match(html, /<table class="b" width="100" cellpadding="0" cellspacing="0">/, 'the daily CPU and memory charts are there');
  });

  it('shows availability and failure reasons per server', async () => {
    await hostilePolls();
    const { model } = await report('2026-11-30');
    const db = model.servers.find((s) => s.name === 'db1');
    assert.equal(db?.availabilityPct, 0);
    assert.deepEqual(db?.failures, [{ reason: 'probe_error: not probe output: <iframe src=//evil>', count: 6 }]);
    assert.equal(model.fleet.leastAvailable[0]?.name, 'db1');
  });

  it('an empty window is a clear "no data" report, naming the newest data there is', async () => {
    await hostilePolls();
    const { file, model } = await report('2026-12-20', 7);
    assert.equal(model.fleet.servers, 0);
    const html = readFileSync(file, 'utf8');
    assert.match(html, /<h2[^>]*>No data<\/h2>/);
    assert.match(html, /No poll of any server falls between 2026-12-14 and 2026-12-20/);
    assert.match(html, /The newest data is from 2026-11-30: for a report on it, use --end 2026-11-30/);
    assert.match(renderText(model), /No data: no poll of any server falls between 2026-12-14 and 2026-12-20/);
  });

  it('a data dir without any log is a "no data" report too', async () => {
    const { model, file } = await report('2026-11-30');
    assert.equal(model.fleet.servers, 0);
    assert.match(readFileSync(file, 'utf8'), /No data/);
  });

  it('lists rows that could not be read at the end, escaped', async () => {
    await hostilePolls();
    appendFileSync(join(dir, 'log.csv'), '2026-11-30 20:00:00,web1,a,ssh,ok,,,1,h,o,k,1,4,<b>high</b>,1,1,1,1,8,1,7,12.5,0,0,,/,1,1,,,,\r\n');
    const { file, model } = await report('2026-11-30');
    assert.equal(model.badRows[0]?.count, 1);
    const html = readFileSync(file, 'utf8');
    const quality = html.slice(html.indexOf('Data quality'));
    assert.ok(quality.length > 0 && html.indexOf('Data quality') > html.indexOf('id="server-web1"'), 'after the servers');
    assert.match(quality, /log\.csv<\/b>: 1 row\(s\) could not be read/);
    assert.match(quality, /line 14: cpu_pct &quot;&lt;b&gt;high&lt;\/b&gt;&quot; is not a number/);
  });
});
