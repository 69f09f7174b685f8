// The alerts page's data: what is firing (or pending) now, from data/alert-state.json, read-only (a
// corrupt file is reported, never moved aside: that is the poll run's job), and the transitions of a
// range from data/alert-transitions.jsonl, the append-only log the alert run keeps.
import { readFile } from 'node:fs/promises';
import { loadState } from '../alerts/state.js';
import type { AlertNow, AlertsData, AlertTransition } from './shapes.js';

// The newest transitions shown at most (the file keeps them all).
const MAX_TRANSITIONS = 2000;

/** The alerts page's data over [fromSec, toSec). */
export async function readAlerts(stateFile: string | null, logFile: string | null, fromSec: number, toSec: number): Promise<AlertsData> {
  if (stateFile === null) return { enabled: false, problem: null, now: [], transitions: [], queued: 0 };
  const loaded = await loadState(stateFile, { readOnly: true });
  const now: AlertNow[] =
    loaded.kind === 'ok'
      ? loaded.state.alerts.map((a) => ({
          host: a.host,
          rule: a.rule,
          mount: a.mount,
          phase: a.phase,
          level: a.level,
          since: a.since,
          firedAt: a.firedAt,
          value: a.value,
          threshold: a.threshold,
          reason: a.reason,
        }))
      : [];
  const problem = loaded.kind === 'corrupt' ? `${stateFile} cannot be read: ${loaded.reason}` : null;
  return {
    enabled: true,
    problem,
    now,
    transitions: logFile === null ? [] : await readTransitions(logFile, fromSec, toSec),
    queued: loaded.kind === 'ok' ? loaded.state.queue.length : 0,
  };
}

async function readTransitions(file: string, fromSec: number, toSec: number): Promise<AlertTransition[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const out: AlertTransition[] = [];
  const lines = text.split('\n');
  // Newest first; a line cut short by a crash mid-append is skipped.
  for (let i = lines.length - 1; i >= 0 && out.length < MAX_TRANSITIONS; i -= 1) {
    const line = lines[i] as string;
    if (line === '') continue;
    let t: AlertTransition;
    try {
      t = JSON.parse(line) as AlertTransition;
    } catch {
      continue;
    }
    const sec = Date.parse(t.at) / 1000;
    if (sec >= fromSec && sec < toSec) out.push(t);
  }
  return out;
}
