// The `push` section of the settings file: how hosts that push their probe output (transport=push,
// docs/push.md) are judged: their default interval, the slack before a quiet host is `timeout`, the
// clock skew tolerated, and the least spacing between two pushes of one host.
import { DEFAULT_PUSH_INTERVAL_SECONDS, PUSH_INTERVAL_RANGE } from '../inventory.js';
import { SectionReader, type SettingsFileText } from '../settings-section.js';

// Validated `push` settings.
export interface PushSettings {
  /** How often a push host sends, when its servers.csv row has no push_interval. */
  readonly intervalSeconds: number;
  /** A push host is `timeout` once its last push is older than its interval plus this (cron jitter, the probe's own run). */
  readonly graceSeconds: number;
  /** A sample whose `time` record is further ahead of the poller's clock than this is refused (422). */
  readonly maxClockSkewSeconds: number;
  /** Authenticated pushes of one host closer together than this are refused (429 with Retry-After); 0 = no limit. */
  readonly minSpacingSeconds: number;
}

// The defaults, as documented in docs/push.md.
export const DEFAULT_PUSH_SETTINGS: PushSettings = {
  intervalSeconds: DEFAULT_PUSH_INTERVAL_SECONDS,
  graceSeconds: 60,
  maxClockSkewSeconds: 60,
  minSpacingSeconds: 10,
};

const KEYS = ['intervalSeconds', 'graceSeconds', 'maxClockSkewSeconds', 'minSpacingSeconds'];

/** Validates the `push` section (undefined when absent); problems in config.ts's style. */
export function parsePushSettings(section: unknown, file: SettingsFileText | null, problems: string[]): PushSettings {
  const r = new SectionReader('push', section, file, problems);
  r.rejectUnknown(KEYS);
  const d = DEFAULT_PUSH_SETTINGS;
  return {
    intervalSeconds: r.number('intervalSeconds', d.intervalSeconds, PUSH_INTERVAL_RANGE.min, PUSH_INTERVAL_RANGE.max, true),
    graceSeconds: r.number('graceSeconds', d.graceSeconds, 0, 86_400, true),
    maxClockSkewSeconds: r.number('maxClockSkewSeconds', d.maxClockSkewSeconds, 0, 3600, true),
    minSpacingSeconds: r.number('minSpacingSeconds', d.minSpacingSeconds, 0, 3600, false),
  };
}
