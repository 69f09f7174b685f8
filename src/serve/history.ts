// The history store of the service: opened once and kept, recorded into after each cycle's CSV files,
// read by the HTTP API. A store that cannot be opened or written (corrupt, locked, disk full) costs a
// warning naming the file, never the cycle; it is opened again at the next cycle.
import type { HistorySettings } from '../history/settings.js';
import { HistoryError } from '../history/open.js';
import { epochSeconds } from '../history/record.js';
import { historyFile, HistoryStore } from '../history/store.js';
import { DiskQueries } from '../history/disk-queries.js';
import { FleetQueries } from '../history/fleet-queries.js';
import type { DiskReader, FleetReader } from '../web/reader.js';
import type { HistoryReader } from '../http/history-reader.js';
import type { Log } from '../log.js';
import type { PollResult } from '../model.js';

// The service's kept store (null while it cannot be opened).
export class ServeHistory {
  private store: HistoryStore | null = null;
  /** Why the store is not open, for /readyz and the status; null when it is. */
  problem: string | null = null;
  readonly file: string;

  constructor(
    dataDir: string,
    private readonly settings: HistorySettings,
    private readonly log: Log,
  ) {
    this.file = historyFile(dataDir, settings);
  }

  /** Opens the store if it is not open; false (logged) when it cannot be. */
  open(): boolean {
    if (this.store !== null) return true;
    try {
      this.store = HistoryStore.open(this.file, this.settings);
      this.problem = null;
      return true;
    } catch (error) {
      this.problem = message(error, this.file);
      return false;
    }
  }

  /** Records one cycle and runs a rollup/retention step; returns warnings (empty when all went well). */
  record(results: readonly PollResult[], startedAt: Date, durationMs: number, reconnects: number | null): string[] {
    if (!this.open()) return [this.warn(`${this.problem}; nothing of this cycle was recorded in it; the CSV files were written`)];
    const store = this.store!;
    try {
      const started = performance.now();
      const recorded = store.record(results, { startedAt, durationMs, reconnects });
      this.log.debug('recorded into the history store', { file: this.file, samples: recorded.samples, ms: Math.round(performance.now() - started) });
    } catch (error) {
      // Closed and opened again next cycle: a file replaced or repaired meanwhile is picked up.
      this.close();
      this.problem = message(error, this.file);
      return [this.warn(`${this.problem}; nothing of this cycle was recorded in it; the CSV files were written`)];
    }
    try {
      const step = store.step(epochSeconds(startedAt));
      this.log.debug('history rollup and retention step', { file: this.file, rolled_up_hours: step.hoursRolledUp, pruned: step.samplesPruned });
      return [];
    } catch (error) {
      return [this.warn(`${message(error, this.file)}; this cycle was recorded, its rollup and pruning wait for the next one`)];
    }
  }

  /** The read side for the HTTP API; follows the store across re-opens. Throws while it is not open. */
  reader(): HistoryReader {
    const queries = () => {
      if (!this.open()) throw new Error(this.problem ?? 'the history store is not open');
      return this.store!.read();
    };
    return {
      hasHost: (host) => queries().hasHost(host),
      series: (host, metrics, from, to, stepSec) => queries().series(host, metrics, from, to, stepSec),
      latest: () => queries().latest(),
      users: (host, from, to) => queries().users(host, from, to),
      usersSeries: (host, from, to, stepSec, exclude) => queries().usersSeries(host, from, to, stepSec, exclude),
      processes: (host, at) => queries().processes(host, at),
      cycles: (from, to) => queries().cycles(from, to),
    };
  }

  /** The filesystem queries of the dashboard; follows the store across re-opens like reader(). */
  disks(): DiskReader {
    let cached: { store: HistoryStore; queries: DiskQueries } | null = null;
    const queries = (): DiskQueries => {
      if (!this.open()) throw new Error(this.problem ?? 'the history store is not open');
      if (cached?.store !== this.store) cached = { store: this.store!, queries: new DiskQueries(this.store!.db) };
      return cached.queries;
    };
    return {
      fullestByHost: () => queries().fullestByHost(),
      series: (host, first, to, stepSec) => queries().series(host, first, to, stepSec),
      trends: (host, from, to) => queries().trends(host, from, to),
    };
  }

  /** The fleet-wide averages of the dashboard's overview; follows the store across re-opens. */
  fleet(): FleetReader {
    let cached: { store: HistoryStore; queries: FleetQueries } | null = null;
    return {
      averages: (first, to, stepSec) => {
        if (!this.open()) throw new Error(this.problem ?? 'the history store is not open');
        if (cached?.store !== this.store) cached = { store: this.store!, queries: new FleetQueries(this.store!.db) };
        return cached.queries.averages(first, to, stepSec);
      },
    };
  }

  close(): void {
    this.store?.close();
    this.store = null;
  }

  private warn(text: string): string {
    this.log.warn(text);
    return text;
  }
}

function message(error: unknown, file: string): string {
  return error instanceof HistoryError ? error.message : `history store ${file}: ${(error as Error).message}`;
}
