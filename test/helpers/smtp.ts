// A real SMTP server (smtp-server) on 127.0.0.1 for tests: collects parsed mails, can refuse or go away.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

// One message as the server received it.
export interface ReceivedMail {
  readonly envelopeFrom: string;
  readonly envelopeTo: readonly string[];
  readonly subject: string;
  readonly text: string;
  readonly html: string;
  readonly parsed: ParsedMail;
  /** The user that authenticated, if any. */
  readonly user: string | null;
  /** Whether the session was encrypted when the message arrived. */
  readonly secure: boolean;
}

// What the server answers to DATA: accept, a temporary 451, or a permanent 554.
export type SmtpMode = 'accept' | 'tempfail' | 'reject';

// How the test server behaves.
export interface SmtpServerOptions {
  /** Listen on this port (restart on a known port); default: a random free port. */
  readonly port?: number;
  /** Implicit TLS from the first byte. */
  readonly secure?: boolean;
  /** Certificate and key (PEM) for STARTTLS or implicit TLS; without them STARTTLS is not offered. */
  readonly tls?: { readonly key: string; readonly cert: string };
  /** Accounts allowed to AUTH; when set, AUTH is required. */
  readonly users?: Readonly<Record<string, string>>;
  /** Answer nothing after accepting the connection (a hung server). */
  readonly silent?: boolean;
}

// A running test server; `stop()` leaves nothing listening on the port.
export interface SmtpTestServer {
  readonly port: number;
  readonly messages: ReceivedMail[];
  mode: SmtpMode;
  /** Resolves once `count` messages have arrived (rejects after timeoutMs). */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedMail[]>;
  stop(): Promise<void>;
}

/** Starts a server on 127.0.0.1. */
export async function startSmtpServer(options: SmtpServerOptions = {}): Promise<SmtpTestServer> {
  const messages: ReceivedMail[] = [];
  const waiters: (() => void)[] = [];
  const state = { mode: 'accept' as SmtpMode };
  const users = options.users;
  const server = new SMTPServer({
    secure: options.secure === true,
    key: options.tls?.key,
    cert: options.tls?.cert,
    hideSTARTTLS: options.tls === undefined,
    authOptional: users === undefined,
    authMethods: ['PLAIN', 'LOGIN'],
    disabledCommands: users === undefined ? ['AUTH'] : [],
    logger: false,
    size: 50 * 1024 * 1024,
    onConnect(_session, callback) {
      if (options.silent === true) return; // never answers: the client must time out
      callback();
    },
    onAuth(auth, _session, callback) {
      if (users !== undefined && auth.username !== undefined && users[auth.username] === auth.password) {
        callback(null, { user: auth.username });
      } else {
        callback(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
      }
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if (state.mode === 'tempfail') {
          callback(Object.assign(new Error('Mailbox temporarily unavailable, try later'), { responseCode: 451 }));
          return;
        }
        if (state.mode === 'reject') {
          callback(Object.assign(new Error('Message rejected by policy'), { responseCode: 554 }));
          return;
        }
        const raw = Buffer.concat(chunks);
        simpleParser(raw).then(
          (parsed) => {
            messages.push({
              envelopeFrom: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address,
              envelopeTo: session.envelope.rcptTo.map((r) => r.address),
              subject: parsed.subject ?? '',
              text: parsed.text ?? '',
              html: typeof parsed.html === 'string' ? parsed.html : '',
              parsed,
              user: typeof session.user === 'string' ? session.user : null,
              secure: session.secure,
            });
            callback();
            for (const w of waiters.splice(0)) w();
          },
          (error: unknown) => callback(error as Error),
        );
      });
    },
  });
  server.on('error', () => undefined);
  const port = await new Promise<number>((resolveListen, reject) => {
    server.server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      const address = server.server.address();
      resolveListen(typeof address === 'object' && address !== null ? address.port : 0);
    });
  });
  return {
    port,
    messages,
    get mode() {
      return state.mode;
    },
    set mode(m: SmtpMode) {
      state.mode = m;
    },
    waitFor(count, timeoutMs = 10_000) {
      return new Promise((resolveWait, reject) => {
        const check = (): void => {
          if (messages.length >= count) {
            clearTimeout(timer);
            resolveWait(messages);
          } else {
            waiters.push(check);
          }
        };
        const timer = setTimeout(() => reject(new Error(`expected ${count} mail(s), got ${messages.length}`)), timeoutMs);
        check();
      });
    },
    stop() {
      return new Promise((resolveStop) => server.close(() => resolveStop()));
    },
  };
}

/** A port with nothing listening on 127.0.0.1 (bound once, then released). */
export async function closedPort(): Promise<number> {
  const s = await startSmtpServer();
  await s.stop();
  return s.port;
}

// A self-signed certificate for 127.0.0.1, which the client trusts through smtp.caFile.
export interface TestCert {
  readonly dir: string;
  readonly certFile: string;
  readonly key: string;
  readonly cert: string;
  remove(): void;
}

/** Creates a certificate for IP 127.0.0.1 with openssl (CI installs it). */
export function makeTestCert(): TestCert {
  const dir = mkdtempSync(join(tmpdir(), 'fleetpoll-smtp-tls-'));
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
    { stdio: 'ignore' },
  );
  return {
    dir,
    certFile,
    key: readFileSync(keyFile, 'utf8'),
    cert: readFileSync(certFile, 'utf8'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
