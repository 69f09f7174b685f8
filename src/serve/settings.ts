// The `serve` section of the settings file: how often `fleetpoll serve` polls and how it spreads hosts.
import { SectionReader, type SettingsFileText } from '../settings-section.js';

// Validated `serve` settings.
export interface ServeSettings {
  /** Seconds between cycles; cycles start on multiples of it since the epoch (UTC), so on the clock. */
  readonly intervalSeconds: number;
  /** Hosts' start times are spread over this fraction of the interval (0 = all at the tick). */
  readonly spreadFraction: number;
}

// The defaults, as documented on the service page.
export const DEFAULT_SERVE_SETTINGS: ServeSettings = { intervalSeconds: 300, spreadFraction: 0.5 };

// Bounds of the settings (and of `serve --interval`).
export const INTERVAL_SECONDS_RANGE = { min: 1, max: 86_400 } as const;
export const SPREAD_FRACTION_RANGE = { min: 0, max: 0.9 } as const;

const KEYS = ['intervalSeconds', 'spreadFraction'];

/** Validates the `serve` section (undefined when absent) plus FLEETPOLL_SERVE_INTERVAL; problems in config.ts's style. */
export function parseServeSettings(section: unknown, file: SettingsFileText | null, env: NodeJS.ProcessEnv, problems: string[]): ServeSettings {
  const r = new SectionReader('serve', section, file, problems);
  r.fromEnv('intervalSeconds', 'FLEETPOLL_SERVE_INTERVAL', env);
  r.rejectUnknown(KEYS);
  const d = DEFAULT_SERVE_SETTINGS;
  return {
    intervalSeconds: r.number('intervalSeconds', d.intervalSeconds, INTERVAL_SECONDS_RANGE.min, INTERVAL_SECONDS_RANGE.max, false),
    // Below 1: the last hosts must start early enough to finish before the next tick.
    spreadFraction: r.number('spreadFraction', d.spreadFraction, SPREAD_FRACTION_RANGE.min, SPREAD_FRACTION_RANGE.max, false),
  };
}
