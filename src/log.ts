// The run log: one line per event, to stderr and a size-rotated file in the data dir.
import { mkdirSync } from 'node:fs';
import { EOL } from 'node:os';
import { join } from 'node:path';
import { RotatingFile } from './log-file.js';

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
function formatLine(timestamp: string, level: LogLevel, message: string, fields: Record<string, unknown>): string {
  const { host, ...rest } = fields;
  const where = host === undefined ? '' : ` [${String(host)}]`;
  const pairs = Object.entries(rest)
    .filter(([k, v]) => k !== 'splat' && v !== undefined)
    .map(([k, v]) => `${k}=${formatValue(v)}`)
    .join(' ');
  return `${timestamp} ${level}${where} ${message}${pairs === '' ? '' : ` ${pairs}`}`;
}

function formatValue(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return /^[\w.:/@-]+$/.test(text) ? text : JSON.stringify(text);
}

// A message with a printf token (%s, %d, ...) kept its call's fields apart under winston, which wrote
// this log before and printed them only through a format fleetpoll never used; kept so.
const PRINTF_TOKEN = /%[scdjifoO%]/;

/** Creates the run log: stderr and a file rotated by size that keeps maxFiles files. */
export function createLog(options: LogOptions): { log: Log; close: () => Promise<void> } {
  const consoleRank = RANK[options.consoleLevel ?? options.level];
  const fileRank = RANK[options.level];
  let file = options.dir === null ? null : new RotatingFile(join(options.dir, 'fleetpoll.log'), options.maxSizeBytes, options.maxFiles);
  const write = (level: LogLevel, message: string, fields: Record<string, unknown>, timestamp: unknown): void => {
    // A `timestamp` field given by the caller stood in for the time under winston; kept so.
    const text = `${formatLine(timestamp ? String(timestamp) : new Date().toISOString(), level, message, fields)}${EOL}`;
    if (RANK[level] <= consoleRank) process.stderr.write(text);
    if (file !== null) {
      try {
        // The file exists from the first line logged anywhere, as it did under winston.
        file.write(RANK[level] <= fileRank ? text : '');
      } catch (error) {
        // The run log is not worth the run: say so once, then log to stderr only.
        process.stderr.write(`fleetpoll: cannot write the run log ${file.path}: ${(error as Error).message}; logging to stderr only${EOL}`);
        file = null;
      }
    }
  };
  const close = async (): Promise<void> => {
    file?.close();
  };
  return { log: logger(write, Math.max(fileRank, consoleRank), {}), close };
}

const RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

// Messages below every destination's level stop here, before anything is formatted (a debug line per
// host would otherwise cost CPU on every poll, bench/poll.ts). A child's fields come first on its lines.
function logger(write: (level: LogLevel, message: string, fields: Record<string, unknown>, timestamp: unknown) => void, verbosest: number, base: Record<string, unknown>): Log {
  const at =
    (level: LogLevel) =>
    (message: string, meta?: Record<string, unknown>): void => {
      if (RANK[level] > verbosest) return;
      if (meta === undefined || PRINTF_TOKEN.test(message)) {
        const { level: _level, message: _message, timestamp, ...fields } = base;
        write(level, message, fields, timestamp);
        return;
      }
      // As winston did: a `message` field is appended to the message, and the line's own keys are its own.
      const { level: _level, message: extra, timestamp, ...fields } = { ...base, ...meta };
      write(level, meta.message ? `${message} ${String(extra)}` : message, fields, timestamp);
    };
  return {
    error: at('error'),
    warn: at('warn'),
    info: at('info'),
    debug: at('debug'),
    child: (meta) => logger(write, verbosest, { ...base, ...meta }),
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
