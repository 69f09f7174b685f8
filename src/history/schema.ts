// The history store's schema, as an ordered list of migrations: migration i takes a store from
// user_version i to i + 1. A released migration is never edited; a change is a new one at the end.
// Times are integer epoch seconds UTC; sizes in kB as the probe reports them; percentages as given.
// Samples and their details are clustered by (host_id, at), so one host's range is one B-tree walk.
// A poll's details (users, disks, top processes, sessions) are one row (JSON arrays of arrays, see v3): they are
// read back whole, per poll, and a row per item was most of a cycle's inserts (bench/history.ts). That table is a
// rowid table: its rows are large, and a WITHOUT ROWID table stores large rows badly.

// One schema step, applied in a transaction.
export interface Migration {
  /** What the step adds, for `history stats` and errors. */
  readonly describe: string;
  readonly sql: string;
}

// v1: hosts, cycles, raw samples and their details (disks, per-user totals, top processes, sessions).
const V1 = `
CREATE TABLE hosts (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  address TEXT NOT NULL DEFAULT '',
  transport TEXT NOT NULL DEFAULT '',
  tags TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE cycles (
  started_at INTEGER PRIMARY KEY,
  duration_ms INTEGER,
  hosts_total INTEGER NOT NULL,
  hosts_ok INTEGER NOT NULL,
  hosts_failed INTEGER NOT NULL,
  coverage_pct REAL NOT NULL,
  latency_p50_ms INTEGER,
  latency_p95_ms INTEGER,
  reconnects INTEGER
);
CREATE TABLE samples (
  host_id INTEGER NOT NULL REFERENCES hosts(id),
  at INTEGER NOT NULL,
  status TEXT NOT NULL,
  phase TEXT,
  error TEXT,
  duration_ms INTEGER,
  attempts INTEGER,
  hostname TEXT,
  os_family TEXT,
  os_version TEXT,
  os_pretty TEXT,
  uptime_s INTEGER,
  cpu_cores INTEGER,
  cpu_pct REAL,
  load_1m REAL,
  load_5m REAL,
  load_15m REAL,
  mem_total_kb INTEGER,
  mem_available_kb INTEGER,
  mem_free_kb INTEGER,
  swap_total_kb INTEGER,
  swap_free_kb INTEGER,
  PRIMARY KEY (host_id, at)
) WITHOUT ROWID;
CREATE TABLE disks (
  host_id INTEGER NOT NULL,
  at INTEGER NOT NULL,
  mount TEXT NOT NULL,
  fs_type TEXT NOT NULL,
  total_kb INTEGER,
  used_kb INTEGER NOT NULL,
  available_kb INTEGER NOT NULL,
  PRIMARY KEY (host_id, at, mount),
  FOREIGN KEY (host_id, at) REFERENCES samples(host_id, at) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE TABLE users (
  host_id INTEGER NOT NULL,
  at INTEGER NOT NULL,
  user TEXT NOT NULL,
  cpu_pct REAL NOT NULL,
  rss_kb INTEGER NOT NULL,
  process_count INTEGER,
  PRIMARY KEY (host_id, at, user),
  FOREIGN KEY (host_id, at) REFERENCES samples(host_id, at) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE TABLE processes (
  host_id INTEGER NOT NULL,
  at INTEGER NOT NULL,
  list TEXT NOT NULL,
  PRIMARY KEY (host_id, at),
  FOREIGN KEY (host_id, at) REFERENCES samples(host_id, at) ON DELETE CASCADE
);
CREATE TABLE sessions (
  host_id INTEGER NOT NULL,
  at INTEGER NOT NULL,
  list TEXT NOT NULL,
  PRIMARY KEY (host_id, at),
  FOREIGN KEY (host_id, at) REFERENCES samples(host_id, at) ON DELETE CASCADE
);
`;

// v2: hourly rollups (avg, min, max) of the host metrics, disk used % and per-user totals, and the
// bookkeeping that keeps them and the retention going a bounded step per recorded cycle.
const V2 = `
CREATE TABLE hourly (
  host_id INTEGER NOT NULL REFERENCES hosts(id),
  hour INTEGER NOT NULL,
  polls INTEGER NOT NULL,
  ok INTEGER NOT NULL,
  last_failure TEXT,
  cpu_pct_avg REAL, cpu_pct_min REAL, cpu_pct_max REAL,
  mem_pct_avg REAL, mem_pct_min REAL, mem_pct_max REAL,
  swap_pct_avg REAL, swap_pct_min REAL, swap_pct_max REAL,
  load_1m_avg REAL, load_1m_min REAL, load_1m_max REAL,
  load_5m_avg REAL, load_5m_min REAL, load_5m_max REAL,
  load_15m_avg REAL, load_15m_min REAL, load_15m_max REAL,
  mem_used_kb_avg REAL, mem_used_kb_min REAL, mem_used_kb_max REAL,
  PRIMARY KEY (host_id, hour)
) WITHOUT ROWID;
CREATE TABLE hourly_disks (
  host_id INTEGER NOT NULL REFERENCES hosts(id),
  hour INTEGER NOT NULL,
  mount TEXT NOT NULL,
  used_pct_avg REAL, used_pct_min REAL, used_pct_max REAL,
  PRIMARY KEY (host_id, hour, mount)
) WITHOUT ROWID;
CREATE TABLE hourly_users (
  host_id INTEGER NOT NULL REFERENCES hosts(id),
  hour INTEGER NOT NULL,
  user TEXT NOT NULL,
  polls INTEGER NOT NULL,
  cpu_pct_avg REAL, cpu_pct_min REAL, cpu_pct_max REAL,
  rss_kb_avg REAL, rss_kb_min REAL, rss_kb_max REAL,
  PRIMARY KEY (host_id, hour, user)
) WITHOUT ROWID;
CREATE TABLE maintenance (
  key TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
`;

// v3: a poll's details in one row: its per-user totals, filesystems, top processes and sessions, each a JSON
// array of arrays (the field order is in details.ts), instead of a row per user and per filesystem in tables
// of their own. Recording a 1,000-host cycle was 14 inserts per host; it is now 2 (bench/history.ts: the
// cycle's CPU went from ~120 ms to ~60), and nothing reads a single user or filesystem of a poll: the queries
// and the rollups read a host's polls over a range and fold the lists. Existing rows are converted; polls
// without any detail get no row. A rowid table, as processes was: its rows are large.
const V3 = `
CREATE TABLE details (
  host_id INTEGER NOT NULL,
  at INTEGER NOT NULL,
  users TEXT,
  disks TEXT,
  processes TEXT,
  sessions TEXT,
  PRIMARY KEY (host_id, at),
  FOREIGN KEY (host_id, at) REFERENCES samples(host_id, at) ON DELETE CASCADE
);
INSERT INTO details (host_id, at, users, disks, processes, sessions)
SELECT k.host_id, k.at,
  (SELECT nullif(json_group_array(json_array(u.user, u.cpu_pct, u.rss_kb, u.process_count)), '[]') FROM users u WHERE u.host_id = k.host_id AND u.at = k.at),
  (SELECT nullif(json_group_array(json_array(d.mount, d.fs_type, d.total_kb, d.used_kb, d.available_kb)), '[]') FROM disks d WHERE d.host_id = k.host_id AND d.at = k.at),
  (SELECT p.list FROM processes p WHERE p.host_id = k.host_id AND p.at = k.at),
  (SELECT s.list FROM sessions s WHERE s.host_id = k.host_id AND s.at = k.at)
FROM (SELECT host_id, at FROM users UNION SELECT host_id, at FROM disks UNION SELECT host_id, at FROM processes UNION SELECT host_id, at FROM sessions) k
ORDER BY k.at, k.host_id;
DROP TABLE users;
DROP TABLE disks;
DROP TABLE processes;
DROP TABLE sessions;
`;

// Every migration, oldest first; the store's current version is MIGRATIONS.length.
export const MIGRATIONS: readonly Migration[] = [
  { describe: 'hosts, cycles, samples, disks, users, processes, sessions', sql: V1 },
  { describe: 'hourly rollups and maintenance state', sql: V2 },
  { describe: "a poll's users, disks, processes and sessions in one details row", sql: V3 },
];

// The schema version this build writes.
export const SCHEMA_VERSION = MIGRATIONS.length;
