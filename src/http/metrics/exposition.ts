// The Prometheus text exposition format (version 0.0.4), the pieces the fleet's metrics are written
// with: label values come from hosts (mount points, user names) and so are escaped exactly as the
// format says, never trusted.

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
