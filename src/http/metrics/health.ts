// fleetpoll's own health for /metrics, with prom-client: one Registry per server (no default global
// registry), gauges read from the service at scrape time, counters and the per-host poll duration
// histogram fed as each cycle finishes, and prom-client's default process metrics.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { VERSION } from '../../version.js';
import { POLL_STATUSES } from './fleet.js';
import type { MetricsCycle, MetricsSource } from './source.js';

/** Buckets of the per-host poll duration, seconds: a warm poll is well under a second, a dead host waits for its deadline. */
export const POLL_DURATION_BUCKETS_SEC = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60];

const UNLINTED_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

// The registry and the function that stops it listening to the service (called when the server closes).
export interface HealthRegistry {
  readonly registry: Registry;
  stop(): void;
}

/** Builds the registry of one server over its metrics source. */
export function healthRegistry(source: MetricsSource): HealthRegistry {
  const registry = new Registry();
  const registers = [registry];
  const last = (): MetricsCycle | null => source.lastCycle();

  new Gauge({
    name: 'fleetpoll_build_info',
    help: 'Always 1; the version label is the running fleetpoll',
    labelNames: ['version'],
    registers,
    collect() {
      this.set({ version: VERSION }, 1);
    },
  });
  new Gauge({
    name: 'fleetpoll_cycle_duration_seconds',
    help: 'Wall time of the last finished poll cycle (poll, CSV files, history, alerts), seconds',
    registers,
    collect() {
      const c = last();
      if (c !== null) this.set(c.durationMs / 1000);
    },
  });
  new Gauge({
    name: 'fleetpoll_last_cycle_timestamp_seconds',
    help: 'When the last finished poll cycle started, epoch seconds (alert when it falls far behind)',
    registers,
    collect() {
      const c = last();
      if (c !== null) this.set(c.startedAtSec);
    },
  });
  new Gauge({
    name: 'fleetpoll_hosts',
    help: 'Hosts of the last finished cycle by poll status',
    labelNames: ['status'],
    registers,
    collect() {
      const c = last();
      if (c === null) return;
      const counts = new Map<string, number>(POLL_STATUSES.map((s) => [s, 0]));
      for (const r of c.results) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
      for (const [status, n] of counts) this.set({ status }, n);
    },
  });
  new Gauge({
    name: 'fleetpoll_inventory_hosts',
    help: 'Enabled hosts in servers.csv now',
    registers,
    collect() {
      this.set(source.service().inventoryHosts);
    },
  });
  new Gauge({
    name: 'fleetpoll_connections_open',
    help: 'Kept (warm) SSH connections open now',
    registers,
    collect() {
      const open = source.service().connectionsOpen;
      if (open !== null) this.set(open);
    },
  });
  new Gauge({
    name: 'fleetpoll_alert_mails_queued',
    help: 'Alert notifications waiting for delivery after the last cycle (SMTP down or refusing)',
    registers,
    collect() {
      const queued = last()?.alertMailsQueued ?? null;
      if (queued !== null) this.set(queued);
    },
  });
  new Gauge({
    name: 'fleetpoll_alerts_firing',
    help: 'Alerts firing after the last cycle',
    registers,
    collect() {
      const firing = last()?.alertsFiring ?? null;
      if (firing !== null) this.set(firing);
    },
  });
  new Gauge({
    name: 'fleetpoll_history_store_bytes',
    help: 'Size of the history store on disk (SQLite file plus its write-ahead log), bytes',
    registers,
    collect() {
      const bytes = source.service().historyBytes;
      if (bytes !== null) this.set(bytes);
    },
  });
  new Counter({
    name: 'fleetpoll_cycles_skipped_total',
    help: 'Scheduled cycles skipped because the previous one overran its interval',
    registers,
    collect() {
      // The service counts; the counter shows its count.
      this.reset();
      this.inc(source.service().skippedCycles);
    },
  });
  const cycles = new Counter({ name: 'fleetpoll_cycles_total', help: 'Poll cycles finished since this server started', registers });
  const reconnects = new Counter({ name: 'fleetpoll_reconnects_total', help: 'Kept SSH connections re-opened during cycles since this server started', registers });
  const pollDuration = new Histogram({
    name: 'fleetpoll_host_poll_duration_seconds',
    help: 'Duration of each host poll (one observation per host per cycle), seconds, by poll status',
    labelNames: ['status'],
    buckets: POLL_DURATION_BUCKETS_SEC,
    registers,
  });
  collectDefaultMetrics({ register: registry });
  // Gauges prom-client names *_total, which promtool rightly flags; each is the sum of the labelled
  // nodejs_active_{handles,requests,resources} series it also writes, so nothing is lost.
  for (const name of UNLINTED_DEFAULTS) registry.removeSingleMetric(name);

  const stop = source.onCycle((cycle) => {
    cycles.inc();
    if (cycle.reconnects !== null) reconnects.inc(cycle.reconnects);
    for (const r of cycle.results) pollDuration.observe({ status: r.status }, r.durationMs / 1000);
  });
  return { registry, stop };
}
