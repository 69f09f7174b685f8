// The push probes (src/push/probe.ts): the Linux one is the shipped probe with FP_PUSH=1 (run by sh in
// commands.test.ts); the Windows one runs under PowerShell 7 here with the probe's collection replaced
// by a recorded answer (no CIM off Windows): the stamp lands right after the header, and the sending
// variant parses without errors.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildPushProbe, psQuote, shQuote } from '../../src/push/probe.js';
import { readTimeRecord } from '../../src/push/judge.js';
import { findPwsh, runPwsh, type TestPwsh } from '../helpers/pwsh.js';

const PARAMS = { cpuWindowSec: 0.5, topProcesses: 3 };
const FOOTER = '\n# fleetpoll push:';

describe('push probes', () => {
  it('Linux: the shipped probe with FP_PUSH=1 first', () => {
    assert.match(buildPushProbe('linux', PARAMS), /^FP_PUSH=1\nFP_WINDOW=0\.5\nFP_TOPN=3\n# fleetpoll Linux probe/);
  });

  it('quotes for sh and PowerShell', () => {
    assert.equal(shQuote('dmz01'), 'dmz01');
    assert.equal(shQuote("it's"), `'it'\\''s'`);
    assert.equal(psQuote("C:\\it's"), "'C:\\it''s'");
  });

  describe('Windows, under PowerShell 7', () => {
    const found = findPwsh();
    const skip = typeof found === 'string' ? found : false;
    const pwsh = found as TestPwsh;

    it('stamps the output after the header, in library mode (the probe does not run twice)', { skip }, () => {
      const script = buildPushProbe('windows', PARAMS);
      const at = script.indexOf(FOOTER);
      assert.ok(at > 0);
      // Off Windows, the collection is replaced by a recorded answer; the footer is the one shipped.
      const fake = "function Invoke-FpProbe { \"fleetpoll-probe`t1`nhost`twin01`nend`n\" }\n";
      const run = runPwsh(pwsh, `${script.slice(0, at)}\n${fake}${script.slice(at)}`);
      assert.equal(run.status, 0, run.stderr);
      assert.match(run.stdout, /^fleetpoll-probe\t1\ntime\t\d+\nhost\twin01\nend\n/);
      const time = readTimeRecord(run.stdout);
      assert.ok(typeof time === 'number' && Math.abs(time - Date.now() / 1000) < 120, String(time));
    });

    it('the sending variant is valid PowerShell', { skip }, () => {
      const script = buildPushProbe('windows', PARAMS, { url: "https://poller:8443/api/v1/ingest/win01", tokenFile: 'C:\\ProgramData\\fleetpoll\\push-token' });
      const run = runPwsh(pwsh, `$t=$null;$e=$null;[void][System.Management.Automation.Language.Parser]::ParseInput(${psQuote(script)},[ref]$t,[ref]$e);'errors=' + $e.Count`);
      assert.equal(run.stdout.trim(), 'errors=0', run.stderr);
    });
  });
});
