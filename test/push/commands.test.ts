// `fleetpoll token` and `fleetpoll push-script` (src/push/commands.ts) in a temp directory: tokens made,
// listed, refused, revoked; the lines for a Linux and a Windows host; the Linux push probe run by a real
// sh prints protocol v1 with a time record that ingest accepts.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cronSchedule, pushScriptCommand, tokenCommand, type PushCommandArgs } from '../../src/push/commands.js';
import { judgePush } from '../../src/push/judge.js';
import { readTokens, tokenMatches } from '../../src/push/tokens.js';

const dir = mkdtempSync(join(tmpdir(), 'fleetpoll-push-commands-'));
after(() => rmSync(dir, { recursive: true, force: true }));
mkdirSync(join(dir, 'inventory'));
writeFileSync(join(dir, 'inventory', 'servers.csv'), 'name,transport,os,push_interval\nweb01,ssh,linux,\ndmz01,push,linux,300\nwin01,push,windows,420\n');
writeFileSync(join(dir, 'fleetpoll.config.json'), JSON.stringify({ poll: { cpuWindowSeconds: 0.2, topProcesses: 3 }, http: { port: 8443, tls: { certFile: 'c.pem', keyFile: 'k.pem' } } }));

async function run(command: typeof tokenCommand, args: PushCommandArgs): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await command(args, {}, dir, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

describe('fleetpoll token', () => {
  it('create prints a token once and keeps its hash; a second create needs --replace; list; revoke', async () => {
    const first = await run(tokenCommand, { action: 'create', name: 'DMZ01' });
    assert.equal(first.code, 0, first.err);
    const token = first.out.trim();
    assert.equal(tokenMatches(await readTokens(join(dir, 'data')), 'dmz01', token), true);
    const again = await run(tokenCommand, { action: 'create', name: 'dmz01' });
    assert.equal(again.code, 2);
    assert.match(again.err, /^fleetpoll: dmz01 already has a push token \(created .*\): give --replace/);
    const replaced = await run(tokenCommand, { action: 'create', name: 'dmz01', replace: true });
    assert.equal(replaced.code, 0);
    const tokens = await readTokens(join(dir, 'data'));
    assert.equal(tokenMatches(tokens, 'dmz01', token), false, 'the old token stops working');
    assert.equal(tokenMatches(tokens, 'dmz01', replaced.out.trim()), true);

    const list = await run(tokenCommand, { action: 'list' });
    assert.match(list.out, /^dmz01\tcreated \d{4}-\d\d-\d\dT.*\nwin01\tno token: its pushes are refused \("fleetpoll token create win01"\)\n$/);

    assert.equal((await run(tokenCommand, { action: 'revoke', name: 'dmz01' })).code, 0);
    assert.equal((await readTokens(join(dir, 'data'))).size, 0);
    const none = await run(tokenCommand, { action: 'revoke', name: 'dmz01' });
    assert.deepEqual([none.code, none.err], [2, 'fleetpoll: no push token for "dmz01" ("fleetpoll token list" shows them)\n']);
  });

  it('create refuses names that are not push hosts, with the reason', async () => {
    const ssh = await run(tokenCommand, { action: 'create', name: 'web01' });
    assert.equal(ssh.code, 2);
    assert.match(ssh.err, /^fleetpoll: web01 is transport=ssh in .*servers\.csv:2: push tokens and scripts are for transport=push hosts \(docs\/push\.md\)\n$/);
    const missing = await run(tokenCommand, { action: 'create', name: 'nosuch' });
    assert.match(missing.err, /^fleetpoll: no host named "nosuch" in .*servers\.csv\n$/);
  });
});

describe('fleetpoll push-script', () => {
  it('Linux: the cron line with curl, the token in a header file, the probe file', async () => {
    const lines = await run(pushScriptCommand, { name: 'dmz01', url: 'https://poller.example.net:8443' });
    assert.equal(lines.code, 0, lines.err);
    assert.ok(lines.out.includes(
      "*/5 * * * * sh /opt/fleetpoll/probe.sh | curl -sS --fail --max-time 60 --data-binary @- -H @/opt/fleetpoll/push-auth -H 'Content-Type: text/plain' https://poller.example.net:8443/api/v1/ingest/dmz01 >/dev/null\n",
    ), lines.out);
    assert.ok(lines.out.includes('fleetpoll push-script dmz01 --probe > probe.sh\n'));
    assert.equal(lines.err, '');
    const bad = await run(pushScriptCommand, { name: 'dmz01', url: 'https://x/$(reboot)' });
    assert.equal(bad.code, 2);
  });

  it('Linux: the probe file, run by a real sh, prints a sample with a time record that ingest accepts', async () => {
    const probe = await run(pushScriptCommand, { name: 'dmz01', probe: true });
    assert.match(probe.out, /^FP_PUSH=1\nFP_WINDOW=0\.2\nFP_TOPN=3\n/);
    const output = execFileSync('sh', ['-s'], { input: probe.out, encoding: 'utf8' });
    assert.match(output, /^fleetpoll-probe\t1\ntime\t\d+\n/);
    const verdict = judgePush(output, { nowSec: Math.floor(Date.now() / 1000), intervalSeconds: 300, graceSeconds: 60, maxClockSkewSeconds: 60, lastSampleAtSec: null });
    assert.equal(verdict.ok, true, JSON.stringify(verdict));
  });

  it('Windows: push.ps1 holds the probe, the stamp and Invoke-RestMethod; the task runs it every interval', async () => {
    const lines = await run(pushScriptCommand, { name: 'win01', url: 'https://poller.example.net:8443' });
    assert.equal(lines.code, 0, lines.err);
    assert.ok(lines.out.includes("-Argument '-NoProfile -NonInteractive -ExecutionPolicy Bypass -File C:\\ProgramData\\fleetpoll\\push.ps1'"), lines.out);
    assert.ok(lines.out.includes('-RepetitionInterval (New-TimeSpan -Seconds 420)'));
    const script = (await run(pushScriptCommand, { name: 'win01', url: 'https://poller.example.net:8443', probe: true })).out;
    assert.match(script, /^\$FP_LIBRARY = \$true\n\$FP_WINDOW = 0\.2\n\$FP_TOPN = 3\n/);
    assert.ok(script.includes("$fpToken = (Get-Content -LiteralPath 'C:\\ProgramData\\fleetpoll\\push-token' -Raw).Trim()"));
    assert.ok(script.includes("Invoke-RestMethod -Method Post -Uri 'https://poller.example.net:8443/api/v1/ingest/win01' -Headers @{ Authorization = 'Bearer ' + $fpToken }"));
  });

  it('the default URL is this machine on http.port; plain HTTP is warned about', async () => {
    const lines = await run(pushScriptCommand, { name: 'dmz01' });
    assert.match(lines.out, /-> https:\/\/[^:]+:8443\/api\/v1\/ingest\/dmz01/);
    const plain = await run(pushScriptCommand, { name: 'dmz01', url: 'http://poller:8080' });
    assert.match(plain.err, /warning: plain HTTP: the push token and the host's data travel in clear/);
  });

  it('cron steps: the nearest that is not longer than the interval', () => {
    assert.deepEqual([30, 60, 300, 420, 600, 3600, 7200, 86400, 5400].map(cronSchedule), ['* * * * *', '* * * * *', '*/5 * * * *', '*/6 * * * *', '*/10 * * * *', '0 */1 * * *', '0 */2 * * *', '0 0 * * *', '*/30 * * * *']);
  });
});
