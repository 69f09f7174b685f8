// The JSON the dashboard's pages read, shared by the server (src/web/api.ts) and the browser code
// (src/web/client/): one definition, so both sides are checked against it. Times are epoch seconds UTC.

// One host in the overview table.
export interface OverviewHost {
  readonly host: string;
  readonly tags: readonly string[];
  readonly status: string;
  readonly error: string | null;
  /** Time of the latest poll. */
  readonly at: number;
  readonly cpuPct: number | null;
  readonly memPct: number | null;
  readonly swapPct: number | null;
  /** Used % of the fullest filesystem at the latest poll. */
  readonly diskPct: number | null;
  readonly loadPerCore: number | null;
  readonly uptimeSec: number | null;
  /** Hourly CPU % and memory % over the last 24 h (sparkFrom + i·3600), null = no successful poll. */
  readonly cpu24: readonly (number | null)[];
  readonly mem24: readonly (number | null)[];
}

// GET /api/v1/dashboard/overview.
export interface OverviewData {
  readonly now: number;
  readonly sparkFrom: number;
  readonly sparkStepSec: number;
  readonly hosts: readonly OverviewHost[];
}

// GET /api/v1/dashboard/heatmap: one row per host (by name), one column per step; values rounded to whole %.
export interface HeatmapData {
  readonly metric: 'cpu_pct' | 'mem_pct';
  readonly from: number;
  readonly to: number;
  readonly first: number;
  readonly stepSec: number;
  readonly hosts: readonly string[];
  readonly values: readonly (readonly (number | null)[])[];
}

// A filesystem's days-until-full forecast, as the weekly report computes it.
export type DiskForecast =
  | { readonly kind: 'insufficient-data' }
  | { readonly kind: 'not-growing' }
  | { readonly kind: 'full-in'; readonly days: number; readonly flagged: boolean };

// One filesystem on the host page.
export interface HostDisk {
  readonly mount: string;
  readonly usedPct: readonly (number | null)[];
  /** Used % at the last reading of the forecast window. */
  readonly lastUsedPct: number | null;
  readonly forecast: DiskForecast;
}

// GET /api/v1/dashboard/hosts/:name: every chart of the host page, downsampled to the chart's width.
export interface HostData {
  readonly host: string;
  readonly from: number;
  readonly to: number;
  readonly stepSec: number;
  readonly tags: readonly string[];
  readonly status: string | null;
  readonly error: string | null;
  readonly os: string | null;
  readonly cores: number | null;
  readonly memTotalKb: number | null;
  /** Bucket starts. */
  readonly times: readonly number[];
  /** Per bucket: 'ok' if any poll succeeded, else the failure status; null when no poll fell in it. */
  readonly polls: readonly (string | null)[];
  readonly cpuPct: readonly (number | null)[];
  readonly load1m: readonly (number | null)[];
  readonly load5m: readonly (number | null)[];
  readonly load15m: readonly (number | null)[];
  readonly memUsedGb: readonly (number | null)[];
  readonly memAvailableGb: readonly (number | null)[];
  readonly swapPct: readonly (number | null)[];
  readonly disks: readonly HostDisk[];
  /** The window the forecasts were fitted over (the weekly report's: report.days before `to`). */
  readonly forecastDays: number;
  readonly horizonDays: number;
}

// GET /api/v1/hosts/:name/users/series (the per-user stacked areas).
export interface UserSeriesData {
  readonly host: string;
  readonly from: number;
  readonly to: number;
  readonly step: number;
  readonly cores: number | null;
  readonly memTotalKb: number | null;
  readonly times: readonly number[];
  readonly users: readonly { readonly user: string; readonly cpuPct: readonly (number | null)[]; readonly rssKb: readonly (number | null)[] }[];
}

// GET /api/v1/hosts/:name/processes.
export interface ProcessesData {
  readonly host: string;
  readonly at: number;
  readonly status: string;
  readonly processes: readonly { readonly pid: number; readonly user: string; readonly cpuPct: number; readonly rssKb: number; readonly name: string }[];
  readonly sessions: readonly { readonly user: string; readonly terminal: string; readonly from: string }[];
}

// An alert firing (or pending) now, from data/alert-state.json.
export interface AlertNow {
  readonly host: string;
  readonly rule: string;
  readonly mount: string | null;
  readonly phase: 'pending' | 'firing';
  readonly level: string;
  readonly since: string;
  readonly firedAt: string | null;
  readonly value: number | null;
  readonly threshold: number | null;
  readonly reason: string | null;
}

// A firing/escalated/resolved/reminder transition, from data/alert-transitions.jsonl.
export interface AlertTransition {
  readonly at: string;
  readonly kind: string;
  readonly host: string;
  readonly rule: string;
  readonly mount: string | null;
  readonly level: string;
  readonly value: number | null;
  readonly threshold: number | null;
  readonly reason: string | null;
}

// GET /api/v1/dashboard/alerts.
export interface AlertsData {
  /** false when alerts are off in the settings. */
  readonly enabled: boolean;
  /** Why the state could not be read; null when it could (or there is none yet). */
  readonly problem: string | null;
  readonly now: readonly AlertNow[];
  readonly transitions: readonly AlertTransition[];
  /** Notifications waiting for the SMTP server. */
  readonly queued: number;
}

// One worker poller as /api/v1/workers shows it (zones: the coordinator hears its heartbeats).
export interface WorkerStatus {
  readonly id: string;
  readonly zone: string;
  readonly version: string;
  readonly hostname: string;
  readonly pid: number;
  readonly startedAtSec: number;
  readonly lastSeenSec: number;
  readonly inFlight: number;
  readonly done: number;
  /** The slots of its zone's 60 it owns (docs/zones.md, host affinity); null from a worker of a version without slots. */
  readonly slots: number | null;
  readonly live: boolean;
}

// GET /api/v1/workers (the Workers page): standalone, or the coordinator with the workers it hears from.
export interface WorkersData {
  readonly mode: 'standalone' | 'coordinator';
  readonly workers: readonly WorkerStatus[];
}
