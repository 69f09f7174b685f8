// Connects to NATS as the `nats` settings say: servers, authentication (secrets read here, from the
// environment or a file, at connect time only), TLS; reconnects forever, and says so in the run log
// when the server goes away and when it is back.
import { readFileSync } from 'node:fs';
import { connect, credsAuthenticator, nkeyAuthenticator, type NatsConnection, type NodeConnectionOptions } from '@nats-io/transport-node';
import type { Log } from '../log.js';
import { NatsSetupError } from './errors.js';
import type { NatsSettings } from './settings.js';


// Between two reconnect attempts; nats.js adds jitter.
const RECONNECT_WAIT_MS = 2000;

/** The nats.js options for the settings; throws NatsSetupError when a secret it names is missing. */
export function connectionOptions(settings: NatsSettings, env: NodeJS.ProcessEnv, name: string): NodeConnectionOptions {
  const options: NodeConnectionOptions = {
    servers: [...settings.servers],
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: RECONNECT_WAIT_MS,
    // The first connection may come before NATS is up (boot order): keep trying, as after a loss.
    waitOnFirstConnect: true,
    // nats.js otherwise builds two Error objects (stack traces) for every request, a JetStream publish
    // included, in case it fails: most of the coordinator's CPU per job (bench:zones). Our logs show
    // a NATS error's message, never its stack.
    noAsyncTraces: true,
  };
  const auth = settings.auth;
  switch (auth.kind) {
    case 'user':
      options.user = auth.user;
      options.pass = secret(auth.passwordFile, auth.passwordEnv, env, 'the NATS password');
      break;
    case 'token':
      options.token = secret(auth.tokenFile, auth.tokenEnv, env, 'the NATS token');
      break;
    case 'nkey':
      options.authenticator = nkeyAuthenticator(new TextEncoder().encode(readSecretFile(auth.seedFile, 'the nkey seed')));
      break;
    case 'creds':
      options.authenticator = credsAuthenticator(new TextEncoder().encode(readSecretFile(auth.credsFile, 'the NATS credentials')));
      break;
    case 'none':
      break;
  }
  if (settings.tls !== null) {
    options.tls = {
      ...(settings.tls.caFile === null ? {} : { caFile: settings.tls.caFile }),
      ...(settings.tls.certFile === null ? {} : { certFile: settings.tls.certFile }),
      ...(settings.tls.keyFile === null ? {} : { keyFile: settings.tls.keyFile }),
    };
  }
  return options;
}

// A connection and whether it is up now (nats.js reconnects by itself; this follows its status events).
export interface NatsLink {
  readonly nc: NatsConnection;
  connected(): boolean;
}

/** Connects (waiting for NATS if it is not up yet) and logs every loss and return of the connection. */
export async function connectNats(settings: NatsSettings, env: NodeJS.ProcessEnv, name: string, log: Log): Promise<NatsLink> {
  const options = connectionOptions(settings, env, name);
  let nc: NatsConnection;
  try {
    nc = await connect(options);
  } catch (error) {
    throw new NatsSetupError(`cannot connect to NATS (${settings.servers.join(', ')}): ${(error as Error).message}`, { cause: error });
  }
  log.info(`connected to NATS ${nc.getServer()}`);
  const state = { up: true };
  void watchStatus(nc, settings, log, state);
  return { nc, connected: () => state.up && !nc.isClosed() };
}

async function watchStatus(nc: NatsConnection, settings: NatsSettings, log: Log, state: { up: boolean }): Promise<void> {
  for await (const s of nc.status()) {
    if (s.type === 'disconnect') state.up = false;
    if (s.type === 'reconnect') state.up = true;
    switch (s.type) {
      case 'disconnect':
        log.error(`NATS connection lost (${s.server}): retrying every ${RECONNECT_WAIT_MS / 1000} s; results already received are kept, jobs wait until it is back`);
        break;
      case 'reconnect':
        log.warn(`NATS connection back (${s.server})`);
        break;
      case 'error':
        log.error(`NATS: ${String((s as { error?: unknown }).error ?? s.type)} (${settings.servers.join(', ')})`);
        break;
      default:
        break;
    }
  }
}

function secret(file: string | null, envVar: string, env: NodeJS.ProcessEnv, what: string): string {
  if (file !== null) return readSecretFile(file, what);
  const value = env[envVar];
  if (value === undefined || value === '') throw new NatsSetupError(`${what} is read from environment variable ${envVar}, which is not set`);
  return value;
}

function readSecretFile(file: string, what: string): string {
  try {
    const text = readFileSync(file, 'utf8').trim();
    if (text === '') throw new NatsSetupError(`${file}: empty; it should hold ${what}`);
    return text;
  } catch (error) {
    if (error instanceof NatsSetupError) throw error;
    throw new NatsSetupError(`${file}: cannot read ${what}: ${(error as Error).message}`, { cause: error });
  }
}
