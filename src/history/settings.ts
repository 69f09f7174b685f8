// The `history` section of the settings file: whether polls record into the SQLite store, where it lies, how long data is kept.
import { SectionReader, type SettingsFileText } from '../settings-section.js';

// Validated `history` settings.
export interface HistorySettings {
  /** `poll` records every cycle into the store. */
  readonly enabled: boolean;
  /** Days raw samples (and their disks, users, processes, sessions, cycles) are kept. */
  readonly rawDays: number;
  /** Days hourly rollups are kept; never shorter than rawDays. */
  readonly hourlyDays: number;
  /** The SQLite file; null = <dataDir>/history.sqlite. */
  readonly path: string | null;
}

// The defaults, as documented.
export const DEFAULT_HISTORY_SETTINGS: HistorySettings = { enabled: true, rawDays: 35, hourlyDays: 400, path: null };

// The store's file name inside the data dir when history.path is not set.
export const HISTORY_FILE = 'history.sqlite';

const KEYS = ['enabled', 'rawDays', 'hourlyDays', 'path'];

/** Validates the `history` section (undefined when absent); problems in config.ts's style. */
export function parseHistorySettings(
  section: unknown,
  file: SettingsFileText | null,
  problems: string[],
  dirs: { readonly fileBase: string; readonly cwd: string },
): HistorySettings {
  const r = new SectionReader('history', section, file, problems);
  r.rejectUnknown(KEYS);
  const d = DEFAULT_HISTORY_SETTINGS;
  const rawDays = r.number('rawDays', d.rawDays, 1, 3660, true);
  const hourlyDays = r.number('hourlyDays', d.hourlyDays, 1, 36600, true);
  if (hourlyDays < rawDays) {
    problems.push(`${r.where('hourlyDays')}: history.hourlyDays (${hourlyDays}) must be at least history.rawDays (${rawDays}): hourly rollups outlive the raw samples they summarise`);
  }
  return {
    enabled: r.boolean('enabled', d.enabled),
    rawDays,
    hourlyDays,
    path: r.path('path', null, dirs.fileBase, dirs.cwd),
  };
}
