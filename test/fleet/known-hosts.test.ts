// Tests for src/fleet/known-hosts.ts and the format it reads (src/fleet/known-hosts-format.ts) against
// real OpenSSH tooling (ssh-keygen) and a real SSH protocol server (ssh2's Server) on loopback.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import ssh2 from 'ssh2';
import {
  checkHostKey,
  fingerprint,
  formatKnownHostsLine,
  hostKeyAlgorithmsFor,
  keyTypeOf,
  knownKeyTypes,
  lookupName,
  parseKnownHosts,
  type KnownHostEntry,
} from '../../src/fleet/known-hosts-format.js';
import { KnownHosts, preferHostKeyAlgorithms, type KnownHostsDecision } from '../../src/fleet/known-hosts.js';
import { readKnownHostsNames, writeKnownHostsNames } from '../../src/fleet/known-hosts-names.js';

interface TestKey {
  privatePath: string;
  publicPath: string;
  /** "keytype base64", as it appears after the host field of a known_hosts line. */
  typeAndKey: string;
  base64: string;
  blob: Buffer;
}

let dir: string;
let ed1: TestKey;
let ed2: TestKey;
let ec1: TestKey;
let rsa1: TestKey;

function makeKey(name: string, args: string[]): TestKey {
  const privatePath = join(dir, name);
  execFileSync('ssh-keygen', ['-q', ...args, '-N', '', '-C', '', '-f', privatePath]);
  const publicPath = `${privatePath}.pub`;
  const [type, base64] = readFileSync(publicPath, 'utf8').trim().split(/\s+/);
  assert.ok(type && base64);
  return { privatePath, publicPath, typeAndKey: `${type} ${base64}`, base64, blob: Buffer.from(base64, 'base64') };
}

let fileCounter = 0;
function tempFile(text: string): string {
  const file = join(dir, `kh-${++fileCounter}`);
  writeFileSync(file, text);
  return file;
}

function parseOk(text: string, file = 'kh'): KnownHostEntry[] {
  const { entries, errors } = parseKnownHosts(text, file);
  assert.deepEqual(errors, []);
  return entries;
}

/** "known", "recorded", ... or "refused: <reason>", so one assertion names the outcome. */
function accepted(d: KnownHostsDecision): string {
  return d.decision === 'accept' ? d.how : `refused: ${d.reason}`;
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'fleetpoll-known-hosts-'));
  ed1 = makeKey('ed1', ['-t', 'ed25519']);
  ed2 = makeKey('ed2', ['-t', 'ed25519']);
  ec1 = makeKey('ec1', ['-t', 'ecdsa', '-b', '256']);
  rsa1 = makeKey('rsa1', ['-t', 'rsa', '-b', '2048']);
});

after(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('key blobs', () => {
  test('fingerprint() equals ssh-keygen -l -E sha256 for ed25519, ecdsa and rsa', () => {
    for (const key of [ed1, ec1, rsa1]) {
      const out = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', key.publicPath], { encoding: 'utf8' });
      const expected = out.split(/\s+/)[1];
      assert.match(expected ?? '', /^SHA256:[A-Za-z0-9+/]{43}$/);
      assert.equal(fingerprint(key.blob), expected);
    }
  });

  test('keyTypeOf() reads the type embedded in the blob', () => {
    assert.equal(keyTypeOf(ed1.blob), 'ssh-ed25519');
    assert.equal(keyTypeOf(ec1.blob), 'ecdsa-sha2-nistp256');
    assert.equal(keyTypeOf(rsa1.blob), 'ssh-rsa');
  });

  test('keyTypeOf() rejects blobs that do not start with an SSH string', () => {
    assert.throws(() => keyTypeOf(Buffer.alloc(0)), RangeError);
    assert.throws(() => keyTypeOf(Buffer.from([0, 0, 0, 0])), RangeError);
    assert.throws(() => keyTypeOf(Buffer.from([0, 0, 0, 9, 0x61])), RangeError);
  });

  test('hostKeyAlgorithmsFor() maps RSA blobs to every RSA signature algorithm', () => {
    assert.deepEqual(hostKeyAlgorithmsFor('ssh-rsa'), ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
    assert.deepEqual(hostKeyAlgorithmsFor('ssh-ed25519'), ['ssh-ed25519']);
    assert.deepEqual(hostKeyAlgorithmsFor('ecdsa-sha2-nistp384'), ['ecdsa-sha2-nistp384']);
  });
});

describe('parseKnownHosts', () => {
  test('keeps good lines and reports each bad one with file:line', () => {
    const lines = [
      '# a comment',
      '',
      `a.example.com ${ed1.typeAndKey}`,
      'b.example.com ssh-ed25519',
      'c.example.com ssh-ed25519 not*base64',
      `d.example.com ssh-rsa ${ed1.base64}`,
      `@bogus e.example.com ${ed1.typeAndKey}`,
      `|1|abc|def ${ed1.typeAndKey}`,
      'f.example.com 2048 65537 1234567',
      `  g.example.com ${ed1.typeAndKey} a comment after the key\r`,
      `h.example.com rsa-sha2-512 ${rsa1.base64}`,
      `@revoked * ${ed2.typeAndKey}`,
      `@cert-authority *.example.com ${ec1.typeAndKey}`,
      'i.example.com ssh-ed25519 AAAA',
      '   \t ',
    ];
    const { entries, errors } = parseKnownHosts(lines.join('\n'), '/etc/kh');
    assert.deepEqual(errors, [
      '/etc/kh:4: expected "hosts keytype key"',
      '/etc/kh:5: key is not valid base64',
      '/etc/kh:6: key type ssh-rsa does not match key data (ssh-ed25519)',
      '/etc/kh:7: unknown marker "@bogus"',
      '/etc/kh:8: malformed hashed host name',
      '/etc/kh:9: SSH-1 RSA keys are not supported',
      '/etc/kh:14: key data is not an SSH public key',
    ]);
    assert.deepEqual(
      entries.map((e) => [e.line, e.marker, e.patterns, e.keyType]),
      [
        [3, null, 'a.example.com', 'ssh-ed25519'],
        [10, null, 'g.example.com', 'ssh-ed25519'],
        [11, null, 'h.example.com', 'ssh-rsa'],
        [12, 'revoked', '*', 'ssh-ed25519'],
        [13, 'cert-authority', '*.example.com', 'ecdsa-sha2-nistp256'],
      ],
    );
    assert.ok(entries.every((e) => e.file === '/etc/kh'));
    assert.ok(entries[0]?.keyBlob.equals(ed1.blob));
  });
});

describe('checkHostKey matching', () => {
  test('plain names match case-insensitively and only on port 22', () => {
    const entries = parseOk(`Web1.Example.COM,10.0.0.1 ${ed1.typeAndKey}\n`);
    assert.equal(checkHostKey(entries, 'web1.example.com', 22, ed1.blob).verdict, 'match');
    assert.equal(checkHostKey(entries, 'WEB1.example.com', 22, ed1.blob).verdict, 'match');
    assert.equal(checkHostKey(entries, '10.0.0.1', 22, ed1.blob).verdict, 'match');
    assert.equal(checkHostKey(entries, '10.0.0.1', 2222, ed1.blob).verdict, 'unknown');
    assert.equal(checkHostKey(entries, 'web2.example.com', 22, ed1.blob).verdict, 'unknown');
  });

  test('[host]:port patterns match only that port', () => {
    const entries = parseOk(`[10.0.0.5]:2200 ${ed1.typeAndKey}\n`);
    assert.equal(lookupName('10.0.0.5', 2200), '[10.0.0.5]:2200');
    assert.equal(checkHostKey(entries, '10.0.0.5', 2200, ed1.blob).verdict, 'match');
    assert.equal(checkHostKey(entries, '10.0.0.5', 22, ed1.blob).verdict, 'unknown');
    assert.equal(checkHostKey(entries, '10.0.0.5', 2201, ed1.blob).verdict, 'unknown');
  });

  test('* and ? wildcards, and a negated pattern excludes the line', () => {
    const entries = parseOk(`*.prod.example.com,!db?.prod.example.com,[*.lab]:* ${ed1.typeAndKey}\n`);
    assert.equal(checkHostKey(entries, 'web7.prod.example.com', 22, ed1.blob).verdict, 'match');
    assert.equal(checkHostKey(entries, 'a.b.prod.example.com', 22, ed1.blob).verdict, 'match');
    assert.equal(checkHostKey(entries, 'db1.prod.example.com', 22, ed1.blob).verdict, 'unknown');
    // `?` is exactly one character, so db12 is not excluded.
    assert.equal(checkHostKey(entries, 'db12.prod.example.com', 22, ed1.blob).verdict, 'match');
    assert.equal(checkHostKey(entries, 'prod.example.com', 22, ed1.blob).verdict, 'unknown');
    assert.equal(checkHostKey(entries, 'web7.prod.example.com', 2222, ed1.blob).verdict, 'unknown');
    assert.equal(checkHostKey(entries, 'x.lab', 2222, ed1.blob).verdict, 'match');
    assert.equal(checkHostKey(entries, 'x.lab', 22, ed1.blob).verdict, 'unknown');
  });

  test('finds names in lines hashed by ssh-keygen -H', () => {
    const file = tempFile(
      [
        `web1.example.com,10.0.0.1 ${ed1.typeAndKey}`,
        `[10.0.0.5]:2200 ${ec1.typeAndKey}`,
        `*.wild.example.com ${rsa1.typeAndKey}`,
        '',
      ].join('\n'),
    );
    execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
    const text = readFileSync(file, 'utf8');
    const entries = parseOk(text, file);
    // One hashed line per name; ssh-keygen leaves wildcard lines in clear.
    assert.deepEqual(
      entries.map((e) => e.patterns.startsWith('|1|')),
      [true, true, true, false],
    );
    assert.ok(!text.includes('web1.example.com'));
    assert.equal(checkHostKey(entries, 'web1.example.com', 22, ed1.blob).verdict, 'match');
    assert.equal(checkHostKey(entries, 'WEB1.example.com', 22, ed1.blob).verdict, 'match');
    assert.equal(checkHostKey(entries, '10.0.0.1', 22, ed1.blob).verdict, 'match');
    assert.equal(checkHostKey(entries, '10.0.0.5', 2200, ec1.blob).verdict, 'match');
    assert.equal(checkHostKey(entries, '10.0.0.5', 22, ec1.blob).verdict, 'unknown');
    assert.equal(checkHostKey(entries, 'web2.example.com', 22, ed1.blob).verdict, 'unknown');
    assert.equal(checkHostKey(entries, 'web1.example.com', 22, ed2.blob).verdict, 'mismatch');
    assert.equal(checkHostKey(entries, 'a.wild.example.com', 22, rsa1.blob).verdict, 'match');
  });
});

describe('checkHostKey verdicts', () => {
  test('same key matches and returns the entry', () => {
    const entries = parseOk(`# first\nhost1 ${ec1.typeAndKey}\nhost1 ${ed1.typeAndKey}\n`, 'f');
    const verdict = checkHostKey(entries, 'host1', 22, ed1.blob);
    assert.equal(verdict.verdict, 'match');
    assert.equal(verdict.verdict === 'match' && verdict.entry.line, 3);
  });

  test('another key of a known type is a mismatch listing the expected entries', () => {
    const entries = parseOk(`host1 ${ed1.typeAndKey}\nhost1 ${ec1.typeAndKey}\n`, 'f');
    const verdict = checkHostKey(entries, 'host1', 22, ed2.blob);
    assert.deepEqual(
      verdict.verdict === 'mismatch' && {
        lines: verdict.expected.map((e) => e.line),
        presented: verdict.presentedFingerprint,
      },
      { lines: [1], presented: fingerprint(ed2.blob) },
    );
  });

  test('a host known only under other key types is new-type, never match or unknown', () => {
    const entries = parseOk(`host1 ${ec1.typeAndKey}\nhost1 ${rsa1.typeAndKey}\nhost1 ${ec1.typeAndKey}\n`);
    assert.deepEqual(checkHostKey(entries, 'host1', 22, ed1.blob), {
      verdict: 'new-type',
      knownTypes: ['ecdsa-sha2-nistp256', 'ssh-rsa'],
    });
  });

  test('a revoked key is refused even when another line trusts it', () => {
    const entries = parseOk(`host1 ${ed1.typeAndKey}\n@revoked * ${ed1.typeAndKey}\n`);
    const verdict = checkHostKey(entries, 'host1', 22, ed1.blob);
    assert.equal(verdict.verdict, 'revoked');
    assert.equal(verdict.verdict === 'revoked' && verdict.entry.line, 2);
    // The revocation is scoped by its host patterns, as in OpenSSH.
    const scoped = parseOk(`host1 ${ed1.typeAndKey}\n@revoked other ${ed1.typeAndKey}\n`);
    assert.equal(checkHostKey(scoped, 'host1', 22, ed1.blob).verdict, 'match');
  });

  test('@cert-authority lines are ignored', () => {
    const entries = parseOk(`@cert-authority * ${ed1.typeAndKey}\n`);
    assert.deepEqual(checkHostKey(entries, 'host1', 22, ed1.blob), { verdict: 'unknown' });
    assert.deepEqual(knownKeyTypes(entries, 'host1', 22), []);
  });

  test('an RSA line written with a signature algorithm name still matches the ssh-rsa blob', () => {
    const entries = parseOk(`host1 rsa-sha2-256 ${rsa1.base64}\n`);
    assert.equal(checkHostKey(entries, 'host1', 22, rsa1.blob).verdict, 'match');
    assert.deepEqual(knownKeyTypes(entries, 'host1', 22), ['ssh-rsa']);
  });
});

describe('knownKeyTypes and preferHostKeyAlgorithms', () => {
  test('known types come first, keeping the order of the available list', () => {
    const entries = parseOk(
      [`host1 ${rsa1.typeAndKey}`, `host1 ${ec1.typeAndKey}`, `@revoked host1 ${ed1.typeAndKey}`, `host2 ${ed2.typeAndKey}`].join(
        '\n',
      ),
    );
    const types = knownKeyTypes(entries, 'host1', 22);
    assert.deepEqual(types, ['ssh-rsa', 'ecdsa-sha2-nistp256']);
    assert.deepEqual(preferHostKeyAlgorithms(types), [
      'ecdsa-sha2-nistp256',
      'rsa-sha2-512',
      'rsa-sha2-256',
      'ssh-rsa',
      'ssh-ed25519',
      'ecdsa-sha2-nistp384',
      'ecdsa-sha2-nistp521',
    ]);
    assert.deepEqual(preferHostKeyAlgorithms([], ['a', 'b']), ['a', 'b']);
  });
});

describe('formatKnownHostsLine', () => {
  test('writes plain names on port 22 and [addr]:port otherwise, and reads back', () => {
    assert.equal(formatKnownHostsLine('Web1.Example.com', 22, ed1.blob), `web1.example.com ${ed1.typeAndKey}`);
    const line = formatKnownHostsLine('127.0.0.1', 2222, ec1.blob);
    assert.equal(line, `[127.0.0.1]:2222 ${ec1.typeAndKey}`);
    assert.equal(checkHostKey(parseOk(line), '127.0.0.1', 2222, ec1.blob).verdict, 'match');
  });

  test('refuses addresses that would become patterns', () => {
    for (const bad of ['*', 'a,b', '!a', 'a b', '|1|x', '']) {
      assert.throws(() => formatKnownHostsLine(bad, 22, ed1.blob), RangeError, bad);
    }
  });
});

describe('KnownHosts', () => {
  test('does no I/O before load() and refuses to check before it', () => {
    const kh = new KnownHosts({ mode: 'strict', userFile: join(dir, 'never', 'known_hosts'), systemFile: null });
    assert.throws(() => kh.check('h', 22, ed1.blob), /load\(\)/);
    assert.equal(existsSync(join(dir, 'never')), false);
  });

  test('accept-new records into a new 0700 dir / 0600 file that ssh-keygen -F finds', async () => {
    const sshDir = join(dir, 'home-accept', '.ssh');
    const userFile = join(sshDir, 'known_hosts');
    const kh = new KnownHosts({ mode: 'accept-new', userFile, systemFile: null });
    assert.deepEqual(await kh.load(), { errors: [], hashed: 0 });

    assert.equal(accepted(await kh.verify('127.0.0.1', 2222, ed1.blob)), 'recorded');
    assert.equal(statSync(userFile).mode & 0o777, 0o600);
    assert.equal(statSync(sshDir).mode & 0o777, 0o700);
    const found = spawnSync('ssh-keygen', ['-F', '[127.0.0.1]:2222', '-f', userFile], { encoding: 'utf8' });
    assert.equal(found.status, 0);
    assert.ok(found.stdout.includes(ed1.base64));

    assert.equal(accepted(await kh.verify('127.0.0.1', 2222, ed1.blob)), 'known');
    const changed = await kh.verify('127.0.0.1', 2222, ed2.blob);
    assert.equal(accepted(changed), 'refused: mismatch');
    assert.match(changed.decision === 'refuse' ? changed.message : '', new RegExp(`known_hosts:1`));
    assert.equal(readFileSync(userFile, 'utf8'), `[127.0.0.1]:2222 ${ed1.typeAndKey}\n`);

    // A fresh instance sees what the first one wrote.
    const again = new KnownHosts({ mode: 'strict', userFile, systemFile: null });
    await again.load();
    assert.equal(accepted(await again.verify('127.0.0.1', 2222, ed1.blob)), 'known');
  });

  test('concurrent records for 20 hosts write 20 well-formed lines; one host racing itself writes one', async () => {
    const userFile = join(dir, 'home-race', '.ssh', 'known_hosts');
    const kh = new KnownHosts({ mode: 'accept-new', userFile, systemFile: null });
    await kh.load();
    const keys = [ed1, ed2, ec1, rsa1];
    const hosts = Array.from({ length: 20 }, (_, i) => ({ address: `10.1.0.${i + 1}`, port: 2200 + i, key: keys[i % 4]! }));
    const decisions = await Promise.all([
      ...hosts.map((h) => kh.verify(h.address, h.port, h.key.blob)),
      ...Array.from({ length: 5 }, () => kh.verify('same.example.com', 22, ed1.blob)),
    ]);
    assert.deepEqual(decisions.slice(0, 20).map(accepted), Array(20).fill('recorded'));
    assert.deepEqual(decisions.slice(20).map(accepted).sort(), ['known', 'known', 'known', 'known', 'recorded']);

    const text = readFileSync(userFile, 'utf8');
    assert.equal(text.split('\n').length, 22);
    assert.ok(text.endsWith('\n'));
    const entries = parseOk(text, userFile);
    assert.equal(entries.length, 21);
    for (const h of hosts) {
      assert.equal(checkHostKey(entries, h.address, h.port, h.key.blob).verdict, 'match', h.address);
    }
    const found = spawnSync('ssh-keygen', ['-F', '[10.1.0.20]:2219', '-f', userFile], { encoding: 'utf8' });
    assert.equal(found.status, 0);
    assert.ok(found.stdout.includes(rsa1.base64));
    assert.equal(statSync(userFile).mode & 0o777, 0o600);
  });

  test('adds a newline before appending to a file that lacks one', async () => {
    const userFile = tempFile(`old.example.com ${ec1.typeAndKey}`);
    const kh = new KnownHosts({ mode: 'accept-new', userFile, systemFile: null });
    await kh.load();
    assert.equal(accepted(await kh.verify('new.example.com', 22, ed1.blob)), 'recorded');
    assert.equal(
      readFileSync(userFile, 'utf8'),
      `old.example.com ${ec1.typeAndKey}\nnew.example.com ${ed1.typeAndKey}\n`,
    );
    const changed = await kh.verify('new.example.com', 22, ed2.blob);
    assert.match(changed.decision === 'refuse' ? changed.message : '', /:2$/);
  });

  test('strict refuses unknown hosts without writing; the system file is consulted but never written', async () => {
    const userFile = join(dir, 'home-strict', 'known_hosts');
    const systemText = `sys.example.com ${ec1.typeAndKey}\nbroken line\n`;
    const systemFile = tempFile(systemText);
    const kh = new KnownHosts({ mode: 'strict', userFile, systemFile });
    assert.deepEqual(await kh.load(), { errors: [`${systemFile}:2: expected "hosts keytype key"`], hashed: 0 });
    assert.equal(accepted(await kh.verify('sys.example.com', 22, ec1.blob)), 'known');
    assert.equal(accepted(await kh.verify('other.example.com', 22, ed1.blob)), 'refused: unknown');
    assert.equal(existsSync(userFile), false);

    const acceptNew = new KnownHosts({ mode: 'accept-new', userFile, systemFile });
    await acceptNew.load();
    assert.equal(accepted(await acceptNew.verify('other.example.com', 22, ed1.blob)), 'recorded');
    assert.equal(readFileSync(systemFile, 'utf8'), systemText);
    assert.equal(readFileSync(userFile, 'utf8'), `other.example.com ${ed1.typeAndKey}\n`);
  });

  test('accept-new refuses a new key type for a known host and does not record it', async () => {
    const text = `host1 ${ec1.typeAndKey}\n`;
    const userFile = tempFile(text);
    const kh = new KnownHosts({ mode: 'accept-new', userFile, systemFile: null });
    await kh.load();
    const decision = await kh.verify('host1', 22, ed1.blob);
    assert.equal(accepted(decision), 'refused: new-type');
    assert.match(decision.decision === 'refuse' ? decision.message : '', /ecdsa-sha2-nistp256/);
    assert.equal(readFileSync(userFile, 'utf8'), text);
  });

  test('revoked keys are refused in every checking mode', async () => {
    const userFile = tempFile(`@revoked * ${ed2.typeAndKey}\n`);
    for (const mode of ['strict', 'accept-new'] as const) {
      const kh = new KnownHosts({ mode, userFile, systemFile: null });
      await kh.load();
      assert.equal(accepted(await kh.verify('any.example.com', 22, ed2.blob)), 'refused: revoked');
    }
  });

  test('off accepts anything without reading files', async () => {
    const kh = new KnownHosts({ mode: 'off', userFile: join(dir, 'no-such-dir'), systemFile: null });
    await kh.load();
    assert.equal(accepted(await kh.verify('h', 22, ed1.blob)), 'unchecked');
  });

  test('an unreadable file fails load(); an unwritable one accepts for this run only', async () => {
    const notAFile = join(dir, 'a-directory');
    mkdirSync(notAFile);
    await assert.rejects(new KnownHosts({ mode: 'strict', userFile: notAFile, systemFile: null }).load(), /a-directory/);

    const blocker = tempFile('');
    const kh = new KnownHosts({ mode: 'accept-new', userFile: join(blocker, 'known_hosts'), systemFile: null });
    await kh.load();
    const first = await kh.verify('h', 22, ed1.blob);
    assert.equal(accepted(first), 'unsaved');
    assert.match(first.decision === 'accept' && first.how === 'unsaved' ? first.error : '', /cannot write/);
    assert.equal(accepted(await kh.verify('h', 22, ed1.blob)), 'known');
    assert.equal(accepted(await kh.verify('h', 22, ed2.blob)), 'refused: mismatch');
  });

  test('a malformed presented key is refused, not thrown', async () => {
    const kh = new KnownHosts({ mode: 'accept-new', userFile: join(dir, 'home-bad', 'kh'), systemFile: null });
    await kh.load();
    assert.equal(accepted(await kh.verify('h', 22, Buffer.from('junk'))), 'refused: invalid-key');
    assert.equal(existsSync(join(dir, 'home-bad')), false);
  });
});

/** A host field as ssh-keygen -H writes it: |1|base64(salt)|base64(HMAC-SHA1(salt, name)). */
function hashedField(name: string): string {
  const salt = randomBytes(20);
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
}

describe('hashed known_hosts lines at fleet scale', () => {
  const HOSTS = 200;
  const names = Array.from({ length: HOSTS }, (_, i) => `[10.1.${i >> 8}.${i & 255}]:2222`);
  // Even hosts pin ed1, odd hosts ec1, so a line attributed to the wrong host would show as a wrong verdict.
  const keyOf = (i: number): TestKey => (i % 2 === 0 ? ed1 : ec1);
  let userFile: string;
  let fields: string[];

  before(() => {
    fields = names.map(hashedField);
    const lines = [
      ...names.map((_, i) => `${fields[i]} ${keyOf(i).typeAndKey}`),
      `@revoked ${hashedField(names[4] as string)} ${ed1.typeAndKey}`,
      // Host 3 again, in clear after its hashed line: indexed at load, before the hashed one is found.
      `${names[3]} ${ed2.typeAndKey}`,
    ];
    userFile = tempFile(`${lines.join('\n')}\n`);
  });

  async function verdicts(kh: KnownHosts): Promise<string[]> {
    const out: string[] = [];
    for (let i = 0; i < HOSTS; i += 1) {
      const [address, port] = (names[i] as string).slice(1).split(']:');
      out.push(accepted(await kh.verify(address as string, Number(port), keyOf(i).blob)));
    }
    return out;
  }

  const expected = names.map((_, i) => (i === 4 ? 'refused: revoked' : 'known'));

  test('a scan finds each line\'s host once; the saved names spare the next load every scan', async () => {
    const first = new KnownHosts({ mode: 'strict', userFile, systemFile: null });
    assert.deepEqual(await first.load(), { errors: [], hashed: HOSTS + 1 });
    assert.deepEqual(await verdicts(first), expected);
    assert.equal(first.newlyResolved, HOSTS + 1);
    assert.equal(first.resolvedNames().get(fields[7] as string), names[7]);

    const saved = join(dir, 'names', 'known-hosts-names.json');
    mkdirSync(join(dir, 'names'));
    await writeKnownHostsNames(saved, first.resolvedNames());
    assert.equal(statSync(saved).mode & 0o777, 0o600);
    const read = await readKnownHostsNames(saved);
    assert.deepEqual([...read].sort(), [...first.resolvedNames()].sort());

    const second = new KnownHosts({ mode: 'strict', userFile, systemFile: null });
    assert.deepEqual(await second.load(), { errors: [], hashed: HOSTS + 1 });
    assert.equal(second.useResolvedNames(read), HOSTS + 1);
    assert.deepEqual(await verdicts(second), expected);
    assert.equal(second.newlyResolved, 0, 'no line needed an HMAC scan');

    // Host 3's lines stay in file order: the hashed one (ec1, line 4) before the plain one (ed2, line 202).
    for (const kh of [first, second]) assert.deepEqual(kh.knownKeyTypes('10.1.0.3', 2222), ['ecdsa-sha2-nistp256', 'ssh-ed25519']);
    const fresh = new KnownHosts({ mode: 'strict', userFile, systemFile: null });
    await fresh.load();
    assert.deepEqual(fresh.knownKeyTypes('10.1.0.3', 2222), ['ecdsa-sha2-nistp256', 'ssh-ed25519'], 'found by a scan');
  });

  test('saved names that do not verify are rescanned, never trusted', async () => {
    const tampered = new Map<string, string>();
    for (let i = 0; i < HOSTS; i += 1) tampered.set(fields[i] as string, names[i] as string);
    // Host 0's line claimed for host 1 and the reverse; a line that is not in the file; a plain field.
    tampered.set(fields[0] as string, names[1] as string);
    tampered.set(fields[1] as string, names[0] as string);
    tampered.set(hashedField('gone.example.com'), 'gone.example.com');
    const kh = new KnownHosts({ mode: 'accept-new', userFile, systemFile: null });
    await kh.load();
    assert.equal(kh.useResolvedNames(tampered), HOSTS - 2);
    assert.deepEqual(await verdicts(kh), expected);
    assert.equal(kh.newlyResolved, 3, 'hosts 0 and 1, and the revoked line');
    assert.equal(accepted(await kh.verify('10.1.0.1', 2222, ed1.blob)), 'refused: new-type', 'host 1 still pins ec1 only');
  });

  test('a missing, corrupt or foreign names file reads as empty', async () => {
    assert.equal((await readKnownHostsNames(join(dir, 'no-such-names.json'))).size, 0);
    assert.equal((await readKnownHostsNames(tempFile('{"lines": {'))).size, 0);
    assert.equal((await readKnownHostsNames(tempFile('{"format":"other","version":1,"lines":{"|1|a|b":"h"}}'))).size, 0);
    const mixed = await readKnownHostsNames(tempFile('{"format":"fleetpoll-known-hosts-names","version":1,"lines":{"|1|a|b":"h","plain":"x","|1|c|d":7}}'));
    assert.deepEqual([...mixed], [['|1|a|b', 'h']]);
  });
});

// A real SSH handshake: proves ssh2's hostVerifier hands us the raw blob our matcher expects,
// and that preferring known types steers the server to the pinned key.
describe('with an ssh2 client and server on loopback', () => {
  let server: ssh2.Server;
  let port: number;

  before(async () => {
    // Ed25519 first so it is what an unsteered client negotiates (ssh2's default order).
    server = new ssh2.Server(
      { hostKeys: [readFileSync(ed1.privatePath), readFileSync(ec1.privatePath)] },
      (client) => {
        client.on('authentication', (ctx) => ctx.accept());
        client.on('error', () => undefined);
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  function connect(kh: KnownHosts, serverHostKey?: string[]): Promise<{ outcome: string; decision?: KnownHostsDecision }> {
    return new Promise((resolve) => {
      const client = new ssh2.Client();
      let decision: KnownHostsDecision | undefined;
      const finish = (outcome: string) => {
        client.end();
        resolve({ outcome, decision });
      };
      client.on('ready', () => finish('ready'));
      client.on('error', (err) => finish(`error: ${err.message}`));
      client.connect({
        host: '127.0.0.1',
        port,
        username: 'fleetpoll',
        readyTimeout: 5000,
        ...(serverHostKey ? { algorithms: { serverHostKey: serverHostKey as ssh2.ServerHostKeyAlgorithm[] } } : {}),
        hostVerifier: (key: Buffer, verify: (valid: boolean) => void) => {
          void kh.verify('127.0.0.1', port, key).then((d) => {
            decision = d;
            verify(d.decision === 'accept');
          });
        },
      });
    });
  }

  test('accept-new pins the key the server presented, then trusts it', async () => {
    const userFile = join(dir, 'home-ssh2', 'known_hosts');
    const kh = new KnownHosts({ mode: 'accept-new', userFile, systemFile: null });
    await kh.load();
    const first = await connect(kh);
    assert.equal(first.outcome, 'ready');
    assert.equal(first.decision && accepted(first.decision), 'recorded');
    assert.equal(readFileSync(userFile, 'utf8'), `[127.0.0.1]:${port} ${ed1.typeAndKey}\n`);
    const second = await connect(kh);
    assert.equal(second.decision && accepted(second.decision), 'known');
  });

  test('preferring the known key type avoids a false new-type refusal', async () => {
    const userFile = tempFile(`[127.0.0.1]:${port} ${ec1.typeAndKey}\n`);
    const kh = new KnownHosts({ mode: 'strict', userFile, systemFile: null });
    await kh.load();

    const unsteered = await connect(kh);
    assert.match(unsteered.outcome, /^error: /);
    assert.equal(unsteered.decision && accepted(unsteered.decision), 'refused: new-type');

    const algorithms = preferHostKeyAlgorithms(kh.knownKeyTypes('127.0.0.1', port));
    assert.equal(algorithms[0], 'ecdsa-sha2-nistp256');
    const steered = await connect(kh, algorithms);
    assert.equal(steered.outcome, 'ready');
    assert.equal(steered.decision && accepted(steered.decision), 'known');
  });

  test('a changed key of the pinned type is refused as a mismatch', async () => {
    const userFile = tempFile(`[127.0.0.1]:${port} ${ed2.typeAndKey}\n`);
    const kh = new KnownHosts({ mode: 'accept-new', userFile, systemFile: null });
    await kh.load();
    const result = await connect(kh);
    assert.match(result.outcome, /^error: /);
    assert.equal(result.decision && accepted(result.decision), 'refused: mismatch');
    assert.equal(readFileSync(userFile, 'utf8'), `[127.0.0.1]:${port} ${ed2.typeAndKey}\n`);
  });
});
