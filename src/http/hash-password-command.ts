// `fleetpoll http hash-password`: reads a password (typed without echo, or piped on stdin) and
// prints its scrypt hash for http.users. The password is never taken as an argument: command
// lines are visible to every user of the machine (ps) and kept in shell histories.
import { DEFAULT_SCRYPT_COST, hashPassword, type ScryptCost } from './password.js';

// Where the command reads and writes (the process's streams in the CLI, buffers in tests).
export interface HashPasswordIo {
  readonly stdin: NodeJS.ReadStream | NodeJS.ReadableStream;
  out(text: string): void;
  err(text: string): void;
}

// Exit codes: 0 printed, 2 no usable password.
export const HASH_PASSWORD_EXIT = { ok: 0, usage: 2 } as const;

/** Runs the command; resolves to its exit code. */
export async function hashPasswordCommand(io: HashPasswordIo, cost: ScryptCost = DEFAULT_SCRYPT_COST): Promise<number> {
  const tty = 'isTTY' in io.stdin && io.stdin.isTTY === true && 'setRawMode' in io.stdin;
  let password: string | null;
  if (tty) {
    const stdin = io.stdin as NodeJS.ReadStream;
    password = await promptHidden(stdin, 'Password: ', io);
    const again = password === null ? null : await promptHidden(stdin, 'Again: ', io);
    if (password !== null && again !== password) {
      io.err('fleetpoll: the two passwords differ; nothing printed\n');
      return HASH_PASSWORD_EXIT.usage;
    }
  } else {
    // Piped: the whole input is the password, less one line ending (echo adds one).
    password = (await readAll(io.stdin)).replace(/\r?\n$/, '');
  }
  if (password === null || password === '') {
    io.err('fleetpoll: no password given (type it when asked, or pipe it on stdin)\n');
    return HASH_PASSWORD_EXIT.usage;
  }
  if (/[\r\n]/.test(password)) {
    io.err('fleetpoll: the password holds a line break; give one line\n');
    return HASH_PASSWORD_EXIT.usage;
  }
  io.out(`${await hashPassword(password, cost)}\n`);
  if (tty) io.err('Put it in fleetpoll.config.json as "http": { "users": { "<name>": "<the line above>" } }\n');
  return HASH_PASSWORD_EXIT.ok;
}

function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolveRead, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer | string) => chunks.push(typeof c === 'string' ? Buffer.from(c) : c));
    stream.on('end', () => resolveRead(Buffer.concat(chunks).toString('utf8')));
    stream.on('error', reject);
  });
}

// Reads one line in raw mode, echoing nothing; null on Ctrl-C or Ctrl-D.
function promptHidden(stdin: NodeJS.ReadStream, prompt: string, io: HashPasswordIo): Promise<string | null> {
  io.err(prompt);
  return new Promise((resolveLine) => {
    let line = '';
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    const done = (value: string | null): void => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      io.err('\n');
      resolveLine(value);
    };
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return done(line);
        if (ch === '\u0003' || ch === '\u0004') return done(null);
        if (ch === '\u007f' || ch === '\b') line = line.slice(0, -1);
        else line += ch;
      }
    };
    stdin.on('data', onData);
  });
}
