// What the dashboard reads beyond the API's HistoryReader: the filesystems of the history store
// (src/history/disk-queries.ts) and the alert files of the data directory. Tests may pass fakes.
import { join } from 'node:path';
import { STATE_FILE } from '../alerts/state.js';
import { TRANSITIONS_FILE } from '../alerts/transition-log.js';
import type { DiskSeries, DiskTrend } from '../history/disk-queries.js';
import type { FleetRow } from '../history/fleet-queries.js';

export type { DiskSeries, DiskTrend } from '../history/disk-queries.js';

/** The filesystem side of the history, as DiskQueries answers it. */
export interface DiskReader {
  fullestByHost(): ReadonlyMap<string, number>;
  series(host: string, first: number, to: number, stepSec: number): DiskSeries[] | null;
  trends(host: string, from: number, to: number): DiskTrend[] | null;
}

/** The fleet-wide averages of the history, as FleetQueries answers them. */
export interface FleetReader {
  averages(first: number, to: number, stepSec: number): FleetRow[];
}

/** Everything the dashboard's routes need besides the HistoryReader. */
export interface DashboardSource {
  readonly disks: DiskReader;
  readonly fleet: FleetReader;
  /** data/alert-state.json; null when alerts are off. */
  readonly alertStateFile: string | null;
  /** data/alert-transitions.jsonl (firing/resolved history); null when alerts are off. */
  readonly alertLogFile: string | null;
  /** The window a filesystem forecast is fitted over (report.days), and how far ahead it counts as urgent (report.horizonDays). */
  readonly forecastDays: number;
  readonly horizonDays: number;
}

/** The alert files and forecast settings of a configuration, as the dashboard reads them. */
export function dashboardFiles(config: {
  readonly dataDir: string;
  readonly alerts: { readonly enabled: boolean };
  readonly report: { readonly days: number; readonly horizonDays: number };
}): Omit<DashboardSource, 'disks' | 'fleet'> {
  const on = config.alerts.enabled;
  return {
    alertStateFile: on ? join(config.dataDir, STATE_FILE) : null,
    alertLogFile: on ? join(config.dataDir, TRANSITIONS_FILE) : null,
    forecastDays: config.report.days,
    horizonDays: config.report.horizonDays,
  };
}
