// The Windows probe: its recorded outputs through the real protocol parser (Node only), and,
// under PowerShell 7 (test/helpers/pwsh.ts), PowerShell's own parser on every .ps1, the
// Windows PowerShell 5.1 syntax subset, and the probe's formatting of recorded Windows data.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { parseProbeOutput } from '../../src/probes/protocol.js';
import { buildProbeScript } from '../../src/probes/scripts.js';
import { encodedBootstrap, windowsProbeCommand } from '../../src/probes/windows-ssh.js';
import { findPwsh, psQuote, runPwsh, type TestPwsh } from '../helpers/pwsh.js';
import { fixtureProbeScript, windowsCases, WINDOWS_FIXTURES, WINDOWS_PROBE } from '../helpers/windows-fixtures.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BOOTSTRAP = join(ROOT, 'src/probes/windows-ssh-bootstrap.ps1');
const BROKER = join(ROOT, 'src/fleet/powershell-broker.ps1');

function ps1Files(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...ps1Files(path));
    else if (name.endsWith('.ps1')) out.push(path);
  }
  return out;
}

describe('documentation-based: recorded Windows probe output through the protocol parser', () => {
  it('has the cases', () => {
    assert.ok(windowsCases().length >= 3, `cases: ${windowsCases().join(', ')}`);
  });
  for (const name of windowsCases()) {
    it(`documentation-based: ${name} parses to the expected sample`, () => {
      const dir = join(WINDOWS_FIXTURES, name);
      const parsed = parseProbeOutput(readFileSync(join(dir, 'output.txt'), 'utf8'));
      assert.ok(parsed.ok, parsed.ok ? '' : parsed.error);
      assert.deepEqual(parsed.sample, JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')));
      assert.equal(parsed.sample.osFamily, 'windows');
      assert.equal(parsed.sample.load, null, 'Windows has no load average');
    });
  }
});

describe('Windows scripts without PowerShell', () => {
  it('the probe and the SSH bootstrap are ASCII (Windows PowerShell reads stdin in the OEM code page)', () => {
    for (const file of [WINDOWS_PROBE, BOOTSTRAP]) {
      const text = readFileSync(file, 'utf8');
      const bad = [...text].findIndex((c) => c.charCodeAt(0) > 0x7e || (c.charCodeAt(0) < 0x20 && c !== '\n' && c !== '\t' && c !== '\r'));
      assert.equal(bad, -1, `${file}: non-ASCII character at offset ${bad}`);
    }
  });

  it('the SSH command line means the same to cmd.exe, PowerShell and sh', () => {
    const command = windowsProbeCommand('powershell');
    assert.match(command, /^powershell -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand [A-Za-z0-9+/=]+$/);
    // No character that cmd.exe (% ^ & | < > " ( ) !) or a POSIX shell would interpret.
    assert.doesNotMatch(command, /[%^&|<>"()!$`;'\\*?~#]/);
    assert.ok(command.length < 8000, `cmd.exe takes at most 8191 characters; the command has ${command.length}`);
    const decoded = Buffer.from(encodedBootstrap(), 'base64').toString('utf16le');
    assert.match(decoded, /\$input/);
    assert.doesNotMatch(decoded, /^\s*#/m, 'comment lines are dropped before encoding');
  });

  it('the tunables are prepended as PowerShell assignments of numbers', () => {
    const script = buildProbeScript('windows', { cpuWindowSec: 0.5, topProcesses: 3 });
    assert.ok(script.startsWith('$FP_WINDOW = 0.5\n$FP_TOPN = 3\n# fleetpoll Windows probe'));
  });
});

describe('Windows scripts under PowerShell', () => {
  const found = findPwsh();
  const skip = typeof found === 'string' ? found : false;
  const pwsh = found as TestPwsh;

  it('every .ps1 in the tree parses with PowerShell\'s own parser', { skip }, () => {
    const files = [...ps1Files(join(ROOT, 'src')), ...ps1Files(join(ROOT, 'test'))];
    assert.ok(files.includes(WINDOWS_PROBE) && files.includes(BROKER) && files.includes(BOOTSTRAP));
    const code = [
      `$files = @(${files.map(psQuote).join(', ')})`,
      'foreach ($f in $files) {',
      '  $tokens = $null; $errors = $null',
      '  [void][System.Management.Automation.Language.Parser]::ParseFile($f, [ref]$tokens, [ref]$errors)',
      '  foreach ($e in $errors) { $f + ":" + $e.Extent.StartLineNumber + ": " + $e.Message }',
      '}',
      "'parsed ' + $files.Count",
    ].join('\n');
    const run = runPwsh(pwsh, code);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout.trim(), `parsed ${files.length}`, `syntax errors:\n${run.stdout}`);
  });

  it('the Windows scripts use only what Windows PowerShell 5.1 has', { skip }, () => {
    // Syntax added in PowerShell 6/7, found in the real AST rather than by pattern.
    const code = [
      `$files = @(${[WINDOWS_PROBE, BOOTSTRAP, BROKER].map(psQuote).join(', ')})`,
      '$allowed = @(',
      "  'Set-StrictMode', 'Get-CimInstance', 'Invoke-CimMethod', 'Get-Process', 'Get-Command', 'ForEach-Object',",
      "  'Where-Object', 'Invoke-Command', 'Receive-Job', 'Remove-Job', 'Stop-Job'",
      ')',
      'foreach ($f in $files) {',
      '  $tokens = $null; $errors = $null',
      '  $ast = [System.Management.Automation.Language.Parser]::ParseFile($f, [ref]$tokens, [ref]$errors)',
      '  $defined = @($ast.FindAll({ param($n) $n -is [System.Management.Automation.Language.FunctionDefinitionAst] }, $true) | ForEach-Object { $_.Name -replace "^global:", "" })',
      '  foreach ($n in $ast.FindAll({ param($n) $true }, $true)) {',
      '    $t = $n.GetType().Name',
      "    if ($t -eq 'TernaryExpressionAst' -or $t -eq 'PipelineChainAst') { $f + ': ' + $t + ' at line ' + $n.Extent.StartLineNumber }",
      "    if ($t -eq 'BinaryExpressionAst' -and [string]$n.Operator -eq 'QuestionQuestion') { $f + ': ?? at line ' + $n.Extent.StartLineNumber }",
      "    if ($t -eq 'AssignmentStatementAst' -and [string]$n.Operator -eq 'QuestionQuestionEquals') { $f + ': ??= at line ' + $n.Extent.StartLineNumber }",
      "    if (($t -eq 'MemberExpressionAst' -or $t -eq 'InvokeMemberExpressionAst') -and $n.NullConditional) { $f + ': ?. at line ' + $n.Extent.StartLineNumber }",
      "    if ($t -eq 'CommandAst') {",
      '      $name = $n.GetCommandName()',
      "      if ($null -ne $name -and $allowed -notcontains $name -and $defined -notcontains $name) { $f + ': command ' + $name + ' at line ' + $n.Extent.StartLineNumber }",
      "      if ($name -eq 'ForEach-Object' -and $n.Extent.Text -match '-Parallel') { $f + ': ForEach-Object -Parallel' }",
      '    }',
      '  }',
      "  if ($null -ne $ast.CleanBlock) { $f + ': clean block' }",
      '}',
      "'checked'",
    ].join('\n');
    const run = runPwsh(pwsh, code);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout.trim(), 'checked', `not in Windows PowerShell 5.1:\n${run.stdout}`);
    // .NET members that exist only on .NET Core, not on the .NET Framework under 5.1.
    for (const file of [WINDOWS_PROBE, BOOTSTRAP, BROKER]) {
      assert.doesNotMatch(readFileSync(file, 'utf8'), /TickCount64|\[Math\]::Clamp|System\.Text\.Json|-AsHashtable|\.Contains\(\s*\[char\]/, file);
    }
  });

  for (const name of windowsCases()) {
    it(`documentation-based: ${name}: the probe formats the recorded readings to output.txt`, { skip }, () => {
      const dir = join(WINDOWS_FIXTURES, name);
      const run = runPwsh(pwsh, fixtureProbeScript(dir));
      assert.equal(run.status, 0, run.stderr);
      assert.equal(run.stderr.trim(), '');
      // The host adds a line break after the output object.
      assert.equal(run.stdout.replace(/\n+$/, '\n'), readFileSync(join(dir, 'output.txt'), 'utf8'));
    });
  }

  it('the tunables reach the probe, and anything but a number falls back to the default', { skip }, () => {
    const read = "\n'' + (Get-FpTunable 'FP_WINDOW' 1 1000) + '|' + (Get-FpTunable 'FP_TOPN' 10 1000)";
    const good = runPwsh(pwsh, `$FP_LIBRARY = $true\n${buildProbeScript('windows', { cpuWindowSec: 0.5, topProcesses: 3 })}${read}`);
    assert.equal(good.stdout.trim(), '0.5|3', good.stderr);
    const bad = runPwsh(pwsh, `$FP_LIBRARY = $true\n$FP_WINDOW = 'x'\n$FP_TOPN = -4\n${readFileSync(WINDOWS_PROBE, 'utf8')}${read}`);
    assert.equal(bad.stdout.trim(), '1|10', bad.stderr);
  });

  it('the SSH command line is one native command to PowerShell, as when PowerShell is the OpenSSH default shell', { skip }, () => {
    const command = windowsProbeCommand('powershell');
    const code = [
      `$tokens = $null; $errors = $null`,
      `$ast = [System.Management.Automation.Language.Parser]::ParseInput(${psQuote(command)}, [ref]$tokens, [ref]$errors)`,
      '$pipelines = @($ast.EndBlock.Statements)',
      "'errors=' + $errors.Count + ' statements=' + $pipelines.Count + ' elements=' + (@($pipelines[0].PipelineElements[0].CommandElements | ForEach-Object { $_.Extent.Text }) -join ' ')",
    ].join('\n');
    const run = runPwsh(pwsh, code);
    assert.equal(run.stdout.trim(), `errors=0 statements=1 elements=${command}`, run.stderr);
    const bootstrap = runPwsh(pwsh, `$t=$null;$e=$null;[void][System.Management.Automation.Language.Parser]::ParseInput(${psQuote(Buffer.from(encodedBootstrap(), 'base64').toString('utf16le'))},[ref]$t,[ref]$e);'errors=' + $e.Count`);
    assert.equal(bootstrap.stdout.trim(), 'errors=0', bootstrap.stderr);
  });

  it('the bootstrap runs the probe it reads on stdin and writes UTF-8', { skip }, () => {
    const [program, ...args] = windowsProbeCommand(pwsh.path).split(' ');
    const dir = join(WINDOWS_FIXTURES, 'server2016-rds');
    const run = spawnSync(program ?? '', args, { input: fixtureProbeScript(dir), timeout: 120_000 });
    assert.equal(run.status, 0, run.stderr.toString());
    assert.equal(run.stdout.toString('utf8'), readFileSync(join(dir, 'output.txt'), 'utf8'));
    // An ASCII script whose output is not ASCII: the bytes must be UTF-8, whatever the code page.
    const accents = spawnSync(program ?? '', args, { input: "'caf' + [string][char]0x00E9 + [string][char]0x20AC\n", timeout: 120_000 });
    assert.deepEqual([...accents.stdout], [...Buffer.from('caf\u00e9\u20ac', 'utf8')], accents.stderr.toString());
    // A probe that throws: a message on stderr and exit 1, no stdout.
    const failing = spawnSync(program ?? '', args, { input: "throw 'no WMI here'\n", timeout: 120_000 });
    assert.equal(failing.status, 1);
    assert.equal(failing.stdout.length, 0);
    assert.match(failing.stderr.toString(), /fleetpoll probe failed: no WMI here/);
  });
});
