// A real `fleetpoll poll` keeps an existing rollup caught up, inside its lock, and a report then reads nothing new.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { silentLog } from '../../src/log.js';
import { catchUpAfterWrite } from '../../src/report/poll-hooks.js';
import { runCli } from '../helpers/cli.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));

describe('poll hooks', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'fleetpoll-poll-hooks-'));
    writeFileSync(join(dir, 'fleetpoll.config.json'), JSON.stringify({ poll: { cpuWindowSeconds: 0.2, timeoutSeconds: 10 } }));
    cpSync(join(REPO, 'inventory'), join(dir, 'inventory'), { recursive: true });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('without a rollup a poll does nothing for the report; with one, each poll catches it up', async () => {
    assert.equal((await runCli(['poll', '--quiet'], dir)).code, 0);
    assert.throws(() => statSync(join(dir, 'data', 'rollup', 'manifest.json')), /ENOENT/, 'the first report builds the rollup, not the poll');
    const today = new Date().toISOString().slice(0, 10);
    const first = await runCli(['report', '--days', '1', '--end', today], dir);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /1 server\(s\)/);

    const poll = await runCli(['poll', '--quiet'], dir);
    assert.equal(poll.code, 0, poll.stderr);
    const manifest = JSON.parse(readFileSync(join(dir, 'data', 'rollup', 'manifest.json'), 'utf8')) as { sources: Record<string, { offset: number } | null> };
    for (const name of ['log', 'disks', 'processes', 'users']) {
      assert.equal(manifest.sources[name]?.offset, statSync(join(dir, 'data', `${name}.csv`)).size, `${name}.csv read to its end by the poll`);
    }
    const second = await runCli(['report', '--days', '1', '--end', today, '--out', join(dir, 'r.html')], dir);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /rollup caught up \(0\.0 MB of new rows read\)/);
    assert.match(readFileSync(join(dir, 'r.html'), 'utf8'), /2\/2/, 'both polls of today are in the report');
  });

  it('a catch-up problem is a warning, never an exception; the next report rebuilds', async () => {
    const copy = mkdtempSync(join(tmpdir(), 'fleetpoll-poll-hooks-broken-'));
    try {
      cpSync(join(dir, 'data'), join(copy, 'data'), { recursive: true });
      const rollup = join(copy, 'data', 'rollup');
      const warnings: string[] = [];
      const log = { ...silentLog, warn: (m: string) => void warnings.push(m), child: () => log };

      // A manifest naming a file outside the rollup is not trusted: no catch-up, nothing read.
      const good = readFileSync(join(rollup, 'manifest.json'), 'utf8');
      writeFileSync(join(rollup, 'manifest.json'), good.replace(/"day-[^"]+\.json"/, '"../../../etc/passwd"'));
      await catchUpAfterWrite(join(copy, 'data'), log);
      assert.deepEqual(warnings, []);

      // A day file lost (disk trouble, a careless clean-up): the poll warns and carries on.
      writeFileSync(join(rollup, 'manifest.json'), good);
      const [, dayFile] = (JSON.parse(good) as { days: [string, string][] }).days[0] ?? [];
      rmSync(join(rollup, dayFile ?? 'missing'));
      assert.equal((await runCli(['poll', '--quiet', '--data-dir', join(copy, 'data')], dir)).code, 0);
      await catchUpAfterWrite(join(copy, 'data'), log);
      // The copy has new inodes: the checkpoint sees log.csv as replaced and re-reads from its last day.
      assert.equal(warnings.length, 2, warnings.join('\n'));
      assert.match(warnings[0] ?? '', /^rollup: log\.csv was rotated, truncated or replaced since it was last read; re-read it from \d{4}-/);
      assert.match(warnings[1] ?? '', /^rollup catch-up failed \(the next poll or report retries\): rollup file day-.*ENOENT/);
      const today = new Date().toISOString().slice(0, 10);
      const report = await runCli(['report', '--days', '1', '--end', today, '--data-dir', join(copy, 'data')], dir);
      assert.equal(report.code, 0, report.stderr);
      assert.match(report.stderr, /rollup damaged, rebuilding it from the raw logs/);
      assert.match(report.stdout, /rollup rebuilt/);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });
});
