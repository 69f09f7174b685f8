// `fleetpoll worker --zone <zone>`: a worker poller for one network zone (docs/zones.md). Loads the
// settings (which must have a `nats` section), then takes the zone's jobs until SIGTERM/SIGINT.
import type { Argv } from 'yargs';
import { ConfigError, loadConfig, type ConfigFlags } from '../config.js';
import { defaultUser } from '../inventory.js';
import { openRunLog } from '../log.js';
import { ServiceSignals } from '../serve/stop.js';
import { NatsSetupError } from './errors.js';
import { runWorker } from './worker.js';

// The flags of `fleetpoll worker`.
export interface WorkerArgs {
  zone: string;
  config?: string;
  dataDir?: string;
  hostKeyChecking?: string;
  knownHosts?: string;
  logLevel?: string;
  verbose: boolean;
  quiet: boolean;
}

// Where the command writes.
export interface WorkerStreams {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

const EXIT = { ok: 0, usage: 2, internal: 4 } as const;
const ZONE = /^[A-Za-z0-9_][A-Za-z0-9_-]{0,62}$/;

/** Declares the worker's options on a yargs command. */
export function workerOptions(y: Argv): Argv {
  return y
    .option('zone', { type: 'string', demandOption: true, describe: 'the zone whose hosts this worker polls (servers.csv zone column; empty there = default)' })
    .option('config', { type: 'string', describe: 'settings file with the nats section (default ./fleetpoll.config.json if present)' })
    .option('data-dir', { alias: 'd', type: 'string', describe: 'where the run log and known_hosts notes go (default data/)' })
    .option('host-key-checking', { type: 'string', choices: ['strict', 'accept-new', 'off'], describe: 'unknown host keys: refuse (strict), record (accept-new), or do not check (off)' })
    .option('known-hosts', { type: 'string', describe: 'known_hosts file (default ~/.ssh/known_hosts)' })
    .option('log-level', { type: 'string', choices: ['error', 'warn', 'info', 'debug'], describe: 'run log detail (data/fleetpoll.log)' })
    .option('verbose', { alias: 'v', type: 'boolean', default: false, describe: 'also show info lines of the run log on stderr' })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'print nothing but errors' });
}

/** Runs `fleetpoll worker`; resolves to the exit code. */
export async function workerCommand(args: WorkerArgs, env: NodeJS.ProcessEnv, cwd: string, streams: WorkerStreams): Promise<number> {
  if (!ZONE.test(args.zone)) {
    streams.err(`fleetpoll: --zone must be letters, digits, _ and - (at most 63, no dots or spaces) (got ${JSON.stringify(args.zone)})\n`);
    return EXIT.usage;
  }
  const flags: ConfigFlags = { config: args.config, dataDir: args.dataDir, logLevel: args.logLevel, hostKeyChecking: args.hostKeyChecking, knownHosts: args.knownHosts };
  let config;
  try {
    config = loadConfig(flags, env, cwd, defaultUser());
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems) streams.err(`fleetpoll: config: ${problem}\n`);
    return EXIT.usage;
  }
  const nats = config.nats;
  if (nats === null) {
    streams.err('fleetpoll: worker needs the nats settings (a "nats" section with "servers", or FLEETPOLL_NATS_SERVERS): see docs/zones.md\n');
    return EXIT.usage;
  }
  const { log, close } = openRunLog(config, args);
  const signals = new ServiceSignals((message) => log.warn(message));
  signals.install();
  try {
    if (!args.quiet) streams.out(`fleetpoll worker: zone ${args.zone}, NATS ${nats.servers.join(', ')}\n`);
    const { hosts } = await runWorker({ config: { ...config, nats }, zone: args.zone, env, log, stop: signals.stop });
    if (!args.quiet) streams.out(`fleetpoll worker: stopped after ${hosts} host poll(s)\n`);
    return EXIT.ok;
  } catch (error) {
    if (error instanceof NatsSetupError) {
      streams.err(`fleetpoll: ${error.message}\n`);
      return EXIT.usage;
    }
    throw error;
  } finally {
    signals.dispose();
    await close();
  }
}
