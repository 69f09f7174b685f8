// The run log: one line per event, to stderr and a size-rotated file in the data dir.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import winston from 'winston';

// How much the run log says, most severe first.
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

// The settings' log section: what openRunLog needs besides the data dir.
export interface LogSettings {
  readonly level: LogLevel;
  readonly maxSizeBytes: number;
  readonly maxFiles: number;
}

// The narrow logging surface modules depend on, so tests can pass a recorder.
export interface Log {
  error(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  info(message: string, meta?: Record<string, unknown>): void;
  debug(message: string, meta?: Record<string, unknown>): void;
  child(meta: Record<string, unknown>): Log;
}

export interface LogOptions {
  readonly level: LogLevel;
  /** Directory for fleetpoll.log; null logs to stderr only. */
  readonly dir: string | null;
  readonly maxSizeBytes: number;
  readonly maxFiles: number;
  /** stderr shows this level and above (default: level). */
  readonly consoleLevel?: LogLevel;
}

// key=value pairs; values JSON-quoted when they contain spaces, quotes or came from a host.
const line = winston.format.printf((info) => {
  const { level, message, timestamp, host, ...rest } = info as Record<string, unknown>;
  const where = host === undefined ? '' : ` [${String(host)}]`;
  const pairs = Object.entries(rest)
    .filter(([k, v]) => typeof k === 'string' && k !== 'splat' && v !== undefined)
    .map(([k, v]) => `${k}=${formatValue(v)}`)
    .join(' ');
  return `${String(timestamp)} ${String(level)}${where} ${String(message)}${pairs === '' ? '' : ` ${pairs}`}`;
});

function formatValue(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return /^[\w.:/@-]+$/.test(text) ? text : JSON.stringify(text);
}

/** Creates the run log. The file transport rotates by size and keeps maxFiles old files. */
export function createLog(options: LogOptions): { log: Log; close: () => Promise<void> } {
  const transports: winston.transport[] = [];
  transports.push(
    new winston.transports.Console({
      stderrLevels: ['error', 'warn', 'info', 'debug'],
      level: options.consoleLevel ?? options.level,
    }),
  );
  if (options.dir !== null) {
    transports.push(
      new winston.transports.File({
        filename: join(options.dir, 'fleetpoll.log'),
        maxsize: options.maxSizeBytes,
        maxFiles: options.maxFiles,
        tailable: true,
        level: options.level,
      }),
    );
  }
  const logger = winston.createLogger({
    level: options.level,
    format: winston.format.combine(winston.format.timestamp(), line),
    transports,
  });
  const close = (): Promise<void> =>
    new Promise((resolveClose) => {
      let pending = transports.length;
      const done = (): void => {
        pending -= 1;
        if (pending <= 0) resolveClose();
      };
      for (const t of transports) {
        if (t instanceof winston.transports.File) t.once('finish', done);
        else done();
      }
      logger.end();
      setTimeout(resolveClose, 2000).unref();
    });
  const verbosest = Math.max(RANK[options.level], RANK[options.consoleLevel ?? options.level]);
  return { log: gated(() => logger, verbosest), close };
}

const RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

// winston formats every message before its transports drop it by level; a debug line per
// host cost ~0.25 ms of CPU each (bench/poll.ts), so messages below every transport's
// level stop here, and per-host child loggers are only made when something is written.
function gated(make: () => winston.Logger, verbosest: number): Log {
  let logger: winston.Logger | undefined;
  const get = (): winston.Logger => (logger ??= make());
  const at =
    (level: LogLevel) =>
    (message: string, meta?: Record<string, unknown>): void => {
      if (RANK[level] <= verbosest) get().log(level, message, meta ?? {});
    };
  return {
    error: at('error'),
    warn: at('warn'),
    info: at('info'),
    debug: at('debug'),
    child: (meta) => gated(() => get().child(meta), verbosest),
  };
}

/**
 * The run log of a command: data/fleetpoll.log plus stderr (warnings by default, info with
 * --verbose, errors only with --quiet). Without a usable data dir it logs to stderr only;
 * the command then fails on its own write with the precise reason.
 */
export function openRunLog(
  config: { readonly dataDir: string; readonly log: LogSettings },
  flags: { verbose?: boolean; quiet?: boolean },
): { log: Log; close: () => Promise<void> } {
  let dir: string | null = config.dataDir;
  try {
    mkdirSync(config.dataDir, { recursive: true });
  } catch {
    dir = null;
  }
  return createLog({
    level: config.log.level,
    dir,
    maxSizeBytes: config.log.maxSizeBytes,
    maxFiles: config.log.maxFiles,
    consoleLevel: flags.quiet === true ? 'error' : flags.verbose === true ? config.log.level : 'warn',
  });
}

/** A Log that drops everything (library use and tests). */
export const silentLog: Log = {
  error: () => {},
  warn: () => {},
  info: () => {},
  debug: () => {},
  child: () => silentLog,
};
