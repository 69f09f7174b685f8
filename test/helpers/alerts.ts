// Synthetic poll results and a poll-by-poll driver of the pure alert evaluator.
import { evaluate } from '../../src/alerts/evaluate.js';
import { hostRules, parseAlertSettings, type AlertSettings, type HostRules } from '../../src/alerts/settings.js';
import type { AlertEntry, Notification } from '../../src/alerts/types.js';
import type { Host, PollResult, Proc, Sample } from '../../src/model.js';
import { failedResult, GIB_KB, host, okResult } from './store-fixtures.js';

// Polls are 5 minutes apart, starting at T0.
export const POLL_MS = 5 * 60_000;
// The time of the first simulated poll.
export const T0 = new Date('2026-11-22T10:00:00.000Z');

/** Alert settings from an `alerts` section literal; fails on any problem. */
export function alertSettings(section: unknown = {}): AlertSettings {
  const problems: string[] = [];
  const settings = parseAlertSettings(section, null, problems);
  if (problems.length > 0) throw new Error(problems.join('\n'));
  return settings;
}

// What a host looks like at one poll: measured values, or down.
export interface HostSpec {
  readonly cpu?: number;
  readonly memPct?: number;
  readonly swapPct?: number | null;
  readonly load1?: number;
  readonly disks?: Record<string, number>;
  readonly procs?: Proc[];
  readonly down?: { status: 'timeout' | 'unreachable' | 'auth_failed' | 'probe_error'; phase: 'connect' | 'auth' | 'read' | 'handshake'; error: string };
  readonly extra?: Record<string, string>;
}

/** A poll result for `name` with quiet defaults (10% CPU, 20% memory, 10% disks) except what `spec` says. */
export function result(name: string, spec: HostSpec = {}): PollResult {
  const hostOverrides: Partial<Host> = { extra: spec.extra ?? {} };
  if (spec.down !== undefined) {
    return { ...failedResult(name, spec.down.status, spec.down.phase, spec.down.error), host: host(name, hostOverrides) };
  }
  const totalKb = 8 * GIB_KB;
  const swapTotalKb = spec.swapPct === null ? 0 : 2 * GIB_KB;
  const disks = Object.entries(spec.disks ?? { '/': 10 }).map(([mount, pct]) => ({
    mount,
    fsType: 'ext4',
    totalKb: 100 * GIB_KB,
    usedKb: pct * GIB_KB,
    availableKb: (100 - pct) * GIB_KB,
  }));
  const sample: Partial<Sample> = {
    cpuCores: 4,
    cpuBusyPct: spec.cpu ?? 10,
    load: { m1: (spec.load1 ?? 0.4) * 4, m5: 1, m15: 1 },
    mem: {
      totalKb,
      availableKb: totalKb * (1 - (spec.memPct ?? 20) / 100),
      freeKb: totalKb / 2,
      swapTotalKb,
      swapFreeKb: swapTotalKb * (1 - (spec.swapPct ?? 0) / 100),
    },
    disks,
    procs: spec.procs ?? [
      { pid: 4242, user: 'app', cpuPct: 180, rssKb: 3 * GIB_KB, name: 'java' },
      { pid: 77, user: 'root', cpuPct: 2, rssKb: 10_000, name: 'sshd' },
    ],
  };
  return okResult(name, sample, hostOverrides);
}

/** Drives the evaluator one poll at a time, 5 minutes apart, collecting notifications. */
export class AlertSim {
  alerts: AlertEntry[] = [];
  readonly notifications: Notification[] = [];
  now = T0;
  private first = true;

  constructor(
    readonly settings: AlertSettings = alertSettings(),
    private readonly options: { adoptFirst?: boolean } = {},
  ) {}

  /** One poll of these hosts; returns this poll's notifications. */
  poll(results: readonly PollResult[]): Notification[] {
    const rules = new Map<string, HostRules>(results.map((r) => [r.host.name, hostRules(r.host, this.settings)]));
    const out = evaluate(this.alerts, results, this.now, rules, {
      repeatMs: this.settings.repeatMs,
      topProcesses: this.settings.topProcesses,
      adopt: this.first && this.options.adoptFirst === true,
    });
    this.first = false;
    this.alerts = out.alerts;
    this.notifications.push(...out.notifications);
    this.now = new Date(this.now.getTime() + POLL_MS);
    return out.notifications;
  }

  /** Polls one host through a series of CPU values; returns all notifications, in order. */
  cpuSeries(name: string, values: readonly number[], extra: Record<string, string> = {}): Notification[] {
    return values.flatMap((cpu) => this.poll([result(name, { cpu, extra })]));
  }

  firing(): AlertEntry[] {
    return this.alerts.filter((a) => a.phase === 'firing');
  }
}

/** `kind level host rule` of each notification, compact for assertions. */
export function summary(notifications: readonly Notification[]): string[] {
  return notifications.map((n) => `${n.kind} ${n.level} ${n.host} ${n.rule}${n.mount === null ? '' : ` ${n.mount}`}`);
}
