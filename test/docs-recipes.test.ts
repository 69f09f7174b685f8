// The service-manager recipes in docs/ are tried by the tools that read them, as far as this
// machine can: systemd's own unit checker on every unit file the docs give, and PowerShell's own
// parser on every PowerShell block (the Windows cmdlets themselves need a Windows host). A unit
// with a misspelt key or a PowerShell line continuation that breaks fails here, not on a server.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { findPwsh, runPwsh } from './helpers/pwsh.js';
import { missingTool } from './helpers/sshd.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const DOCS = join(REPO, 'docs');
const SYSTEMD_ANALYZE = '/usr/bin/systemd-analyze';

// A fenced code block of a docs page: its language, text and where it starts.
interface Block {
  readonly page: string;
  readonly line: number;
  readonly lang: string;
  readonly text: string;
}

function blocksOf(page: string): Block[] {
  const blocks: Block[] = [];
  let open: { line: number; lang: string; lines: string[] } | null = null;
  readFileSync(join(DOCS, page), 'utf8').split('\n').forEach((raw, i) => {
    const fence = /^```(\S*)\s*$/.exec(raw);
    if (fence !== null && open === null) open = { line: i + 1, lang: fence[1] ?? '', lines: [] };
    else if (fence !== null && open !== null) {
      blocks.push({ page, line: open.line, lang: open.lang, text: open.lines.join('\n') + '\n' });
      open = null;
    } else if (open !== null) open.lines.push(raw);
  });
  return blocks;
}

const allBlocks = readdirSync(DOCS)
  .filter((name) => name.endsWith('.md'))
  .flatMap(blocksOf);

// Unit files are the ini blocks whose first line names their path under /etc/systemd/system.
const units = allBlocks
  .filter((b) => b.lang === 'ini')
  .map((b) => ({ block: b, name: /^# \/etc\/systemd\/system\/(\S+\.(?:service|timer))\n/.exec(b.text)?.[1] }))
  .filter((u): u is { block: Block; name: string } => u.name !== undefined);

describe('docs recipes: systemd units', () => {
  const missing = missingTool(SYSTEMD_ANALYZE, 'systemd');
  const dir = mkdtempSync(join(tmpdir(), 'fleetpoll-units-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('the docs give the units this test knows to check', () => {
    const names = units.map((u) => u.name).sort();
    assert.deepEqual(names, ['fleetpoll-report.service', 'fleetpoll-report.timer', 'fleetpoll-serve.service', 'fleetpoll.service', 'fleetpoll.timer']);
  });

  it('every unit passes `systemd-analyze verify` (keys, sections, the ExecStart binary)', { skip: missing ?? false }, () => {
    for (const { name, block } of units) writeFileSync(join(dir, name), block.text);
    for (const { name, block } of units) {
      const run = spawnSync(SYSTEMD_ANALYZE, ['verify', '--man=no', join(dir, name)], { encoding: 'utf8', cwd: dir, timeout: 60_000 });
      // verify prints problems of the unit under test and of unrelated system units; only ours count.
      const ours = `${run.stderr}${run.stdout}`.split('\n').filter((l) => l.includes(dir) || l.startsWith(name));
      assert.deepEqual(ours, [], `${block.page}:${block.line} ${name}`);
      assert.equal(run.status, 0, `${block.page}:${block.line} ${name}: ${run.stderr}`);
    }
  });

  it('a misspelt key is caught (the check can fail)', { skip: missing ?? false }, () => {
    const serve = units.find((u) => u.name === 'fleetpoll-serve.service');
    assert.ok(serve);
    const bad = join(dir, 'bad-fleetpoll.service');
    writeFileSync(bad, serve.block.text.replace('Restart=on-failure', 'Restrt=on-failure'));
    const run = spawnSync(SYSTEMD_ANALYZE, ['verify', '--man=no', bad], { encoding: 'utf8', cwd: dir, timeout: 60_000 });
    assert.match(run.stderr, /Unknown key 'Restrt'/);
  });

  it("the serve unit's restart rules match fleetpoll's exit codes", () => {
    const serve = units.find((u) => u.name === 'fleetpoll-serve.service');
    assert.ok(serve);
    // Bad settings must not be restarted in a loop: the status the unit names is the one
    // `serve` really exits with on a settings file it cannot read.
    const run = spawnSync(process.execPath, [join(REPO, 'dist/src/cli.js'), 'serve', '--config', join(dir, 'no-such.config.json')], { encoding: 'utf8', timeout: 60_000 });
    assert.match(run.stderr, /no-such\.config\.json/);
    assert.match(serve.block.text, new RegExp(`^RestartPreventExitStatus=${run.status}$`, 'm'));
    assert.match(serve.block.text, /^Restart=on-failure$/m);
    assert.match(serve.block.text, /^KillMode=mixed$/m);
  });

  it('no secrets file example puts a comment after a value (systemd would keep it in the secret)', () => {
    for (const block of allBlocks.filter((b) => b.lang === 'sh')) {
      for (const line of block.text.split('\n')) {
        assert.doesNotMatch(line, /^FLEETPOLL_[A-Z_]+=\S*\s+#/, `${block.page}:${block.line}: ${line}`);
      }
    }
  });
});

describe('docs recipes: PowerShell blocks parse', () => {
  const pwsh = findPwsh();
  const blocks = allBlocks.filter((b) => b.lang === 'powershell');

  it('the docs have PowerShell recipes', () => assert.ok(blocks.length >= 2, `${blocks.length} blocks`));

  it('every PowerShell block parses without errors', { skip: typeof pwsh === 'string' ? pwsh : false }, () => {
    assert.ok(typeof pwsh !== 'string');
    for (const block of blocks) {
      const code = [
        '$errors = $null',
        `$text = [System.Text.Encoding]::UTF8.GetString([Convert]::FromBase64String('${Buffer.from(block.text).toString('base64')}'))`,
        '[void][System.Management.Automation.Language.Parser]::ParseInput($text, [ref]$null, [ref]$errors)',
        "foreach ($e in $errors) { 'line ' + $e.Extent.StartLineNumber + ': ' + $e.Message }",
        "'parsed'",
      ].join('\n');
      const run = runPwsh(pwsh, code);
      assert.equal(run.stdout.trim(), 'parsed', `${block.page}:${block.line}: ${run.stdout}${run.stderr}`);
    }
  });

  it('a broken line continuation is caught (the check can fail)', { skip: typeof pwsh === 'string' ? pwsh : false }, () => {
    assert.ok(typeof pwsh !== 'string');
    const run = runPwsh(pwsh, "$e=$null; [void][System.Management.Automation.Language.Parser]::ParseInput('New-Thing -A (1', [ref]$null, [ref]$e); $e.Count");
    assert.notEqual(run.stdout.trim(), '0');
  });
});
