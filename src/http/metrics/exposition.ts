// The Prometheus text exposition format (version 0.0.4), written by hand for the fleet's metrics:
// families of gauges whose label values come from hosts (mount points, user names) and so must be
// escaped exactly as the format says, never trusted. No sample carries a timestamp.

/** The Content-Type of the text format, as Prometheus asks for it. */
export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** A label value escaped for the format: backslash, double quote and line feed (the only three it escapes). */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === '\\' ? '\\\\' : c === '"' ? '\\"' : '\\n'));
}

/** HELP text escaped for the format: backslash and line feed. */
export function escapeHelp(text: string): string {
  return text.replace(/[\\\n]/g, (c) => (c === '\\' ? '\\\\' : '\\n'));
}

/** A sample value as the format writes it (Go's ParseFloat reads it back): NaN, +Inf, -Inf or a number. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

/** `name="value"` with the value escaped. */
export function label(name: string, value: string): string {
  return `${name}="${escapeLabelValue(value)}"`;
}

// One family being written: its header once, then its samples, contiguous as the format requires.
export class GaugeFamily {
  private readonly lines: string[] = [];

  constructor(
    readonly name: string,
    private readonly help: string,
  ) {}

  /** Adds a sample; `labels` are already rendered `a="x"` pairs (see label()). */
  add(labels: readonly string[], value: number): void {
    const set = labels.length === 0 ? '' : `{${labels.join(',')}}`;
    this.lines.push(`${this.name}${set} ${formatValue(value)}\n`);
  }

  /** The family's text; a family without samples writes nothing (no dangling HELP). */
  text(): string {
    if (this.lines.length === 0) return '';
    return `# HELP ${this.name} ${escapeHelp(this.help)}\n# TYPE ${this.name} gauge\n${this.lines.join('')}`;
  }
}
