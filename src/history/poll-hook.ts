// `fleetpoll poll` records its cycle into the history store. A store that cannot take it (corrupt, locked
// by another process, disk full) costs a warning naming the file, never the poll: the CSV files are already
// written, and a failed transaction leaves everything recorded before it as it was.
import type { Config } from '../config.js';
import type { Log } from '../log.js';
import type { PollResult } from '../model.js';
import { HistoryError } from './open.js';
import { epochSeconds } from './record.js';
import { historyFile, HistoryStore } from './store.js';

/** Records the cycle when history.enabled; returns warnings for the user (empty when all went well). */
export function recordPollIntoHistory(config: Config, results: readonly PollResult[], cycleStart: Date, durationMs: number, log: Log): string[] {
  if (!config.history.enabled) return [];
  const file = historyFile(config.dataDir, config.history);
  let store: HistoryStore | null = null;
  try {
    store = HistoryStore.open(file, config.history);
    const started = performance.now();
    const recorded = store.record(results, { startedAt: cycleStart, durationMs });
    log.debug('recorded into the history store', { file, samples: recorded.samples, ms: Math.round(performance.now() - started) });
  } catch (error) {
    store?.close();
    return [warn(log, error, file, 'nothing of this poll was recorded in it; the CSV files were written')];
  }
  try {
    const step = store.step(epochSeconds(cycleStart));
    log.debug('history rollup and retention step', { file, rolled_up_hours: step.hoursRolledUp, pruned: step.samplesPruned });
    return [];
  } catch (error) {
    return [warn(log, error, file, 'this poll was recorded, its rollup and pruning wait for the next one')];
  } finally {
    store.close();
  }
}

function warn(log: Log, error: unknown, file: string, consequence: string): string {
  const message = `${error instanceof HistoryError ? error.message : `history store ${file}: ${(error as Error).message}`}; ${consequence}`;
  log.warn(message);
  return message;
}
