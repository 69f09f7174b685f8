// Alert rules: the `alerts` section of the settings file (fleet defaults) and the per-host
// override columns of servers.csv, merged into one HostRules per host.
import { isMailAddress } from '../mail/smtp.js';
import type { Host } from '../model.js';
import { SectionReader, type SettingsFileText } from '../settings-section.js';
import type { InventoryIssue } from '../inventory.js';

// The metrics a rule can watch; `down` is any poll status other than ok.
export type RuleId = 'cpu' | 'mem' | 'swap' | 'load' | 'disk' | 'down';
// How bad: a warning, or critical.
export type Level = 'warning' | 'critical';

/** Metric rules in the order digests and tables list them. */
export const METRIC_RULES = ['cpu', 'mem', 'swap', 'load', 'disk'] as const;
// A rule on a measured value (everything but host down).
export type MetricRuleId = (typeof METRIC_RULES)[number];

// Thresholds of one metric rule; a null level is off (both null = rule off).
export interface Thresholds {
  readonly warn: number | null;
  readonly crit: number | null;
  /** Resolve only below (threshold - hysteresis), in the metric's unit. */
  readonly hysteresis: number;
  /** Consecutive polls over the threshold before it fires. */
  readonly firePolls: number;
  /** Consecutive polls below (threshold - hysteresis) before it resolves. */
  readonly resolvePolls: number;
}

// The disk rule: default thresholds, per-mount ones, and mounts never watched.
export interface DiskThresholds extends Thresholds {
  /** Mount -> its own levels; null = that mount is not watched. */
  readonly mounts: ReadonlyMap<string, { readonly warn: number | null; readonly crit: number | null } | null>;
  /** Mount globs (`/snap/*`) never watched. */
  readonly exclude: readonly string[];
}

// The host-down rule.
export interface DownRule {
  readonly firePolls: number;
  readonly resolvePolls: number;
}

// All rules of one host (or the fleet defaults); a null rule is off.
export interface RuleSet {
  readonly cpu: Thresholds | null;
  readonly mem: Thresholds | null;
  readonly swap: Thresholds | null;
  readonly load: Thresholds | null;
  readonly disk: DiskThresholds | null;
  readonly down: DownRule | null;
}

// The validated `alerts` section.
export interface AlertSettings {
  /** false: no evaluation, no state, no mail. */
  readonly enabled: boolean;
  /** Recipients of alert digests; null = smtp.to. */
  readonly to: readonly string[] | null;
  readonly subjectPrefix: string;
  /** Reminder interval for still-firing alerts; 0 = no reminders. */
  readonly repeatMs: number;
  /** Processes listed with CPU and memory alerts. */
  readonly topProcesses: number;
  readonly rules: RuleSet;
}

// One host's effective rules after its servers.csv columns were applied.
export interface HostRules {
  readonly host: string;
  /** false for `alerts=off`. */
  readonly enabled: boolean;
  /** Extra recipients from `alert_to` (in addition to the defaults). */
  readonly extraTo: readonly string[];
  readonly rules: RuleSet;
}

const PERCENT = { min: 0, max: 100 };
const LOAD = { min: 0, max: 1000 };
const DEFAULTS: Record<MetricRuleId, { warn: number; crit: number; hysteresis: number }> = {
  cpu: { warn: 90, crit: 98, hysteresis: 5 },
  mem: { warn: 90, crit: 97, hysteresis: 5 },
  swap: { warn: 50, crit: 80, hysteresis: 5 },
  load: { warn: 2, crit: 4, hysteresis: 0.25 },
  disk: { warn: 85, crit: 95, hysteresis: 5 },
};
const FIRE_POLLS = 2;
const RESOLVE_POLLS = 2;

/** The per-host columns of servers.csv this module reads. */
export const HOST_COLUMNS = [
  'alerts',
  'alert_to',
  ...METRIC_RULES.flatMap((r) => [`${r}_warn`, `${r}_crit`]),
  'disk_exclude',
] as const;

/** Validates the `alerts` section (undefined when the file has none); problems in config.ts's style. */
export function parseAlertSettings(section: unknown, file: SettingsFileText | null, problems: string[]): AlertSettings {
  const r = new SectionReader('alerts', section, file, problems, ['disk.mounts']);
  const ruleKeys = ['warn', 'crit', 'hysteresis', 'firePolls', 'resolvePolls'];
  r.rejectUnknown([
    'enabled',
    'to',
    'subjectPrefix',
    'repeatHours',
    'topProcesses',
    'firePolls',
    'resolvePolls',
    ...METRIC_RULES.flatMap((m) => [m, ...ruleKeys.map((k) => `${m}.${k}`)]),
    'disk.mounts.*',
    'disk.exclude',
    'down',
    'down.firePolls',
    'down.resolvePolls',
  ]);
  const firePolls = r.number('firePolls', FIRE_POLLS, 1, 100, true);
  const resolvePolls = r.number('resolvePolls', RESOLVE_POLLS, 1, 100, true);

  const metric = (id: MetricRuleId): Thresholds | null => {
    const whole = r.get(id);
    if (whole !== undefined) {
      // `"swap": false` turns a rule off; anything else that is not an object is a mistake.
      if (whole.value === false || whole.value === 'off' || whole.value === null) return null;
      r.problem(id, 'an object such as {"warn": 80, "crit": 95}, or false to turn it off');
    }
    const range = id === 'load' ? LOAD : PERCENT;
    const d = DEFAULTS[id];
    const warn = r.optionalNumber(`${id}.warn`, d.warn, range.min, range.max);
    const crit = r.optionalNumber(`${id}.crit`, d.crit, range.min, range.max);
    if (warn !== null && crit !== null && warn >= crit) {
      problems.push(`${r.where(`${id}.warn`)}: alerts.${id}.warn (${warn}) must be below alerts.${id}.crit (${crit})`);
    }
    if (warn === null && crit === null) return null;
    return {
      warn,
      crit,
      hysteresis: r.number(`${id}.hysteresis`, d.hysteresis, 0, range.max, false),
      firePolls: r.number(`${id}.firePolls`, firePolls, 1, 100, true),
      resolvePolls: r.number(`${id}.resolvePolls`, resolvePolls, 1, 100, true),
    };
  };

  const cpu = metric('cpu');
  const mem = metric('mem');
  const swap = metric('swap');
  const load = metric('load');
  const diskBase = metric('disk');
  const mounts = new Map<string, { warn: number | null; crit: number | null } | null>();
  const mountsRaw = r.get('disk.mounts');
  if (mountsRaw !== undefined) {
    if (mountsRaw.value === null || typeof mountsRaw.value !== 'object' || Array.isArray(mountsRaw.value)) {
      r.problem('disk.mounts', 'an object of mount -> {"warn": .., "crit": ..} or false');
    } else {
      for (const [mount, v] of Object.entries(mountsRaw.value as Record<string, unknown>)) {
        const at = r.where(`disk.mounts.${mount}`);
        if (!mount.startsWith('/') && !/^[A-Za-z]:/.test(mount)) {
          problems.push(`${at}: alerts.disk.mounts key ${JSON.stringify(mount)} must be a mount point such as "/var"`);
          continue;
        }
        if (v === false || v === 'off' || v === null) {
          mounts.set(mount, null);
          continue;
        }
        const levels = mountLevels(v);
        if (levels === null) {
          problems.push(`${at}: alerts.disk.mounts.${mount} must be {"warn": <0-100 or null>, "crit": <0-100 or null>} or false (got ${JSON.stringify(v)})`);
          continue;
        }
        mounts.set(mount, levels);
      }
    }
  }
  const exclude = r.stringList('disk.exclude', [], /^\S+$/, 'mount points or globs such as "/snap/*"');
  const disk: DiskThresholds | null = diskBase === null ? null : { ...diskBase, mounts, exclude };

  let down: DownRule | null;
  const downWhole = r.get('down');
  if (downWhole !== undefined && (downWhole.value === false || downWhole.value === 'off' || downWhole.value === null)) {
    down = null;
  } else {
    if (downWhole !== undefined) r.problem('down', 'an object such as {"firePolls": 2}, or false to turn it off');
    down = { firePolls: r.number('down.firePolls', FIRE_POLLS, 1, 100, true), resolvePolls: r.number('down.resolvePolls', resolvePolls, 1, 100, true) };
  }

  const hasTo = r.has('to');
  const to = r.stringList('to', [], /^[^\s@<>,;"()]+@[^\s@<>,;"()]+$/, 'e-mail addresses');
  return {
    enabled: r.boolean('enabled', true),
    to: hasTo ? to : null,
    subjectPrefix: r.string('subjectPrefix', '[fleetpoll]', /^[^\r\n]{0,40}$/, 'one line of at most 40 characters'),
    repeatMs: Math.round(r.number('repeatHours', 0, 0, 24 * 365, false) * 3600 * 1000),
    topProcesses: r.number('topProcesses', 5, 0, 50, true),
    rules: { cpu, mem, swap, load, disk, down },
  };
}

function mountLevels(v: unknown): { warn: number | null; crit: number | null } | null {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return null;
  const o = v as Record<string, unknown>;
  if (Object.keys(o).some((k) => k !== 'warn' && k !== 'crit')) return null;
  const level = (x: unknown): number | null | undefined =>
    x === undefined || x === null || x === false || x === 'off' ? null : typeof x === 'number' && x >= 0 && x <= 100 ? x : undefined;
  const warn = level(o.warn);
  const crit = level(o.crit);
  if (warn === undefined || crit === undefined) return null;
  if (warn !== null && crit !== null && warn >= crit) return null;
  return { warn, crit };
}

// Each cell of a host's override columns, parsed; messages are inventory-style (no file:line prefix).
interface ParsedColumns {
  rules: RuleSet;
  enabled: boolean;
  extraTo: string[];
  errors: string[];
}

/** The effective rules of one host, ignoring (and listing) bad override values. */
export function hostRules(host: Host, settings: AlertSettings): HostRules & { readonly errors: readonly string[] } {
  const parsed = parseColumns(host.extra, settings.rules);
  return { host: host.name, enabled: parsed.enabled, extraTo: parsed.extraTo, rules: parsed.rules, errors: parsed.errors };
}

/**
 * Checks the alert columns of every host; bad values are errors on the host's line (the
 * host is still polled and the bad value falls back to the default). Called by the run right
 * after loading the inventory, before anything connects; the rules it parsed on the way are
 * the ones the run's alerts use, so a 10,000-host inventory's columns are parsed once a run.
 */
export function checkAlertColumns(
  hosts: readonly Host[],
  settings: AlertSettings,
  file: string,
): { issues: InventoryIssue[]; rules: Map<string, HostRules> } {
  const issues: InventoryIssue[] = [];
  const rules = new Map<string, HostRules>();
  const known = new Set<string>(HOST_COLUMNS);
  const warnedColumns = new Set<string>();
  for (const host of hosts) {
    const parsed = hostRules(host, settings);
    rules.set(host.name, parsed);
    for (const message of parsed.errors) issues.push({ file, line: host.line, severity: 'error', message });
    for (const [column, value] of Object.entries(host.extra)) {
      // A misspelt override would silently do nothing; say so once.
      if (value !== '' && !known.has(column) && /^(cpu|mem|swap|load|disk|down|alert)/.test(column) && !warnedColumns.has(column)) {
        warnedColumns.add(column);
        issues.push({ file, line: host.line, severity: 'warning', message: `column "${column}" is not an alert column and is ignored (known: ${HOST_COLUMNS.join(', ')})` });
      }
    }
  }
  return { issues, rules };
}

function parseColumns(extra: Readonly<Record<string, string>>, defaults: RuleSet): ParsedColumns {
  const errors: string[] = [];
  const cell = (name: string): string => (extra[name] ?? '').trim();
  // Most hosts override nothing: they share the fleet's rules instead of a copy each (20,000 hosts).
  if (HOST_COLUMNS.every((column) => cell(column) === '')) return { rules: defaults, enabled: true, extraTo: [], errors };

  let enabled = true;
  const alertsText = cell('alerts').toLowerCase();
  if (['no', 'n', 'false', '0', 'off'].includes(alertsText)) enabled = false;
  else if (!['', 'yes', 'y', 'true', '1', 'on'].includes(alertsText)) errors.push(`alerts "${clip(cell('alerts'))}" is not on or off`);

  const extraTo: string[] = [];
  for (const address of cell('alert_to').split(/[\s,;]+/).filter((a) => a !== '')) {
    if (isMailAddress(address)) extraTo.push(address);
    else errors.push(`alert_to "${clip(address)}" is not an e-mail address`);
  }

  const level = (column: string, range: { min: number; max: number }, what: string, text: string): number | null | undefined => {
    if (text.toLowerCase() === 'off') return null;
    const n = /^\d+(\.\d+)?$/.test(text) ? Number(text) : NaN;
    if (!Number.isFinite(n) || n < range.min || n > range.max) {
      errors.push(`${column} "${clip(text)}" is not ${what}`);
      return undefined;
    }
    return n;
  };
  const percentWhat = 'a percentage (0 to 100, or off)';
  const metric = (id: Exclude<MetricRuleId, 'disk'>): Thresholds | null => {
    const base = defaults[id];
    const range = id === 'load' ? LOAD : PERCENT;
    const what = id === 'load' ? 'a load per core (a number, or off)' : percentWhat;
    const warnText = cell(`${id}_warn`);
    const critText = cell(`${id}_crit`);
    const warnParsed = warnText === '' ? undefined : level(`${id}_warn`, range, what, warnText);
    const critParsed = critText === '' ? undefined : level(`${id}_crit`, range, what, critText);
    const warn = warnParsed === undefined ? (base?.warn ?? null) : warnParsed;
    const crit = critParsed === undefined ? (base?.crit ?? null) : critParsed;
    if (warn !== null && crit !== null && warn >= crit) {
      errors.push(`${id}_warn ${warn} must be below ${id}_crit ${crit}`);
      return base;
    }
    if (warn === null && crit === null) return null;
    const d = DEFAULTS[id];
    return base === null ? { warn, crit, hysteresis: d.hysteresis, firePolls: FIRE_POLLS, resolvePolls: RESOLVE_POLLS } : { ...base, warn, crit };
  };

  // disk_warn / disk_crit: "90", "off", "/backup=99", or "90 /backup=99 /scratch=off".
  const diskBase = defaults.disk;
  let diskWarn = diskBase?.warn ?? null;
  let diskCrit = diskBase?.crit ?? null;
  const mountOverrides = new Map<string, { warn?: number | null; crit?: number | null }>();
  for (const which of ['warn', 'crit'] as const) {
    const column = `disk_${which}`;
    for (const token of cell(column).split(/[\s,;]+/).filter((t) => t !== '')) {
      const eq = token.indexOf('=');
      if (eq < 0) {
        const v = level(column, PERCENT, `${percentWhat.slice(0, -1)}, or <mount>=<percentage>)`, token);
        if (v !== undefined) {
          if (which === 'warn') diskWarn = v;
          else diskCrit = v;
        }
        continue;
      }
      const mount = token.slice(0, eq);
      const value = token.slice(eq + 1);
      if (!mount.startsWith('/') && !/^[A-Za-z]:/.test(mount)) {
        errors.push(`${column} entry "${clip(token)}" must be <mount>=<percentage or off>, e.g. /backup=99`);
        continue;
      }
      const v = level(`${column} for ${mount}`, PERCENT, percentWhat, value);
      if (v !== undefined) mountOverrides.set(mount, { ...mountOverrides.get(mount), [which]: v });
    }
  }
  const exclude = cell('disk_exclude').split(/[\s,;]+/).filter((t) => t !== '');
  let disk: DiskThresholds | null = null;
  if (diskWarn !== null && diskCrit !== null && diskWarn >= diskCrit) {
    errors.push(`disk_warn ${diskWarn} must be below disk_crit ${diskCrit}`);
    diskWarn = diskBase?.warn ?? null;
    diskCrit = diskBase?.crit ?? null;
  }
  const mounts = new Map(diskBase?.mounts ?? []);
  for (const [mount, o] of mountOverrides) {
    const before = mounts.get(mount);
    const warn = o.warn !== undefined ? o.warn : before === undefined ? diskWarn : (before?.warn ?? null);
    const crit = o.crit !== undefined ? o.crit : before === undefined ? diskCrit : (before?.crit ?? null);
    if (warn !== null && crit !== null && warn >= crit) {
      errors.push(`disk_warn ${warn} must be below disk_crit ${crit} for ${mount}`);
      continue;
    }
    mounts.set(mount, warn === null && crit === null ? null : { warn, crit });
  }
  if (diskWarn !== null || diskCrit !== null || [...mounts.values()].some((m) => m !== null)) {
    const d = DEFAULTS.disk;
    disk = {
      warn: diskWarn,
      crit: diskCrit,
      hysteresis: diskBase?.hysteresis ?? d.hysteresis,
      firePolls: diskBase?.firePolls ?? FIRE_POLLS,
      resolvePolls: diskBase?.resolvePolls ?? RESOLVE_POLLS,
      mounts,
      exclude: [...(diskBase?.exclude ?? []), ...exclude],
    };
  }

  return {
    rules: { cpu: metric('cpu'), mem: metric('mem'), swap: metric('swap'), load: metric('load'), disk, down: defaults.down },
    enabled,
    extraTo,
    errors,
  };
}

/** The levels that apply to one mount of a host, or null when the mount is not watched. */
export function diskLevelsFor(rule: DiskThresholds, mount: string): { warn: number | null; crit: number | null } | null {
  if (rule.exclude.some((glob) => globMatch(glob, mount))) return null;
  const own = rule.mounts.get(mount);
  if (own !== undefined) return own;
  if (rule.warn === null && rule.crit === null) return null;
  return { warn: rule.warn, crit: rule.crit };
}

function globMatch(glob: string, text: string): boolean {
  const body = glob
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.|+()[\]{}]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`).test(text);
}

function clip(value: string): string {
  return value.length > 60 ? `${value.slice(0, 57)}...` : value;
}
