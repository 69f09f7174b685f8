// Validation of one top-level section of the settings file (smtp, alerts, report) with the
// same layering and error style as config.ts: defaults -> file -> environment, and every
// problem as `<source>: <section>.<key> must be ... (got ...)`, the source being `<file>:<line>`.
import { resolve } from 'node:path';
import { expandHome } from './expand-home.js';

// The settings file as read once by config.ts: its path, its text and where each key sits.
export interface SettingsFileText {
  readonly file: string;
  /** Dotted path (array elements as `to.1`) -> 1-based line of the key or element. */
  readonly lines: ReadonlyMap<string, number>;
}

// The settings file plus the raw top-level sections config.ts leaves to their owners (alerts, smtp, report).
export interface SettingsFileSections extends SettingsFileText {
  readonly sections: Readonly<Record<string, unknown>>;
}

// A value and where it came from, for error messages.
interface Raw {
  value: unknown;
  source: string;
}

// Maps every key and array element of a JSON text to its line; the text must be valid JSON.
export function jsonPathLines(text: string): Map<string, number> {
  const lines = new Map<string, number>();
  type Frame = { kind: 'object' | 'array'; path: string; key: string | null; expectKey: boolean; index: number };
  const stack: Frame[] = [];
  let line = 1;
  const join = (a: string, b: string): string => (a === '' ? b : `${a}.${b}`);
  // The path of a value that starts here, recording array elements (keys are recorded as read).
  const valuePath = (): string => {
    const top = stack[stack.length - 1];
    if (top === undefined) return '';
    if (top.kind === 'object') return join(top.path, top.key ?? '');
    const path = join(top.path, String(top.index));
    if (!lines.has(path)) lines.set(path, line);
    return path;
  };
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (c === '\n') {
      line += 1;
    } else if (c === '{' || c === '[') {
      stack.push({ kind: c === '{' ? 'object' : 'array', path: valuePath(), key: null, expectKey: c === '{', index: 0 });
    } else if (c === '}' || c === ']') {
      stack.pop();
    } else if (c === ',') {
      const top = stack[stack.length - 1];
      if (top?.kind === 'object') top.expectKey = true;
      else if (top !== undefined) top.index += 1;
    } else if (c === ':') {
      const top = stack[stack.length - 1];
      if (top !== undefined) top.expectKey = false;
    } else if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const top = stack[stack.length - 1];
      if (top?.kind === 'object' && top.expectKey) {
        top.key = JSON.parse(text.slice(i, j + 1)) as string;
        const path = join(top.path, top.key);
        if (!lines.has(path)) lines.set(path, line);
      } else {
        valuePath();
      }
      i = j;
    } else if (c !== undefined && !/\s/.test(c)) {
      valuePath();
      while (i + 1 < text.length && !/[\s,\]}]/.test(text[i + 1] ?? '')) i += 1;
    }
  }
  return lines;
}

// Typed getters over one section; each bad value adds a problem and yields the fallback.
export class SectionReader {
  private readonly raw = new Map<string, Raw>();
  private readonly fileKeys: string[] = [];
  private readonly inFile: boolean;

  /**
   * `value` is the section as parsed from the settings file (undefined when absent); nested
   * objects are addressed with dotted keys (`disk.warn`). `keepWhole` lists keys whose
   * object value is kept as one raw value (e.g. a map of mounts the caller validates).
   */
  constructor(
    readonly section: string,
    value: unknown,
    private readonly file: SettingsFileText | null,
    private readonly problems: string[],
    keepWhole: readonly string[] = [],
  ) {
    this.inFile = value !== undefined;
    if (value === undefined) return;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      problems.push(`${this.where('')}: ${section} must be an object (got ${show(value)})`);
      return;
    }
    const walk = (obj: Record<string, unknown>, prefix: string): void => {
      for (const [key, v] of Object.entries(obj)) {
        const path = prefix === '' ? key : `${prefix}.${key}`;
        if (v !== null && typeof v === 'object' && !Array.isArray(v) && !keepWhole.includes(path)) {
          walk(v as Record<string, unknown>, path);
          if (Object.keys(v).length === 0) this.fileKeys.push(path);
        } else {
          this.raw.set(path, { value: v, source: this.where(path) });
          this.fileKeys.push(path);
        }
      }
    };
    walk(value as Record<string, unknown>, '');
  }

  /** `<file>:<line>` of a key of this section (or of the section itself). */
  where(key: string): string {
    const full = key === '' ? this.section : `${this.section}.${key}`;
    if (this.file === null) return 'settings';
    return `${this.file.file}:${this.file.lines.get(full) ?? this.file.lines.get(this.section) ?? 1}`;
  }

  /** True when the file or the environment gave this key or anything under it. */
  has(key: string): boolean {
    return [...this.raw.keys()].some((k) => k === key || k.startsWith(`${key}.`));
  }

  /** True when the file has this section (even empty) or the environment gave one of its keys. */
  get present(): boolean {
    return this.inFile || this.raw.size > 0;
  }

  /** The raw value and its source, for callers that validate structure themselves. */
  get(key: string): { value: unknown; source: string } | undefined {
    return this.raw.get(key);
  }

  /** Lets an environment variable override a key (empty variables are ignored). */
  fromEnv(key: string, envVar: string, env: NodeJS.ProcessEnv): this {
    const value = env[envVar];
    if (value !== undefined && value !== '') this.raw.set(key, { value, source: `environment variable ${envVar}` });
    return this;
  }

  /**
   * Reports keys that are not in `known` (exact keys, or `x.*` for any key under x), naming
   * the first unknown level and the known keys at that level. `silent` keys are reported elsewhere.
   */
  rejectUnknown(known: readonly string[], silent: readonly string[] = []): void {
    const isKnown = (key: string): boolean =>
      known.some((k) => (k.endsWith('.*') ? key === k.slice(0, -2) || key.startsWith(k.slice(0, -1)) : k === key || k.startsWith(`${key}.`)));
    const reported = new Set<string>();
    for (const key of this.fileKeys) {
      if (silent.includes(key)) continue;
      const parts = key.split('.');
      for (let i = 1; i <= parts.length; i += 1) {
        const prefix = parts.slice(0, i).join('.');
        if (isKnown(prefix)) continue;
        if (!reported.has(prefix)) {
          reported.add(prefix);
          const parent = parts.slice(0, i - 1).join('.');
          const siblings = [
            ...new Set(
              known
                .filter((k) => parent === '' || k.startsWith(`${parent}.`))
                .map((k) => k.split('.').slice(0, i).join('.'))
                .filter((k) => !k.endsWith('*')),
            ),
          ];
          this.problems.push(`${this.where(prefix)}: unknown setting "${this.section}.${prefix}" (known: ${siblings.map((k) => `${this.section}.${k}`).join(', ')})`);
        }
        break;
      }
    }
  }

  /** Adds a problem about a key in the standard shape. */
  problem(key: string, mustBe: string, got: unknown = this.raw.get(key)?.value): void {
    const r = this.raw.get(key);
    this.problems.push(`${r?.source ?? this.where(key)}: ${this.section}.${key} must be ${mustBe} (got ${show(got)})`);
  }

  number(key: string, fallback: number, min: number, max: number, integer: boolean): number {
    const r = this.raw.get(key);
    if (r === undefined) return fallback;
    const n = toNumber(r.value);
    if (n === null || n < min || n > max || (integer && !Number.isInteger(n))) {
      this.problem(key, `${integer ? 'a whole number' : 'a number'} from ${min} to ${max}`);
      return fallback;
    }
    return n;
  }

  /** A number, or null when the setting is null / "off" (a disabled threshold). */
  optionalNumber(key: string, fallback: number | null, min: number, max: number): number | null {
    const r = this.raw.get(key);
    if (r === undefined) return fallback;
    if (r.value === null || r.value === false || r.value === 'off') return null;
    const n = toNumber(r.value);
    if (n === null || n < min || n > max) {
      this.problem(key, `a number from ${min} to ${max}, or null to turn it off`);
      return fallback;
    }
    return n;
  }

  boolean(key: string, fallback: boolean): boolean {
    const r = this.raw.get(key);
    if (r === undefined) return fallback;
    if (typeof r.value === 'boolean') return r.value;
    if (typeof r.value === 'string' && ['true', 'yes', 'on', '1'].includes(r.value.toLowerCase())) return true;
    if (typeof r.value === 'string' && ['false', 'no', 'off', '0'].includes(r.value.toLowerCase())) return false;
    this.problem(key, 'true or false');
    return fallback;
  }

  choice<T extends string>(key: string, fallback: T, choices: readonly T[]): T {
    const r = this.raw.get(key);
    if (r === undefined) return fallback;
    if (typeof r.value !== 'string' || !(choices as readonly string[]).includes(r.value)) {
      this.problem(key, `one of ${choices.map((c) => JSON.stringify(c)).join(', ')}`);
      return fallback;
    }
    return r.value as T;
  }

  string(key: string, fallback: string, pattern: RegExp, what: string): string {
    const r = this.raw.get(key);
    if (r === undefined) return fallback;
    if (typeof r.value !== 'string' || !pattern.test(r.value.trim())) {
      this.problem(key, what);
      return fallback;
    }
    return r.value.trim();
  }

  /** A list: a JSON array of strings, or (from the environment) a comma/space separated string. */
  stringList(key: string, fallback: readonly string[], pattern: RegExp, what: string): string[] {
    const r = this.raw.get(key);
    if (r === undefined) return [...fallback];
    const items = typeof r.value === 'string' ? r.value.split(/[\s,;]+/).filter((s) => s !== '') : r.value;
    if (!Array.isArray(items)) {
      this.problem(key, `a list of ${what}`);
      return [...fallback];
    }
    const out: string[] = [];
    items.forEach((item: unknown, i) => {
      if (typeof item === 'string' && pattern.test(item.trim())) {
        out.push(item.trim());
      } else {
        const source = typeof r.value === 'string' ? r.source : this.where(`${key}.${i}`);
        this.problems.push(`${source}: ${this.section}.${key} must be a list of ${what} (got ${show(item)})`);
      }
    });
    return out;
  }

  /** A file path, `~` expanded; relative paths are relative to the settings file's directory (or cwd for env). */
  path(key: string, fallback: string | null, fileBase: string, cwd: string): string | null {
    const r = this.raw.get(key);
    if (r === undefined) return fallback;
    if (typeof r.value !== 'string' || r.value.trim() === '') {
      this.problem(key, 'a non-empty path');
      return fallback;
    }
    const base = r.source.startsWith('environment') ? cwd : fileBase;
    const p = r.value.trim();
    return resolve(base, expandHome(p));
  }
}

function toNumber(value: unknown): number | null {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  return Number.isFinite(n) ? n : null;
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
