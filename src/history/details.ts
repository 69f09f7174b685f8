// The stored form of a poll's details (the `details` table): per-user totals, filesystems, top processes and
// sessions, each one JSON array of arrays per poll in the field order below (compact; read back whole, per poll).
import type { Disk, Proc, Session, UserTotal } from '../model.js';

// A user's totals as stored: [user, cpuPct, rssKb, processCount] (processCount null when an import did not have it).
export type UserTuple = [string, number, number, number | null];
// A filesystem as stored: [mount, fsType, totalKb, usedKb, availableKb] (totalKb null when an import did not have it).
export type DiskTuple = [string, string, number | null, number, number];

/** [[user, cpuPct, rssKb, processCount], ...] */
export function encodeUsers(users: readonly UserTotal[]): string {
  return JSON.stringify(users.map((u) => [u.user, u.cpuPct, u.rssKb, u.processCount]));
}

/** [[mount, fsType, totalKb, usedKb, availableKb], ...] */
export function encodeDisks(disks: readonly Disk[]): string {
  return JSON.stringify(disks.map((d) => [d.mount, d.fsType, d.totalKb, d.usedKb, d.availableKb]));
}

/** The users of encodeUsers' text; entries of another shape (a damaged row) are dropped. */
export function decodeUsers(text: string | null | undefined): UserTuple[] {
  return rows(text ?? undefined).filter((r): r is UserTuple => typeof r[0] === 'string' && typeof r[1] === 'number' && typeof r[2] === 'number') as UserTuple[];
}

/** The filesystems of encodeDisks' text; entries of another shape are dropped. */
export function decodeDisks(text: string | null | undefined): DiskTuple[] {
  return rows(text ?? undefined).filter((r): r is DiskTuple => typeof r[0] === 'string' && typeof r[3] === 'number' && typeof r[4] === 'number') as DiskTuple[];
}

/** [[pid, user, cpuPct, rssKb, name], ...] */
export function encodeProcesses(procs: readonly Proc[]): string {
  return JSON.stringify(procs.map((p) => [p.pid, p.user, p.cpuPct, p.rssKb, p.name]));
}

/** [[user, terminal, from], ...] */
export function encodeSessions(sessions: readonly Session[]): string {
  return JSON.stringify(sessions.map((s) => [s.user, s.terminal, s.from]));
}

/** The processes of encodeProcesses' text; entries of another shape (a damaged row) are dropped. */
export function decodeProcesses(text: string | null | undefined): Proc[] {
  return rows(text ?? undefined)
    .filter((r) => r.length === 5 && typeof r[0] === 'number' && typeof r[1] === 'string' && typeof r[2] === 'number' && typeof r[3] === 'number' && typeof r[4] === 'string')
    .map((r) => ({ pid: r[0] as number, user: r[1] as string, cpuPct: r[2] as number, rssKb: r[3] as number, name: r[4] as string }));
}

/** The sessions of encodeSessions' text. */
export function decodeSessions(text: string | null | undefined): Session[] {
  return rows(text ?? undefined)
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
