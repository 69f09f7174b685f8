// The live progress line of `fleetpoll poll` on a terminal: hosts done of total, ok, failed,
// elapsed, and the slowest host still running, redrawn in place a few times a second. A poll of
// 2,000 hosts with a 30 s deadline otherwise prints nothing until it ends.
import type { Log } from './log.js';
import type { Host, PollResult } from './model.js';

/** The part of a terminal stream the line needs: process.stderr, or a fake in unit tests. */
export interface TerminalStream {
  readonly isTTY?: boolean;
  /** Width of the terminal; the line is cut to fit, as a wrapped line cannot be redrawn in place. */
  readonly columns?: number;
  write(text: string): unknown;
}

/**
 * Whether a poll shows the line: only when stderr is a terminal (cron mail stays clean), and not
 * with --quiet or --json (nothing but errors / the JSON) or --verbose (the log lines are the progress).
 */
export function wantsProgress(stream: TerminalStream, flags: { quiet: boolean; json: boolean; verbose: boolean }): boolean {
  return stream.isTTY === true && !flags.quiet && !flags.json && !flags.verbose;
}

/** How often the line is redrawn: often enough for the seconds to move, rarely enough to cost nothing. */
export const REDRAW_MS = 200;

// Back to the start of the line and erase it (ANSI EL2): every terminal fleetpoll runs in has it.
const CLEAR_LINE = '\r\x1b[2K';
// Used when the terminal does not say how wide it is (a pseudo-terminal nobody sized says 0).
const DEFAULT_COLUMNS = 80;

/** The progress line of one poll cycle: told of each host's start and end, draws itself on a timer. */
export class ProgressLine {
  // Host name -> when its first attempt started; a Map keeps start order, so the first entry is the slowest.
  private readonly running = new Map<string, number>();
  private total = 0;
  private done = 0;
  private ok = 0;
  private startedMs = 0;
  private timer: NodeJS.Timeout | null = null;
  private shown = false;

  constructor(
    private readonly stream: TerminalStream,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** The cycle starts with these hosts: draws the line and keeps it moving until stop(). */
  cycleStarted(hosts: readonly Host[]): void {
    this.total = hosts.length;
    this.startedMs = this.now();
    this.draw();
    this.timer = setInterval(() => this.draw(), REDRAW_MS);
    // The line never keeps the process alive.
    this.timer.unref();
  }

  hostStarted(host: Host): void {
    this.running.set(host.name, this.now());
  }

  hostDone(result: PollResult): void {
    this.running.delete(result.host.name);
    this.done += 1;
    if (result.status === 'ok') this.ok += 1;
  }

  /** The line's text now, without control characters (what draw() writes after clearing the line). */
  text(): string {
    const nowMs = this.now();
    const seconds = (ms: number): string => `${(Math.max(0, ms) / 1000).toFixed(1)} s`;
    let line = `fleetpoll: ${this.done}/${this.total} hosts done, ${this.ok} ok, ${this.done - this.ok} failed, ${seconds(nowMs - this.startedMs)}`;
    const slowest = this.running.entries().next();
    if (slowest.done !== true) {
      const [name, sinceMs] = slowest.value;
      line += `; slowest running: ${name} (${seconds(nowMs - sinceMs)})`;
    }
    // An inventory name could hold a control character; on a terminal it would move the cursor.
    line = line.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
    // One column short of the width: writing into the last column wraps on some terminals.
    const columns = this.stream.columns ?? 0;
    const width = Math.max(20, (columns > 0 ? columns : DEFAULT_COLUMNS) - 1);
    return line.length > width ? `${line.slice(0, width - 3)}...` : line;
  }

  /** Erases the line (before anything else is written to the stream); the next redraw brings it back. */
  clear(): void {
    if (!this.shown) return;
    this.stream.write(CLEAR_LINE);
    this.shown = false;
  }

  /** Stops redrawing and erases the line, leaving the terminal as it was for the summary. */
  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.clear();
  }

  private draw(): void {
    this.stream.write(`${CLEAR_LINE}${this.text()}`);
    this.shown = true;
  }
}

/** A Log that erases the progress line before each warning or error it shows on the same terminal. */
export function clearingLineBefore(log: Log, line: ProgressLine): Log {
  return {
    error: (message, meta) => {
      line.clear();
      log.error(message, meta);
    },
    warn: (message, meta) => {
      line.clear();
      log.warn(message, meta);
    },
    // Not shown on the terminal without --verbose, and --verbose shows no progress line.
    info: (message, meta) => log.info(message, meta),
    debug: (message, meta) => log.debug(message, meta),
    child: (meta) => clearingLineBefore(log.child(meta), line),
  };
}
