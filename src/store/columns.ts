// The column lists of the CSV files: the user-facing contract, shared by writers, tests and readers.
// Changing a list makes append-log rotate existing files (a header is never mixed with other columns).

// log.csv and recentlog.csv: one row per host per poll.
export const LOG_COLUMNS = [
  'time',
  'server',
  'address',
  'transport',
  'status',
  'phase',
  'error',
  'duration_ms',
  'hostname',
  'os',
  'kernel',
  'uptime_days',
  'cores',
  'cpu_pct',
  'load_1m',
  'load_5m',
  'load_15m',
  'load_per_core',
  'mem_total_gb',
  'mem_used_gb',
  'mem_available_gb',
  'mem_pct',
  'swap_total_gb',
  'swap_used_gb',
  'swap_pct',
  'disk_worst_mount',
  'disk_worst_pct',
  'disk_worst_free_gb',
  'top_cpu',
  'top_mem',
  'logged_in',
  'notes',
] as const;

// processes.csv: every process record of every reachable host.
export const PROCESS_COLUMNS = ['time', 'server', 'pid', 'user', 'process', 'cpu_pct', 'mem_mb'] as const;

// disks.csv: every filesystem of every reachable host.
export const DISK_COLUMNS = [
  'time',
  'server',
  'mount',
  'fstype',
  'total_gb',
  'used_gb',
  'free_gb',
  'used_pct',
] as const;

// users.csv: per-user CPU and memory totals of every reachable host.
export const USER_COLUMNS = ['time', 'server', 'user', 'cpu_pct', 'mem_mb', 'processes'] as const;

// Names of a column list, for typed row objects.
export type LogColumn = (typeof LOG_COLUMNS)[number];
// Names of the processes.csv columns.
export type ProcessColumn = (typeof PROCESS_COLUMNS)[number];
// Names of the disks.csv columns.
export type DiskColumn = (typeof DISK_COLUMNS)[number];
// Names of the users.csv columns.
export type UserColumn = (typeof USER_COLUMNS)[number];

// File names inside the data directory.
export const DATA_FILES = {
  log: 'log.csv',
  recent: 'recentlog.csv',
  processes: 'processes.csv',
  disks: 'disks.csv',
  users: 'users.csv',
} as const;
