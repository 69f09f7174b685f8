// The history store as one object: an open, migrated file with its recorder, maintenance and queries.
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import type { PollResult } from '../model.js';
import { Maintenance, type Retention, type StepOutcome } from './maintain.js';
import { historyError, openHistory, type OpenOptions } from './open.js';
import { HistoryQueries } from './queries.js';
import { Recorder, type CycleInfo, type RecordOutcome } from './record.js';
import { HISTORY_FILE, type HistorySettings } from './settings.js';

/** The store's file: history.path, or history.sqlite in the data dir. */
export function historyFile(dataDir: string, settings: HistorySettings): string {
  return settings.path ?? join(dataDir, HISTORY_FILE);
}

// An open store. Methods throw HistoryError (naming the file); close() when done.
export class HistoryStore {
  private recorder: Recorder | null = null;
  private maintenance: Maintenance | null = null;
  private queries: HistoryQueries | null = null;

  private constructor(
    readonly file: string,
    readonly db: Database.Database,
    private readonly retention: Retention,
  ) {}

  /** Opens (creates, migrates) the store at `file`. */
  static open(file: string, retention: Retention, options: OpenOptions = {}): HistoryStore {
    return new HistoryStore(file, openHistory(file, options), retention);
  }

  /** Records one cycle in one transaction; call step() after it to keep rollups and retention going. */
  record(results: readonly PollResult[], cycle: CycleInfo): RecordOutcome {
    return this.guard(() => (this.recorder ??= new Recorder(this.db)).record(results, cycle));
  }

  /** One rollup/retention step as of `now` (epoch seconds). */
  step(now: number): StepOutcome {
    return this.guard(() => this.maintainer().step(now, this.retention));
  }

  /** The rollup and retention of this store. */
  maintainer(): Maintenance {
    return (this.maintenance ??= this.guard(() => new Maintenance(this.db)));
  }

  /** The read side. */
  read(): HistoryQueries {
    return (this.queries ??= this.guard(() => new HistoryQueries(this.db)));
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  private guard<T>(work: () => T): T {
    try {
      return work();
    } catch (error) {
      throw historyError(this.file, error);
    }
  }
}
