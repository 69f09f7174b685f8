// `fleetpoll http hash-password`: a piped password becomes a hash that verifies; nothing else is accepted.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { hashPasswordCommand } from '../../src/http/hash-password-command.js';
import { parsePasswordHash, verifyPassword, type PasswordHash } from '../../src/http/password.js';
import { CLI } from '../helpers/cli.js';

const cheap = { n: 1024, r: 8, p: 1 };

async function run(input: string): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await hashPasswordCommand({ stdin: Readable.from([Buffer.from(input)]), out: (t) => (out += t), err: (t) => (err += t) }, cheap);
  return { code, out, err };
}

describe('http hash-password', () => {
  it('hashes a piped password, less its line ending', async () => {
    const { code, out, err } = await run('pass word\n');
    assert.equal(code, 0);
    assert.equal(err, '');
    const parsed = parsePasswordHash(out.trim()) as PasswordHash;
    assert.equal(await verifyPassword('pass word', parsed), true);
    assert.equal(await verifyPassword('pass word\n', parsed), false);
  });

  it('refuses an empty input or more than one line', async () => {
    assert.deepEqual(await run(''), { code: 2, out: '', err: 'fleetpoll: no password given (type it when asked, or pipe it on stdin)\n' });
    assert.deepEqual(await run('\n'), { code: 2, out: '', err: 'fleetpoll: no password given (type it when asked, or pipe it on stdin)\n' });
    assert.deepEqual(await run('a\nb\n'), { code: 2, out: '', err: 'fleetpoll: the password holds a line break; give one line\n' });
  });

  it('runs from the command line with the default cost', async () => {
    const child = spawn(process.execPath, [CLI, 'http', 'hash-password'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stdin.end('correct horse battery staple\n');
    const code = await new Promise<number | null>((resolveExit) => child.on('close', resolveExit));
    assert.equal(code, 0);
    assert.match(stdout, /^scrypt\$32768\$8\$3\$\S+\n$/);
    assert.equal(await verifyPassword('correct horse battery staple', parsePasswordHash(stdout.trim()) as PasswordHash), true);
  });
});
