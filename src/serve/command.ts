// `fleetpoll serve`: loads settings and inventory (refusing bad ones before anything connects), then
// runs the service loop until SIGTERM/SIGINT, or one cycle with --once. Exit codes as `poll`'s.
import type { Argv } from 'yargs';
import { ConfigError, loadConfig, type ConfigFlags } from '../config.js';
import { defaultUser } from '../inventory.js';
import { openRunLog } from '../log.js';
import { StoreError } from '../store/errors.js';
import { HttpStartError } from '../http/auth.js';
import { ServeHistory } from './history.js';
import { startHttp } from './http.js';
import { dashboardFiles } from '../web/reader.js';
import { loadServeInputs, type LoadSource } from './reload.js';
import { serve } from './service.js';
import { INTERVAL_SECONDS_RANGE } from './settings.js';
import { ServiceSignals } from './stop.js';
import { NatsSetupError } from '../cluster/errors.js';
import type { Coordinator } from '../cluster/coordinator.js';

// The flags of `fleetpoll serve`.
export interface ServeArgs {
  config?: string;
  inventory?: string;
  dataDir?: string;
  interval?: number;
  once: boolean;
  hostKeyChecking?: string;
  knownHosts?: string;
  logLevel?: string;
  verbose: boolean;
  quiet: boolean;
}

// Where the command writes (the CLI passes process.stdout/stderr).
export interface ServeStreams {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

// The exit codes `poll` documents, the ones serve can end with.
const EXIT = { ok: 0, usage: 2, locked: 3, internal: 4 } as const;

/** Declares serve's options on a yargs command. */
export function serveOptions(y: Argv): Argv {
  return y
    .option('config', { type: 'string', describe: 'settings file (default ./fleetpoll.config.json if present)' })
    .option('inventory', { alias: 'i', type: 'string', describe: 'servers.csv to poll (default inventory/servers.csv)' })
    .option('data-dir', { alias: 'd', type: 'string', describe: 'where the CSV files go (default data/)' })
    .option('interval', { type: 'number', describe: 'seconds between cycles, on the clock (default serve.intervalSeconds, 300)' })
    .option('once', { type: 'boolean', default: false, describe: 'run one cycle, then exit (tests, a first try)' })
    .option('host-key-checking', { type: 'string', choices: ['strict', 'accept-new', 'off'], describe: 'unknown host keys: refuse (strict), record (accept-new), or do not check (off)' })
    .option('known-hosts', { type: 'string', describe: 'known_hosts file (default ~/.ssh/known_hosts)' })
    .option('log-level', { type: 'string', choices: ['error', 'warn', 'info', 'debug'], describe: 'run log detail (data/fleetpoll.log)' })
    .option('verbose', { alias: 'v', type: 'boolean', default: false, describe: 'also show info lines of the run log on stderr' })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'print nothing but errors (no line per cycle)' });
}

/** Runs `fleetpoll serve`; resolves to the exit code. */
export async function serveCommand(args: ServeArgs, env: NodeJS.ProcessEnv, cwd: string, streams: ServeStreams): Promise<number> {
  const { min, max } = INTERVAL_SECONDS_RANGE;
  if (args.interval !== undefined && (!Number.isFinite(args.interval) || args.interval < min || args.interval > max)) {
    streams.err(`fleetpoll: --interval must be a number of seconds from ${min} to ${max} (got ${String(args.interval)})\n`);
    return EXIT.usage;
  }
  const flags: ConfigFlags = {
    config: args.config,
    inventory: args.inventory,
    dataDir: args.dataDir,
    logLevel: args.logLevel,
    hostKeyChecking: args.hostKeyChecking,
    knownHosts: args.knownHosts,
  };
  const source: LoadSource = { flags, env, cwd, defaultUser: defaultUser() };
  let logConfig;
  try {
    // Only to place the run log: the full load (inventory included) follows.
    logConfig = loadConfig(flags, env, cwd, source.defaultUser);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems) streams.err(`fleetpoll: config: ${problem}\n`);
    return EXIT.usage;
  }
  const loaded = await loadServeInputs(source, null);
  if (loaded.kind === 'invalid') {
    for (const problem of loaded.problems) streams.err(`fleetpoll: ${problem}\n`);
    streams.err('fleetpoll: serve refuses to start with a bad inventory or settings: fix the lines above\n');
    return EXIT.usage;
  }

  const { log, close } = openRunLog(logConfig, args);
  const signals = new ServiceSignals((message) => log.warn(message));
  signals.install();
  let cluster: Coordinator | null = null;
  try {
    for (const w of loaded.warnings) log.warn(`${w.file}:${w.line}: ${w.message}`);
    const { config } = loaded.inputs;
    const interval = args.interval ?? config.serve.intervalSeconds;
    // The store and the API: its file, its address and port change only at a restart.
    const history = config.history.enabled ? new ServeHistory(config.dataDir, config.history, log) : null;
    let app: Awaited<ReturnType<typeof startHttp>> | null = null;
    log.info('service starting', { hosts: loaded.inputs.inventory.enabled.length, interval_s: interval, once: args.once });
    // With nats settings this service is the coordinator of zones (docs/zones.md); they change only at a restart.
    if (config.nats !== null) {
      if (!args.quiet) streams.out(`fleetpoll serve: coordinator of zones, NATS ${config.nats.servers.join(', ')}\n`);
      const { Coordinator } = await import('../cluster/coordinator.js');
      cluster = await Coordinator.start(config.nats, env, config.dataDir, log);
    }
    const coordinator = cluster;
    const outcome = await serve({
      cluster: coordinator,
      source,
      initial: loaded.inputs,
      log,
      signals,
      once: args.once,
      intervalSecondsOverride: args.interval,
      say: (line) => {
        if (!args.quiet) streams.out(`${line}\n`);
      },
      history,
      onStarted: async (state) => {
        if (coordinator !== null) state.workers = () => coordinator.workers();
        if (history === null) {
          log.info('HTTP API off: it reads the history store, and history.enabled is false');
          return;
        }
        if (!history.open()) log.error(`${history.problem}; cycles still write the CSV files, the API answers 503 until it opens`);
        app = await startHttp(config.http, env, state, history, log, { dataDir: config.dataDir, bodyLimitBytes: config.poll.maxOutputBytes }, dashboardFiles(config));
      },
      onStopping: async () => {
        await app?.close();
      },
    });
    if (outcome.kind === 'locked') {
      streams.err(`fleetpoll: another poll is running: ${outcome.description}. Not serving.\n`);
      log.warn('another poll holds the lock; exiting', { holder: outcome.description });
      return EXIT.locked;
    }
    return EXIT.ok;
  } catch (error) {
    if (error instanceof HttpStartError) {
      for (const problem of error.problems) streams.err(`fleetpoll: http: ${problem}\n`);
      streams.err('fleetpoll: serve refuses to start: the HTTP API cannot start as configured\n');
      return EXIT.usage;
    }
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE' || (error as NodeJS.ErrnoException).code === 'EADDRNOTAVAIL') {
      streams.err(`fleetpoll: http: cannot listen on ${loaded.inputs.config.http.bind}:${loaded.inputs.config.http.port}: ${(error as Error).message} (set http.bind/http.port)\n`);
      return EXIT.usage;
    }
    if (error instanceof NatsSetupError) {
      log.error(error.message);
      streams.err(`fleetpoll: ${error.message}\n`);
      return EXIT.usage;
    }
    if (error instanceof StoreError) {
      log.error(error.message);
      streams.err(`fleetpoll: cannot write the data directory: ${error.message}\n`);
      return EXIT.internal;
    }
    throw error;
  } finally {
    await cluster?.close();
    signals.dispose();
    await close();
  }
}
