// Last cycles for the metrics tests and the benchmark: generated results with known values, and a
// host whose mount points and user names are hostile to the exposition format.
import type { MetricsCycle, MetricsSource, ServiceFigures } from '../../src/http/metrics/source.js';
import type { PollResult } from '../../src/model.js';
import { failedResult, GIB_KB, okResult } from './store-fixtures.js';

/** Label values a host could send that would break a careless writer: quotes, backslashes, line feeds, braces, a fake comment. */
export const HOSTILE_MOUNT = '/mnt/a "quoted" \\share\\ {x="1"},\n# TYPE evil counter';
export const HOSTILE_USER = 'ev"il\\user\nnode_load1 99';
export const HOSTILE_FSTYPE = 'fuse.\\"sshfs"';

/** A cycle of these results; each ok host's last success is the end of its poll. */
export function metricsCycle(results: readonly PollResult[], extra: Partial<MetricsCycle> = {}): MetricsCycle {
  const lastOk = new Map<string, number>();
  for (const r of results) if (r.status === 'ok') lastOk.set(r.host.name, Math.round(r.startedAt.getTime() + r.durationMs) / 1000);
  return {
    startedAtSec: Math.floor((results[0]?.startedAt.getTime() ?? 0) / 1000),
    durationMs: 5_000,
    results,
    lastOkAtSec: lastOk,
    reconnects: 1,
    alertMailsQueued: 2,
    alertsFiring: 3,
    ...extra,
  };
}

/** web1 (ok, the store fixtures' sample), evil (ok, hostile mount and user), down (unreachable). */
export function sampleFleet(): PollResult[] {
  return [
    okResult('web1'),
    okResult('evil', {
      disks: [
        { mount: HOSTILE_MOUNT, fsType: HOSTILE_FSTYPE, totalKb: 10 * GIB_KB, usedKb: 4 * GIB_KB, availableKb: 5 * GIB_KB },
        { mount: HOSTILE_MOUNT, fsType: HOSTILE_FSTYPE, totalKb: 10 * GIB_KB, usedKb: 4 * GIB_KB, availableKb: 5 * GIB_KB },
      ],
      users: [
        { user: HOSTILE_USER, cpuPct: 150, rssKb: 1024, processCount: 3 },
        { user: 'idle', cpuPct: 0, rssKb: 0, processCount: 0 },
      ],
      load: null,
    }),
    failedResult('down', 'unreachable', 'connect', 'connect ECONNREFUSED'),
  ];
}

/** `n` ok hosts like a real fleet: 3 filesystems, 8 users with processes each. */
export function largeFleet(n: number): PollResult[] {
  const users = ['root', 'postgres', 'www-data', 'systemd-journal', 'messagebus', 'syslog', 'nobody', 'backup'];
  return Array.from({ length: n }, (_, i) =>
    okResult(`host${String(i).padStart(5, '0')}.example.net`, {
      cpuBusyPct: i % 100,
      disks: ['/', '/var', '/srv/data'].map((mount, j) => ({ mount, fsType: 'ext4', totalKb: (j + 1) * 100 * GIB_KB, usedKb: i * 1024, availableKb: 50 * GIB_KB })),
      users: users.map((user, j) => ({ user, cpuPct: j * 1.5, rssKb: (j + 1) * 50_000, processCount: j + 1 })),
    }),
  );
}

/** A MetricsSource over a fixed cycle (or none) and fixed figures, for route tests; `emit` plays a finished cycle. */
export class FixedMetricsSource implements MetricsSource {
  private readonly listeners = new Set<(c: MetricsCycle) => void>();
  figures: ServiceFigures = { inventoryHosts: 3, skippedCycles: 4, connectionsOpen: 2, historyBytes: 123_456 };

  constructor(public cycle: MetricsCycle | null) {}

  lastCycle(): MetricsCycle | null {
    return this.cycle;
  }

  service(): ServiceFigures {
    return this.figures;
  }

  onCycle(listener: (c: MetricsCycle) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Makes `cycle` the last one and tells the listeners, as the serve loop does. */
  emit(cycle: MetricsCycle): void {
    this.cycle = cycle;
    for (const l of this.listeners) l(cycle);
  }

  get listening(): number {
    return this.listeners.size;
  }
}
