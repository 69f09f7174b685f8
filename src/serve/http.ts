// The HTTP API of the service: the `http` settings, the kept history store as its HistoryReader, and
// the loop's state as its ServiceStatus (readyz: ready once a cycle is recorded and the store is open).
import type { FastifyInstance } from 'fastify';
import type { HttpSettings } from '../http/settings.js';
import { buildHttpServer, listenHttp } from '../http/server.js';
import type { Readiness, ServiceStatus, StatusSnapshot } from '../http/service-status.js';
import type { Log } from '../log.js';
import { VERSION } from '../version.js';
import type { DashboardSource } from '../web/reader.js';
import type { ServeHistory } from './history.js';
import { metricsSource } from './metrics-source.js';
import type { ServiceState } from './status.js';
import type { WarmStats } from './transports.js';

// /api/v1/status, plus what the service adds: kept-connection counts and the last write failure.
export interface ServeStatusSnapshot extends StatusSnapshot {
  readonly connections: WarmStats | null;
  readonly lastError: string | null;
  readonly historyProblem: string | null;
}

/** The ServiceStatus the API reads, over the loop's state and the store. */
export function serviceStatus(state: ServiceState, history: ServeHistory): ServiceStatus {
  return {
    readiness(): Readiness {
      if (state.lastCycle === null) return { ready: false, reason: 'no cycle has finished yet' };
      if (history.problem !== null) return { ready: false, reason: history.problem };
      return { ready: true };
    },
    workers: () => state.workers?.() ?? null,
    snapshot(): ServeStatusSnapshot {
      const last = state.lastCycle;
      return {
        version: VERSION,
        startedAtSec: state.startedAtSec,
        intervalSeconds: state.intervalSeconds,
        cycleRunning: state.cycleRunning,
        nextCycleAtSec: state.nextCycleAtSec,
        lastCycle:
          last === null
            ? null
            : {
                startedAt: last.startedAt,
                durationMs: last.durationMs,
                hostsTotal: last.hostsTotal,
                hostsOk: last.hostsOk,
                hostsFailed: last.hostsFailed,
                coveragePct: last.coveragePct,
                latencyP50Ms: last.latencyP50Ms,
                latencyP95Ms: last.latencyP95Ms,
                reconnects: last.reconnects,
              },
        skippedCycles: state.skippedCycles,
        hosts: state.hosts,
        reload: state.reload,
        connections: state.warm?.() ?? null,
        lastError: state.lastError,
        historyProblem: history.problem,
      };
    },
  };
}

/** Builds and starts the server (with push ingest, docs/push.md); throws HttpStartError (settings) or the listen error (address in use). */
export async function startHttp(
  settings: HttpSettings,
  env: NodeJS.ProcessEnv,
  state: ServiceState,
  history: ServeHistory,
  log: Log,
  push: { readonly dataDir: string; readonly bodyLimitBytes: number },
  dashboard: Omit<DashboardSource, 'disks' | 'fleet'> | null = null,
): Promise<FastifyInstance> {
  const ingest = { dataDir: push.dataDir, bodyLimitBytes: push.bodyLimitBytes, current: () => state.push };
  const app = buildHttpServer({
    settings,
    env,
    reader: history.reader(),
    status: serviceStatus(state, history),
    metrics: metricsSource(state, history),
    log,
    ingest,
    ...(dashboard === null ? {} : { dashboard: { ...dashboard, disks: history.disks(), fleet: history.fleet() } }),
  });
  try {
    const url = await listenHttp(app, settings);
    log.info(`HTTP API listening on ${url}`);
  } catch (error) {
    await app.close();
    throw error;
  }
  return app;
}
