// Fakes at the HTTP layer's seams (HistoryReader, ServiceStatus, Log) and a server built on them.
// The real history store is tested in test/history/; these let every route and error be driven exactly.
import type { FastifyInstance } from 'fastify';
import type { Log } from '../../src/log.js';
import type { CycleRow, HistoryReader, LatestRow, ProcessSnapshot, Series, UserRange, UsersSeries } from '../../src/http/history-reader.js';
import { buildHttpServer } from '../../src/http/server.js';
import type { Readiness, ServiceStatus, StatusSnapshot } from '../../src/http/service-status.js';
import { DEFAULT_HTTP_SETTINGS, type HttpSettings } from '../../src/http/settings.js';

/** "Now" in every route test: 2026-12-04T12:00:00Z. */
export const NOW_SEC = Date.UTC(2026, 11, 4, 12, 0, 0) / 1000;

const base: Omit<LatestRow, 'host'> = {
  address: '10.0.0.1',
  transport: 'ssh',
  tags: ['web'],
  at: NOW_SEC - 60,
  status: 'ok',
  phase: null,
  error: null,
  durationMs: 420,
  hostname: 'web01.example.net',
  os: 'Debian GNU/Linux 12',
  uptimeSec: 86400,
  cpuCores: 4,
  cpuPct: 12.5,
  load1m: 0.5,
  memTotalKb: 8_000_000,
  memAvailableKb: 4_800_000,
  memPct: 40,
  swapPct: 0,
};

/** The fleet the fake knows: one host ok, one down. */
export const FAKE_HOSTS: readonly LatestRow[] = [
  { ...base, host: 'web01' },
  { ...base, host: 'db01', tags: ['db'], status: 'unreachable', phase: 'connect', error: 'connect ECONNREFUSED 10.0.0.2:22', hostname: null, cpuPct: null, memPct: null },
];

// The calls a FakeHistoryReader received, by method.
export type FakeCall = { method: string; args: unknown[] };

// An in-memory HistoryReader that records the calls it was asked.
export class FakeHistoryReader implements HistoryReader {
  readonly calls: FakeCall[] = [];
  /** Set to make every call throw (a broken store, or the store's own QueryError). */
  failWith: Error | null = null;

  hasHost(host: string): boolean {
    this.fail();
    return FAKE_HOSTS.some((h) => h.host === host);
  }

  latest(): readonly LatestRow[] {
    this.fail();
    return FAKE_HOSTS;
  }

  series(host: string, metrics: readonly string[], from: number, to: number, stepSec?: number): Series | null {
    this.record('series', host, metrics, from, to, stepSec);
    if (!this.hasHost(host)) return null;
    const step = stepSec ?? 300;
    const gap = Object.fromEntries(metrics.map((m) => [m, null]));
    return {
      host,
      from,
      to,
      stepSec: step,
      source: step >= 3600 ? 'hourly' : 'raw',
      metrics: metrics as Series['metrics'],
      points: [
        { t: from, polls: 1, ok: 1, status: 'ok', values: Object.fromEntries(metrics.map((m) => [m, { avg: 1.5, max: 2 }])) },
        { t: from + step, polls: 1, ok: 0, status: 'timeout', values: gap },
      ],
    };
  }

  users(host: string, from: number, to: number): readonly UserRange[] | null {
    this.record('users', host, from, to);
    if (!this.hasHost(host)) return null;
    return [{ user: 'postgres', polls: 12, cpuPctAvg: 35.5, cpuPctMax: 80, rssKbAvg: 1_200_000, rssKbMax: 1_300_000 }];
  }

  usersSeries(host: string, from: number, to: number, stepSec: number | undefined, exclude: readonly string[]): UsersSeries | null {
    this.record('usersSeries', host, from, to, stepSec, exclude);
    if (!this.hasHost(host)) return null;
    const step = stepSec ?? 300;
    return { host, from, to, step, cores: 4, memTotalKb: 8_000_000, times: [from, from + step], users: [{ user: 'postgres', cpuPct: [35.5, null], rssKb: [1_200_000, null] }] };
  }

  processes(host: string, at: number): ProcessSnapshot | null {
    this.record('processes', host, at);
    if (!this.hasHost(host) || at < NOW_SEC - 7 * 86400) return null;
    return {
      at: at - (at % 300),
      status: 'ok',
      processes: [{ pid: 4242, user: 'www-data', cpuPct: 88.1, rssKb: 512_000, name: '<img src=x onerror=alert(1)>' }],
      sessions: [{ user: 'alice', terminal: 'pts/0', from: '192.0.2.7' }],
    };
  }

  cycles(from: number, to: number): readonly CycleRow[] {
    this.record('cycles', from, to);
    const cycle: CycleRow = {
      startedAt: to - 600,
      durationMs: 5120,
      hostsTotal: 2,
      hostsOk: 1,
      hostsFailed: 1,
      coveragePct: 50,
      latencyP50Ms: 410,
      latencyP95Ms: 900,
      reconnects: 0,
    };
    return [cycle, { ...cycle, startedAt: to - 300 }];
  }

  /** The arguments of the last call of `method`. */
  last(method: string): unknown[] | undefined {
    return this.calls.filter((c) => c.method === method).at(-1)?.args;
  }

  private record(method: string, ...args: unknown[]): void {
    this.fail();
    this.calls.push({ method, args });
  }

  private fail(): void {
    if (this.failWith !== null) throw this.failWith;
  }
}

// A ServiceStatus whose readiness the test sets.
export class FakeServiceStatus implements ServiceStatus {
  state: Readiness = { ready: true };

  readiness(): Readiness {
    return this.state;
  }

  snapshot(): StatusSnapshot {
    return {
      version: '0.1.0',
      startedAtSec: NOW_SEC - 3600,
      intervalSeconds: 300,
      cycleRunning: false,
      nextCycleAtSec: NOW_SEC + 120,
      lastCycle: null,
      skippedCycles: 0,
      hosts: 2,
      reload: { atSec: NOW_SEC - 100, ok: false, problems: ['inventory/servers.csv:7: port "22x" is not a number'] },
    };
  }
}

// A Log that keeps its lines, to check what was (and was not) logged.
export class RecordingLog implements Log {
  readonly lines: { level: string; message: string; meta: Record<string, unknown> | undefined }[] = [];
  error(message: string, meta?: Record<string, unknown>): void {
    this.lines.push({ level: 'error', message, meta });
  }
  warn(message: string, meta?: Record<string, unknown>): void {
    this.lines.push({ level: 'warn', message, meta });
  }
  info(message: string, meta?: Record<string, unknown>): void {
    this.lines.push({ level: 'info', message, meta });
  }
  debug(message: string, meta?: Record<string, unknown>): void {
    this.lines.push({ level: 'debug', message, meta });
  }
  child(): Log {
    return this;
  }
}

// A server on the fakes, with the parts a test wants to look at.
export interface FakeServer {
  readonly app: FastifyInstance;
  readonly reader: FakeHistoryReader;
  readonly status: FakeServiceStatus;
  readonly log: RecordingLog;
}

/** Builds (does not listen) a server on the fakes; settings default to loopback without credentials. */
export function fakeServer(settings: Partial<HttpSettings> = {}, env: NodeJS.ProcessEnv = {}): FakeServer {
  const reader = new FakeHistoryReader();
  const status = new FakeServiceStatus();
  const log = new RecordingLog();
  const app = buildHttpServer({ settings: { ...DEFAULT_HTTP_SETTINGS, ...settings }, env, reader, status, log, nowSec: () => NOW_SEC });
  return { app, reader, status, log };
}

// The parts of an inject() or real response the error checks read.
interface ResponseLike {
  readonly statusCode: number;
  readonly headers: Record<string, unknown>;
  readonly body: string;
}

/** Asserts the one error shape: status, JSON, exactly {error, detail}, the detail matching. */
export function assertApiError(response: ResponseLike, statusCode: number, error: string, detail: RegExp | string): void {
  const context = `${response.statusCode} ${response.body}`;
  if (response.statusCode !== statusCode) throw new Error(`expected status ${statusCode}, got ${context}`);
  if (!String(response.headers['content-type']).startsWith('application/json')) throw new Error(`not JSON: ${String(response.headers['content-type'])}`);
  const body = JSON.parse(response.body) as Record<string, unknown>;
  const keys = Object.keys(body).sort().join(',');
  if (keys !== 'detail,error') throw new Error(`error body has keys ${keys}: ${context}`);
  if (body.error !== error) throw new Error(`expected error ${error}: ${context}`);
  const ok = typeof detail === 'string' ? body.detail === detail : detail.test(String(body.detail));
  if (!ok) throw new Error(`detail ${JSON.stringify(body.detail)} does not match ${String(detail)}`);
}
