// The alert state machine, pure: (previous alerts, poll results, now, rules) -> (next alerts, notifications).
//
// A rule fires after its value held at or above a level for `firePolls` consecutive polls,
// and resolves after `resolvePolls` consecutive polls below (threshold - hysteresis), so a
// value oscillating around a threshold neither fires nor resolves on every poll.
// Warning -> critical is announced ("escalated"); critical -> warning is a quiet step down in
// the state (no mail): the admin already knows it is bad, and the resolution is what matters.
import type { PollResult, Proc, Sample } from '../model.js';
import { diskUsedPct } from '../store/rows.js';
import { diskLevelsFor, METRIC_RULES, type HostRules, type Level, type MetricRuleId, type RuleId, type Thresholds } from './settings.js';
import { alertKey, type AlertEntry, type Notification, type ProcLine } from './types.js';
import { byCpu, byMemory, topProcesses as rankProcesses } from '../process-rank.js';
import { compareServerNames } from '../server-names.js';

// What the evaluator needs besides the rules.
export interface EvaluateOptions {
  /** Reminder interval for still-firing alerts; 0 = none. */
  readonly repeatMs: number;
  /** Processes attached to CPU/load/memory/swap notifications. */
  readonly topProcesses: number;
  /**
   * The state was missing or corrupt: whatever holds now is adopted as firing without a
   * notification, so rebuilding the state never re-alerts the whole fleet.
   */
  readonly adopt: boolean;
}

// The evaluator's answer.
export interface Evaluation {
  readonly alerts: AlertEntry[];
  readonly notifications: Notification[];
}

// One measured value of a rule on a host at this poll.
interface Observation {
  readonly rule: RuleId;
  readonly mount: string | null;
  /** null: the rule applies but there is no value (a mount gone, swap removed). */
  readonly value: number | null;
  readonly warn: number | null;
  readonly crit: number | null;
  readonly hysteresis: number;
  readonly firePolls: number;
  readonly resolvePolls: number;
}

/**
 * Advances every alert of the hosts in `results` by one poll. Hosts not in `results` (not
 * polled this run) keep their entries untouched. A polled host without rules (`alerts=off`,
 * or not in `rules`) loses its entries without a notification, as does a rule turned off.
 */
export function evaluate(
  previous: readonly AlertEntry[],
  results: readonly PollResult[],
  now: Date,
  rules: ReadonlyMap<string, HostRules>,
  options: EvaluateOptions,
): Evaluation {
  const at = now.toISOString();
  const polled = new Set(results.map((r) => r.host.name));
  const byKey = new Map(previous.map((e) => [alertKey(e), e]));
  const byHost = new Map<string, AlertEntry[]>();
  for (const e of previous) byHost.set(e.host, [...(byHost.get(e.host) ?? []), e]);
  const next: AlertEntry[] = previous.filter((e) => !polled.has(e.host));
  const notifications: Notification[] = [];

  for (const result of results) {
    const hostRules = rules.get(result.host.name);
    if (hostRules === undefined || !hostRules.enabled) continue;
    const observations = observe(result, hostRules);
    const seen = new Set<string>();
    for (const obs of observations) {
      const key = alertKey({ host: result.host.name, rule: obs.rule, mount: obs.mount });
      seen.add(key);
      const step = advance(byKey.get(key) ?? null, obs, result, at, now, options);
      if (step.entry !== null) next.push(step.entry);
      if (step.notification !== null) notifications.push(step.notification);
    }
    // Entries with no observation: while the host is down its metrics are frozen (no evidence
    // either way); on an ok host a vanished mount counts as below the threshold, and a rule or
    // mount that no longer applies (turned off, excluded) is forgotten without a notification.
    for (const entry of byHost.get(result.host.name) ?? []) {
      if (seen.has(alertKey(entry))) continue;
      if (result.status !== 'ok') {
        if (entry.rule !== 'down') next.push(entry);
        continue;
      }
      const obs = withoutValue(entry, hostRules);
      if (obs === null) continue;
      const step = advance(entry, obs, result, at, now, options);
      if (step.entry !== null) next.push(step.entry);
      if (step.notification !== null) notifications.push(step.notification);
    }
  }
  next.sort(compareEntries);
  return { alerts: next, notifications };
}

// The values of every rule that applies to this host at this poll.
function observe(result: PollResult, hostRules: HostRules): Observation[] {
  const out: Observation[] = [];
  const { rules } = hostRules;
  if (rules.down !== null) {
    const down = result.status !== 'ok';
    out.push({ rule: 'down', mount: null, value: down ? 1 : 0, warn: null, crit: 1, hysteresis: 0, firePolls: rules.down.firePolls, resolvePolls: rules.down.resolvePolls });
  }
  if (result.status !== 'ok') return out;
  const values = metricValues(result.sample);
  for (const id of METRIC_RULES) {
    if (id === 'disk') continue;
    const t = rules[id];
    if (t === null) continue;
    out.push(metricObservation(id, null, values[id], t, t));
  }
  if (rules.disk !== null) {
    const mounts = new Set<string>();
    for (const disk of result.sample.disks) {
      if (mounts.has(disk.mount)) continue;
      mounts.add(disk.mount);
      const levels = diskLevelsFor(rules.disk, disk.mount);
      if (levels === null) continue;
      out.push(metricObservation('disk', disk.mount, diskUsedPct(disk), levels, rules.disk));
    }
  }
  return out;
}

// The observation of a rule that still applies but had no value at this poll; null if it no longer applies.
function withoutValue(entry: AlertEntry, hostRules: HostRules): Observation | null {
  const { rules } = hostRules;
  if (entry.rule === 'down') return null;
  if (entry.rule === 'disk') {
    if (rules.disk === null || entry.mount === null) return null;
    const levels = diskLevelsFor(rules.disk, entry.mount);
    return levels === null ? null : metricObservation('disk', entry.mount, null, levels, rules.disk);
  }
  const t = rules[entry.rule];
  return t === null ? null : metricObservation(entry.rule, null, null, t, t);
}

function metricObservation(rule: MetricRuleId, mount: string | null, value: number | null, levels: { warn: number | null; crit: number | null }, t: Thresholds): Observation {
  return { rule, mount, value, warn: levels.warn, crit: levels.crit, hysteresis: t.hysteresis, firePolls: t.firePolls, resolvePolls: t.resolvePolls };
}

/** The value of each metric rule for a sample; null where the host has no such thing (no swap, no load). */
export function metricValues(sample: Sample): Record<Exclude<MetricRuleId, 'disk'>, number | null> {
  const { mem } = sample;
  return {
    cpu: sample.cpuBusyPct,
    mem: mem.totalKb > 0 ? ((mem.totalKb - mem.availableKb) / mem.totalKb) * 100 : null,
    swap: mem.swapTotalKb > 0 ? ((mem.swapTotalKb - mem.swapFreeKb) / mem.swapTotalKb) * 100 : null,
    load: sample.load !== null && sample.cpuCores > 0 ? sample.load.m1 / sample.cpuCores : null,
  };
}

function levelOf(value: number | null, obs: Observation): Level | null {
  if (value === null) return null;
  if (obs.crit !== null && value >= obs.crit) return 'critical';
  if (obs.warn !== null && value >= obs.warn) return 'warning';
  return null;
}

function thresholdOf(level: Level, obs: Observation): number | null {
  return level === 'critical' ? obs.crit : obs.warn;
}

// One rule of one host, one poll further.
function advance(
  prev: AlertEntry | null,
  obs: Observation,
  result: PollResult,
  at: string,
  now: Date,
  options: EvaluateOptions,
): { entry: AlertEntry | null; notification: Notification | null } {
  const held = levelOf(obs.value, obs);
  const heldPolls = held === null ? 0 : (prev?.heldPolls ?? 0) + 1;
  const critPolls = held === 'critical' ? (prev?.critPolls ?? 0) + 1 : 0;
  const isDown = obs.rule === 'down';
  const value = isDown ? null : obs.value;
  const reason = isDown && result.status !== 'ok' ? `${result.status} (${result.phase}): ${result.error}` : null;
  const top = (): ProcLine[] => topProcesses(result, obs.rule, options.topProcesses);
  const notice = (entry: AlertEntry, kind: Notification['kind']): Notification => ({
    id: `${at}|${kind}|${alertKey(entry).replace(/\u0000/g, '|')}`,
    kind,
    host: entry.host,
    rule: entry.rule,
    mount: entry.mount,
    level: entry.level,
    value: kind === 'resolved' ? (isDown ? null : obs.value) : entry.value,
    threshold: entry.threshold,
    reason: kind === 'resolved' ? (prev?.reason ?? null) : entry.reason,
    since: entry.since,
    at,
    firedAt: kind === 'firing' ? null : entry.firedAt,
    topProcesses: kind === 'resolved' ? [] : top(),
  });

  if (prev === null || prev.phase === 'pending') {
    if (held === null) return { entry: null, notification: null };
    const base: AlertEntry = {
      host: result.host.name,
      rule: obs.rule,
      mount: obs.mount,
      phase: 'pending',
      level: held,
      since: prev?.since ?? at,
      firedAt: null,
      heldPolls,
      critPolls,
      clearPolls: 0,
      lowerPolls: 0,
      value,
      threshold: thresholdOf(held, obs),
      reason,
      lastNoticeAt: null,
      adopted: false,
    };
    if (options.adopt) {
      return { entry: { ...base, phase: 'firing', firedAt: at, lastNoticeAt: at, adopted: true }, notification: null };
    }
    const level: Level | null = critPolls >= obs.firePolls ? 'critical' : heldPolls >= obs.firePolls ? (obs.warn !== null ? 'warning' : 'critical') : null;
    if (level === null) return { entry: base, notification: null };
    const fired: AlertEntry = { ...base, phase: 'firing', level, threshold: thresholdOf(level, obs), firedAt: at, lastNoticeAt: at };
    return { entry: fired, notification: notice(fired, 'firing') };
  }

  // Firing. Resolve below the lowest active level minus the hysteresis; no value counts as below.
  const resolveLine = (obs.warn ?? obs.crit ?? 0) - obs.hysteresis;
  const below = obs.value === null || (isDown ? held === null : obs.value < resolveLine);
  const clearPolls = below ? prev.clearPolls + 1 : 0;
  if (clearPolls >= obs.resolvePolls) {
    const last: AlertEntry = { ...prev, value, clearPolls };
    return { entry: null, notification: notice({ ...last, threshold: isDown ? null : resolveLine }, 'resolved') };
  }
  let entry: AlertEntry = { ...prev, heldPolls, critPolls, clearPolls, value: value ?? prev.value, reason: reason ?? prev.reason };
  if (prev.level === 'warning' && obs.crit !== null && critPolls >= obs.firePolls) {
    entry = { ...entry, level: 'critical', threshold: obs.crit, lowerPolls: 0, lastNoticeAt: at };
    return { entry, notification: notice(entry, 'escalated') };
  }
  if (prev.level === 'critical' && obs.warn !== null && obs.crit !== null && obs.value !== null) {
    const lowerPolls = obs.value < obs.crit - obs.hysteresis ? prev.lowerPolls + 1 : 0;
    entry = lowerPolls >= obs.resolvePolls ? { ...entry, level: 'warning', threshold: obs.warn, lowerPolls: 0 } : { ...entry, lowerPolls };
  } else if (obs.warn !== null || obs.crit !== null) {
    // The thresholds may have been changed since it fired: show the one that applies now.
    entry = { ...entry, threshold: thresholdOf(entry.level, obs) ?? entry.threshold };
  }
  if (options.repeatMs > 0 && entry.lastNoticeAt !== null && now.getTime() - Date.parse(entry.lastNoticeAt) >= options.repeatMs) {
    entry = { ...entry, lastNoticeAt: at };
    return { entry, notification: notice(entry, 'reminder') };
  }
  return { entry, notification: null };
}

/** The processes that explain a CPU/load (by CPU) or memory/swap (by resident memory) alert. */
export function topProcesses(result: PollResult, rule: RuleId, count: number): ProcLine[] {
  if (result.status !== 'ok' || count <= 0) return [];
  const order = rule === 'cpu' || rule === 'load' ? byCpu : rule === 'mem' || rule === 'swap' ? byMemory : null;
  if (order === null) return [];
  return rankProcesses(result.sample.procs, order, count)
    .map((p) => ({ pid: p.pid, user: p.user, name: p.name, cpuPct: p.cpuPct, rssKb: p.rssKb }));
}

const RULE_ORDER: Record<RuleId, number> = { down: 0, cpu: 1, mem: 2, swap: 3, load: 4, disk: 5 };

function compareEntries(a: AlertEntry, b: AlertEntry): number {
  // Servers in the CSV files' order (web2 before web10), mounts likewise.
  return compareServerNames(a.host, b.host) || RULE_ORDER[a.rule] - RULE_ORDER[b.rule] || compareServerNames(a.mount ?? '', b.mount ?? '');
}
