// The `report` section of the settings file: window, forecast horizon, recipients, e-mail size, rotation.
import { SectionReader, type SettingsFileText } from '../settings-section.js';

// Whether fleetpoll rotates the history CSVs itself (monthly) or leaves it to logrotate and the like.
export type RotateMode = 'monthly' | 'off';

// Validated `report` settings.
export interface ReportSettings {
  /** Days in a report when --days is not given. */
  readonly days: number;
  /** A capacity forecast under this many days is flagged. */
  readonly horizonDays: number;
  /** Recipients of `report --email`; null = smtp.to. */
  readonly to: readonly string[] | null;
  readonly subjectPrefix: string;
  /** Rows of each fleet-wide list (busiest, closest to full, least available). */
  readonly top: number;
  /** Processes and users shown per server. */
  readonly topPerServer: number;
  /** Above this many servers the e-mail details only the servers the summary names (the file has all). */
  readonly emailMaxServers: number;
  readonly rotate: RotateMode;
  /** Where report files go; null = <dataDir>/reports. */
  readonly outDir: string | null;
}

// The defaults, as documented in the README.
export const DEFAULT_REPORT_SETTINGS: ReportSettings = {
  days: 7,
  horizonDays: 30,
  to: null,
  subjectPrefix: '[fleetpoll]',
  top: 10,
  topPerServer: 5,
  emailMaxServers: 50,
  rotate: 'monthly',
  outDir: null,
};

// The same bare-address rule as smtp.to and alerts.to.
const MAIL_ADDRESS = /^[^\s@<>,;"()]+@[^\s@<>,;"()]+$/;
const KEYS = ['days', 'horizonDays', 'to', 'subjectPrefix', 'top', 'topPerServer', 'emailMaxServers', 'rotate', 'outDir'];

/** Validates the `report` section (undefined when absent) plus FLEETPOLL_REPORT_TO; problems in config.ts's style. */
export function parseReportSettings(
  section: unknown,
  file: SettingsFileText | null,
  env: NodeJS.ProcessEnv,
  problems: string[],
  dirs: { readonly fileBase: string; readonly cwd: string },
): ReportSettings {
  const r = new SectionReader('report', section, file, problems);
  r.fromEnv('to', 'FLEETPOLL_REPORT_TO', env);
  r.rejectUnknown(KEYS);
  const d = DEFAULT_REPORT_SETTINGS;
  const to = r.has('to') ? r.stringList('to', [], MAIL_ADDRESS, 'e-mail addresses') : null;
  return {
    days: r.number('days', d.days, 1, 366, true),
    horizonDays: r.number('horizonDays', d.horizonDays, 1, 3650, false),
    to,
    subjectPrefix: r.string('subjectPrefix', d.subjectPrefix, /^[^\r\n]{0,100}$/, 'one line of at most 100 characters'),
    top: r.number('top', d.top, 1, 1000, true),
    topPerServer: r.number('topPerServer', d.topPerServer, 1, 100, true),
    emailMaxServers: r.number('emailMaxServers', d.emailMaxServers, 0, 100000, true),
    rotate: r.choice('rotate', d.rotate, ['monthly', 'off'] as const),
    outDir: r.path('outDir', null, dirs.fileBase, dirs.cwd),
  };
}
