// servers.csv parsing: every bad row is a file:line error, good rows survive, Excel quirks are read.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse as csvParse } from 'csv-parse/sync';
import { parseInventory, selectHosts, splitPlainRecords } from '../src/inventory.js';

const DEFAULTS = { user: 'monitor', port: 22 };
const parse = (text: string, env: NodeJS.ProcessEnv = {}) => parseInventory(text, 'servers.csv', DEFAULTS, env);
const messages = (text: string, env: NodeJS.ProcessEnv = {}) =>
  parse(text, env).issues.map((i) => `${i.line}: ${i.severity}: ${i.message}`);

describe('inventory', () => {
  it('reads every column with defaults', () => {
    const inv = parse(
      'name,address,transport,port,user,auth,os,tags,enabled\n' +
        'web01,10.0.0.21,ssh,2222,ops,agent,linux,web prod,yes\n' +
        'db01\n' +
        'local1,,local,,,,,,\n',
    );
    assert.deepEqual(inv.issues, []);
    const [web, db, local] = inv.hosts;
    assert.deepEqual(
      { ...web, extra: undefined },
      {
        name: 'web01',
        address: '10.0.0.21',
        transport: 'ssh',
        port: 2222,
        user: 'ops',
        auth: { kind: 'agent' },
        os: 'linux',
        tags: ['web', 'prod'],
        enabled: true,
        line: 2,
        extra: undefined,
        zone: 'default',
      },
    );
    assert.equal(db?.address, 'db01');
    assert.equal(db?.port, 22);
    assert.equal(db?.user, 'monitor');
    assert.equal(db?.transport, 'ssh');
    assert.deepEqual(db?.auth, { kind: 'default' });
    assert.equal(local?.transport, 'local');
  });

  it('accepts the PowerShell-era "Server Name" header, a BOM, CRLF and semicolons (Excel)', () => {
    const inv = parse('\uFEFFServer Name;Username\r\nweb01;ops\r\nweb02;\r\n');
    assert.deepEqual(inv.issues, []);
    assert.deepEqual(inv.hosts.map((h) => [h.name, h.user]), [['web01', 'ops'], ['web02', 'monitor']]);
  });

  it('skips blank lines and # comments, keeping physical line numbers', () => {
    const text = '# fleet\nname,transport\n\n# web tier\nweb01,ssh\nweb02,bogus\n';
    assert.deepEqual(messages(text), ['6: error: unknown transport "bogus" (expected ssh, winrm, local or push)']);
    assert.deepEqual(parse(text).hosts.map((h) => h.line), [5]);
  });

  it('reports each bad row with its line and keeps the good ones', () => {
    const text = [
      'name,address,transport,port,user,auth,os,tags,enabled',
      'ok1,10.0.0.1,ssh,22,,,,,',
      'p1,10.0.0.2,ssh,0,,,,,',
      'p2,10.0.0.3,ssh,22x,,,,,',
      'a1,10.0.0.4,ssh,,,password:hunter2,,,',
      'a2,10.0.0.5,ssh,,,password-env:NOPE,,,',
      'a3,10.0.0.6,ssh,,,kerberos,,,',
      'o1,10.0.0.7,ssh,,,,solaris,,',
      'e1,10.0.0.8,ssh,,,,,,maybe',
      'ad,-oProxyCommand=x,ssh,,,,,,',
      'OK1,10.0.0.9,ssh,,,,,,',
      'sp ace,10.0.0.10,ssh,,,,,,',
      'ok2,10.0.0.11,ssh,,,,,,',
    ].join('\n');
    assert.deepEqual(messages(text), [
      '3: error: port "0" is not a number from 1 to 65535',
      '4: error: port "22x" is not a number from 1 to 65535',
      '5: error: auth holds a plain-text password; put it in an environment variable and write auth=password-env:<VAR>',
      '6: error: auth names environment variable NOPE, which is not set',
      '7: error: unknown auth "kerberos" (expected agent, key:<path> or password-env:<VAR>)',
      '8: error: unknown os "solaris" (expected linux or windows)',
      '9: error: enabled "maybe" is not yes or no',
      '10: error: address "-oProxyCommand=x" is not a host name or IP address',
      '11: error: duplicate name "OK1" (first defined on line 2)',
      '12: error: name "sp ace" has characters other than letters, digits and _ . @ : -',
    ]);
    assert.deepEqual(parse(text).hosts.map((h) => h.name), ['ok1', 'ok2']);
  });

  it('refuses a password column without reading its values, and keeps the rows', () => {
    const inv = parse('name,user,password\nweb01,ops,Secret1\n');
    assert.deepEqual(
      inv.issues.map((i) => `${i.line}: ${i.severity}: ${i.message}`),
      [
        '1: error: column "password" looks like a plain-text password; its values are ignored. Remove it and use auth=password-env:<VAR> (or a key)',
        '2: warning: a value in a password column was ignored; remove it from the file',
      ],
    );
    assert.equal(inv.hosts.length, 1);
    assert.doesNotMatch(JSON.stringify(inv.hosts), /Secret1/);
  });

  it('password-env names a variable that exists; the password itself never enters the Host', () => {
    const inv = parse('name,auth\nweb01,password-env:WEB_PW\n', { WEB_PW: 's3cret' });
    assert.deepEqual(inv.issues, []);
    assert.deepEqual(inv.hosts[0]?.auth, { kind: 'password-env', envVar: 'WEB_PW' });
    assert.doesNotMatch(JSON.stringify(inv.hosts), /s3cret/);
  });

  it('keeps unknown columns as per-host extras (alert overrides) and flags odd headers', () => {
    const inv = parse('name,cpu_crit,Disk Crit %\nweb01,90,95\n');
    assert.deepEqual(inv.hosts[0]?.extra, { cpu_crit: '90', 'disk_crit_%': '95' });
    assert.deepEqual(messages('name,cpu_crit,Disk Crit %\nweb01,90,95\n'), ['1: warning: column "disk_crit_%" is not a known column and is ignored']);
  });

  it('names a missing name column and an empty file', () => {
    assert.deepEqual(messages('address,port\n10.0.0.1,22\n'), ['1: error: no "name" column (found: address, port)']);
    assert.deepEqual(messages('# nothing\n\n'), ['1: error: no header row: expected at least a "name" column']);
  });

  it('reports a stray delimiter (more fields than the header) on its line', () => {
    assert.deepEqual(messages('name,address\nweb01,10.0.0.1,extra\n'), ['2: error: 3 fields but the header has 2 (a stray ","?)']);
  });

  it('reads the zone column (empty = default) and refuses zones that are not one NATS subject token', () => {
    const inv = parse('name,zone\nweb01,dmz\nweb02,\ndb01,dc-2_a\n');
    assert.deepEqual(inv.issues, []);
    assert.deepEqual(inv.hosts.map((h) => [h.name, h.zone]), [['web01', 'dmz'], ['web02', 'default'], ['db01', 'dc-2_a']]);
    assert.deepEqual(inv.hosts[0]?.extra, {});
    assert.deepEqual(messages('name,zone\nweb01,dc.1\nweb02,dmz *\nweb03,-x\n'), [
      '2: error: zone "dc.1" must be letters, digits, _ and - (at most 63, no dots or spaces)',
      '3: error: zone "dmz *" must be letters, digits, _ and - (at most 63, no dots or spaces)',
      '4: error: zone "-x" must be letters, digits, _ and - (at most 63, no dots or spaces)',
    ]);
  });

  it('disabled rows are parsed but marked', () => {
    const inv = parse('name,enabled\nweb01,no\nweb02,YES\n');
    assert.deepEqual(inv.hosts.map((h) => h.enabled), [false, true]);
  });

  it('--only matches names, globs and tags, case-insensitively', () => {
    const { hosts } = parse('name,tags\nweb01,prod web\nweb02,test\ndb01,prod\n');
    assert.deepEqual(selectHosts(hosts, ['WEB*']).map((h) => h.name), ['web01', 'web02']);
    assert.deepEqual(selectHosts(hosts, ['tag:prod']).map((h) => h.name), ['web01', 'db01']);
    assert.deepEqual(selectHosts(hosts, ['db01', 'web02']).map((h) => h.name), ['web02', 'db01']);
    assert.deepEqual(selectHosts(hosts, []).length, 3);
  });

  it('Windows rows: winrm by default, WinRM ports, winrm_ssl/winrm_auth, DOMAIN\\user', () => {
    const inv = parse(
      [
        'name,address,transport,port,user,auth,os,winrm_ssl,winrm_auth',
        'win01,10.0.1.1,,,CORP\\monitor,password-env:WIN_PW,windows,,',
        'win02,10.0.1.2,winrm,,monitor@corp.example,,windows,yes,kerberos',
        'win03,10.0.1.3,winrm,15985,,,windows,no,negotiate',
        'win04,10.0.1.4,ssh,,admin,key:~/.ssh/id_ed25519,windows,,',
      ].join('\n'),
      { WIN_PW: 'secret' },
    );
    assert.deepEqual(inv.issues, []);
    assert.deepEqual(
      inv.hosts.map((h) => [h.name, h.transport, h.port, h.user, h.winrm]),
      [
        ['win01', 'winrm', 5985, 'CORP\\monitor', { useSsl: false, authentication: 'default' }],
        ['win02', 'winrm', 5986, 'monitor@corp.example', { useSsl: true, authentication: 'kerberos' }],
        ['win03', 'winrm', 15985, 'monitor', { useSsl: false, authentication: 'negotiate' }],
        ['win04', 'ssh', 22, 'admin', undefined],
      ],
    );
    assert.doesNotMatch(JSON.stringify(inv.hosts), /secret/);
  });

  it('settings give the defaults of winrm_ssl and winrm_auth', () => {
    const inv = parseInventory('name,os\nwin01,windows\n', 'servers.csv', { ...DEFAULTS, winrmSsl: true, winrmAuthentication: 'negotiate' }, {});
    assert.deepEqual([inv.hosts[0]?.port, inv.hosts[0]?.winrm], [5986, { useSsl: true, authentication: 'negotiate' }]);
  });

  it('reports bad Windows rows with their line', () => {
    const text = [
      'name,address,transport,auth,os,winrm_ssl,winrm_auth',
      'w1,10.0.1.1,winrm,,linux,,',
      'w2,10.0.1.2,winrm,agent,windows,,',
      'w3,10.0.1.3,winrm,key:/k,windows,,',
      'w4,10.0.1.4,winrm,,windows,maybe,',
      'w5,10.0.1.5,winrm,,windows,,ntlm',
      'w6,10.0.1.6,winrm,,windows,no,basic',
      'w7,10.0.1.7,local,,windows,,',
      'w8,10.0.1.8,ssh,,linux,yes,',
    ].join('\n');
    assert.deepEqual(messages(text), [
      '2: error: transport winrm polls Windows hosts: set os=windows (or use transport=ssh)',
      "3: error: auth agent is for SSH; for winrm use password-env:<VAR>, or leave it empty to use the poller's own Windows identity",
      "4: error: auth key:<path> is for SSH; for winrm use password-env:<VAR>, or leave it empty to use the poller's own Windows identity",
      '5: error: winrm_ssl "maybe" is not yes or no',
      '6: error: winrm_auth "ntlm" is not one of default, negotiate, kerberos, credssp or basic',
      '7: error: winrm_auth=basic over HTTP would send the password readable on the network: set winrm_ssl=yes',
      '8: error: transport local runs the Linux probe on this machine: os=windows is not supported with it',
      '9: warning: winrm_ssl applies to transport=winrm only; ignored for transport=ssh',
    ]);
    assert.deepEqual(parse(text).hosts.map((h) => h.name), ['w8']);
  });

  it('push rows: push_interval or the settings\' default, errors and warnings with their line', () => {
    const text = [
      'name,address,transport,auth,os,push_interval',
      'dmz01,,push,,linux,60',
      'dmz02,,push,,windows,',
      'dmz03,,push,,linux,5',
      'dmz04,,push,,linux,often',
      'dmz05,,push,agent,linux,',
      'web01,10.0.0.1,ssh,,linux,60',
    ].join('\n');
    const inv = parseInventory(text, 'servers.csv', { ...DEFAULTS, pushIntervalSeconds: 120 }, {});
    assert.deepEqual(inv.hosts.map((h) => [h.name, h.transport, h.os, h.push?.intervalSeconds]), [
      ['dmz01', 'push', 'linux', 60],
      ['dmz02', 'push', 'windows', 120],
      ['dmz05', 'push', 'linux', 120],
      ['web01', 'ssh', 'linux', undefined],
    ]);
    assert.deepEqual(messages(text), [
      '4: error: push_interval "5" is not a whole number of seconds from 10 to 86400 (how often the host pushes)',
      '5: error: push_interval "often" is not a whole number of seconds from 10 to 86400 (how often the host pushes)',
      '6: warning: auth is not used by transport=push: the host proves itself with its push token ("fleetpoll token create <name>"); ignored',
      '7: warning: push_interval applies to transport=push only; ignored for transport=ssh',
    ]);
    assert.equal(parse('name,transport\ndmz01,push\n').hosts[0]?.push?.intervalSeconds, 300, 'the built-in default');
  });
});

describe('splitPlainRecords (the quote-free fast path)', () => {
  const viaCsvParse = (body: string, delimiter: string): unknown =>
    (csvParse(body, { delimiter, relax_column_count: true, trim: true, comment: '#', comment_no_infix: true, info: true }) as unknown as { record: string[]; info: { lines: number } }[]).map(
      (r) => [r.record, r.info.lines],
    );
  const viaSplit = (body: string, delimiter: string): unknown => splitPlainRecords(body, delimiter)?.map((r) => [r.record, r.info.lines]);

  it('gives exactly the records and line numbers csv-parse gives, on generated quote-free files', () => {
    const pieces = ['web1', 'db-2', ' ', '\t', '#', 'a#b', 'key:~/.ssh/id', '10.0.0.1', '', 'x y'];
    let seed = 11;
    const random = (n: number): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return Math.floor((seed / 2_147_483_648) * n);
    };
    let compared = 0;
    for (let round = 0; round < 2000; round += 1) {
      const delimiter = [',', ';', '\t'][random(3)] as string;
      const lineBreak = random(2) === 0 ? '\n' : '\r\n';
      const lines = Array.from({ length: 1 + random(6) }, () => {
        const kind = random(6);
        if (kind === 0) return '';
        if (kind === 1) return `${random(2) === 0 ? '' : '  '}# comment, with; delimiters`;
        return Array.from({ length: 1 + random(5) }, () => (pieces[random(pieces.length)] as string) + (pieces[random(pieces.length)] as string)).join(delimiter);
      });
      const body = lines.join(lineBreak) + (random(2) === 0 ? lineBreak : '');
      const fast = viaSplit(body, delimiter);
      if (fast === undefined) continue;
      assert.deepEqual(fast, viaCsvParse(body, delimiter), JSON.stringify(body));
      compared += 1;
    }
    assert.ok(compared > 1500, `only ${compared} files took the fast path`);
  });

  it('leaves quotes, mixed line breaks and unusual whitespace to csv-parse', () => {
    assert.equal(splitPlainRecords('name,address\n"web,1",a\n', ','), null);
    assert.equal(splitPlainRecords('name,address\r\nweb1,a\nweb2,b\n', ','), null);
    assert.equal(splitPlainRecords('name,address\rweb1,a\r', ','), null);
    assert.equal(splitPlainRecords('name,address\nweb1,\u00a0a\n', ','), null);
    // And parseInventory still reads such a file.
    const inventory = parseInventory('name,address\n"web,1",10.0.0.1\n', 'servers.csv', { user: 'u', port: 22 }, {});
    assert.equal(inventory.issues.length, 1, JSON.stringify(inventory.issues));
    assert.match(inventory.issues[0]?.message ?? '', /web,1/);
  });
});

