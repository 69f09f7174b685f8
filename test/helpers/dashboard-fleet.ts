// A small fleet with a generated history, served by the real HTTP server with the dashboard, for the
// browser tests: five hosts polled every 5 minutes for 26 hours up to now, one down at the end, one
// with a run of failed polls in the middle, and a process and a user with hostile names.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { DiskQueries } from '../../src/history/disk-queries.js';
import { FleetQueries } from '../../src/history/fleet-queries.js';
import { HistoryStore } from '../../src/history/store.js';
import { buildHttpServer, listenHttp } from '../../src/http/server.js';
import { DEFAULT_HTTP_SETTINGS } from '../../src/http/settings.js';
import type { PollResult } from '../../src/model.js';
import type { WorkerStatus } from '../../src/web/shapes.js';
import { failedResult, GIB_KB, host, okResult, sample } from './store-fixtures.js';

/** The hostile names the pages must show as text. */
export const HOSTILE_PROCESS = '<img src=x onerror=alert(1)>';
export const HOSTILE_USER = '<b>mallory</b>';
/** A process name a spreadsheet would run as a formula. */
export const FORMULA_PROCESS = '=HYPERLINK("http://x.invalid","y")';
export const POLL_SEC = 300;
const POLLS = 26 * 12;

// What a host of the fleet is and reports at each poll k (k = POLLS - 1 is the latest).
export interface FleetHost {
  readonly name: string;
  readonly tags: readonly string[];
  /** CPU % at poll k. */
  cpuPct(k: number): number;
  /** null: poll k failed with this status. */
  failure(k: number): 'timeout' | 'unreachable' | null;
  readonly memAvailableGib: number;
}

/** The fleet of the tests. */
export const FLEET: readonly FleetHost[] = [
  { name: 'web1', tags: ['web', 'prod'], cpuPct: (k) => 40 + (k % 5), failure: () => null, memAvailableGib: 2 },
  { name: 'web2', tags: ['web'], cpuPct: (k) => 10 + (k % 3), failure: (k) => (k >= POLLS - 40 && k < POLLS - 34 ? 'timeout' : null), memAvailableGib: 6 },
  { name: 'db1', tags: ['db', 'prod'], cpuPct: (k) => 80 + (k % 2) / 2, failure: () => null, memAvailableGib: 1 },
  { name: 'db2', tags: ['db'], cpuPct: () => 5, failure: (k) => (k >= POLLS - 3 ? 'unreachable' : null), memAvailableGib: 4 },
  { name: 'app1', tags: ['app'], cpuPct: (k) => 20 + (k % 7), failure: () => null, memAvailableGib: 3 },
];

/** The latest poll's index, and its time relative to the end of the history. */
export const LATEST = POLLS - 1;

function result(h: FleetHost, k: number): PollResult {
  const failure = h.failure(k);
  if (failure !== null) return { ...failedResult(h.name, failure, 'connect', `connect ETIMEDOUT ${h.name}:22`), host: host(h.name, { tags: [...h.tags] }) };
  const base = sample();
  return okResult(
    h.name,
    {
      cpuBusyPct: h.cpuPct(k),
      mem: { ...base.mem, availableKb: h.memAvailableGib * GIB_KB },
      // /var grows 0.01 GiB a poll: about 2.9 GiB a day, full within days.
      disks: [base.disks[0]!, { mount: '/var', fsType: 'xfs', totalKb: 20 * GIB_KB, usedKb: Math.round((10 + k * 0.01) * GIB_KB), availableKb: Math.round((10 - k * 0.01) * GIB_KB) }],
      procs: [...base.procs, { pid: 666, user: HOSTILE_USER, cpuPct: 12.5, rssKb: 4096, name: HOSTILE_PROCESS }, { pid: 667, user: 'root', cpuPct: 0.5, rssKb: 2048, name: FORMULA_PROCESS }],
      users: [...base.users, { user: HOSTILE_USER, cpuPct: 12.5, rssKb: 4096, processCount: 1 }],
    },
    { tags: [...h.tags] },
  );
}

// A running server over a generated history.
export interface DashboardFleet {
  readonly url: string;
  readonly app: FastifyInstance;
  /** Epoch seconds of the latest poll. */
  readonly latestAt: number;
  /** What the service's status says of zone workers: null = standalone (the default), a list = a coordinator (a fake at the status seam). */
  setWorkers(workers: readonly WorkerStatus[] | null): void;
  close(): Promise<void>;
}

/** Generates the history (ending at the current 5-minute mark) and starts the server on `bind`. */
export async function startDashboardFleet(bind = '127.0.0.1'): Promise<DashboardFleet> {
  const dir = mkdtempSync(join(tmpdir(), 'fleetpoll-dashboard-'));
  const store = HistoryStore.open(join(dir, 'history.sqlite'), { rawDays: 35, hourlyDays: 400 });
  const latestAt = Math.floor(Date.now() / 1000 / POLL_SEC) * POLL_SEC - POLL_SEC;
  const first = latestAt - LATEST * POLL_SEC;
  for (let k = 0; k <= LATEST; k += 1) {
    const at = first + k * POLL_SEC;
    store.record(
      FLEET.map((h) => result(h, k)),
      { startedAt: new Date(at * 1000), durationMs: 900 },
    );
    store.step(at);
  }
  const alertStateFile = join(dir, 'alert-state.json');
  const alertLogFile = join(dir, 'alert-transitions.jsonl');
  const iso = (sec: number): string => new Date(sec * 1000).toISOString();
  writeFileSync(
    alertStateFile,
    JSON.stringify({
      version: 1,
      queue: [],
      alerts: [
        { host: 'db2', rule: 'down', mount: null, phase: 'firing', level: 'critical', since: iso(latestAt - 600), firedAt: iso(latestAt), heldPolls: 3, critPolls: 3, clearPolls: 0, lowerPolls: 0, value: null, threshold: null, reason: 'unreachable: connect ETIMEDOUT', lastNoticeAt: iso(latestAt), adopted: false },
      ],
    }),
  );
  writeFileSync(
    alertLogFile,
    [
      { at: iso(latestAt - 7200), kind: 'firing', host: 'db1', rule: 'cpu', mount: null, level: 'warning', value: 80.5, threshold: 80, reason: null },
      { at: iso(latestAt - 3600), kind: 'resolved', host: 'db1', rule: 'cpu', mount: null, level: 'warning', value: 70, threshold: 80, reason: null },
      { at: iso(latestAt), kind: 'firing', host: 'db2', rule: 'down', mount: null, level: 'critical', value: null, threshold: null, reason: HOSTILE_PROCESS },
    ]
      .map((t) => JSON.stringify(t))
      .join('\n') + '\n',
  );
  const log = { debug() {}, info() {}, warn() {}, error() {}, child() { return log; } } as never;
  let workers: readonly WorkerStatus[] | null = null;
  const app = buildHttpServer({
    settings: { ...DEFAULT_HTTP_SETTINGS, bind, port: 0 },
    env: {},
    reader: store.read(),
    status: { readiness: () => ({ ready: true }), snapshot: () => ({}), workers: () => workers } as never,
    log,
    dashboard: { disks: new DiskQueries(store.db), fleet: new FleetQueries(store.db), alertStateFile, alertLogFile, forecastDays: 7, horizonDays: 30 },
  });
  const url = await listenHttp(app, { ...DEFAULT_HTTP_SETTINGS, bind, port: 0 });
  return {
    url,
    app,
    latestAt,
    setWorkers: (list) => {
      workers = list;
    },
    close: async () => {
      await app.close();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
