// The stored form of a poll's top processes and sessions: one JSON array of arrays per poll, in the
// field order below (compact, and read back whole by queries.processes()).
import type { Proc, Session } from '../model.js';

/** [[pid, user, cpuPct, rssKb, name], ...] */
export function encodeProcesses(procs: readonly Proc[]): string {
  return JSON.stringify(procs.map((p) => [p.pid, p.user, p.cpuPct, p.rssKb, p.name]));
}

/** [[user, terminal, from], ...] */
export function encodeSessions(sessions: readonly Session[]): string {
  return JSON.stringify(sessions.map((s) => [s.user, s.terminal, s.from]));
}

/** The processes of encodeProcesses' text; entries of another shape (a damaged row) are dropped. */
export function decodeProcesses(text: string | undefined): Proc[] {
  return rows(text)
    .filter((r) => r.length === 5 && typeof r[0] === 'number' && typeof r[1] === 'string' && typeof r[2] === 'number' && typeof r[3] === 'number' && typeof r[4] === 'string')
    .map((r) => ({ pid: r[0] as number, user: r[1] as string, cpuPct: r[2] as number, rssKb: r[3] as number, name: r[4] as string }));
}

/** The sessions of encodeSessions' text. */
export function decodeSessions(text: string | undefined): Session[] {
  return rows(text)
    .filter((r) => r.length === 3 && r.every((x) => typeof x === 'string'))
    .map((r) => ({ user: r[0] as string, terminal: r[1] as string, from: r[2] as string }));
}

function rows(text: string | undefined): unknown[][] {
  if (text === undefined) return [];
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? value.filter((r): r is unknown[] => Array.isArray(r)) : [];
  } catch {
    return [];
  }
}
