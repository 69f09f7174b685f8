// The time range of a page, kept in the URL so a link shows the same thing: `range=1h|24h|7d|30d`,
// or `from=` and `to=` (epoch seconds) for a custom or zoomed range.
import { el, labelled, select } from './dom.js';

// The preset ranges and their length.
export const PRESETS: readonly (readonly [string, string, number])[] = [
  ['1h', 'Last hour', 3600],
  ['24h', 'Last 24 hours', 86_400],
  ['7d', 'Last 7 days', 7 * 86_400],
  ['30d', 'Last 30 days', 30 * 86_400],
];

// A resolved range: preset name (null for custom) and its bounds.
export interface Range {
  readonly preset: string | null;
  readonly from: number;
  readonly to: number;
}

/** The range a URL asks for (default `fallback`). */
export function readRange(params: URLSearchParams, fallback = '24h'): Range {
  const now = Math.floor(Date.now() / 1000);
  const from = Number(params.get('from'));
  const to = Number(params.get('to'));
  if (params.has('from') && params.has('to') && Number.isInteger(from) && Number.isInteger(to) && from < to) return { preset: null, from, to };
  const name = params.get('range') ?? fallback;
  const preset = PRESETS.find(([p]) => p === name) ?? PRESETS.find(([p]) => p === fallback) ?? PRESETS[1]!;
  return { preset: preset[0], from: now - preset[2], to: now };
}

/** Writes a range into URL parameters (a preset by name, a custom range by its bounds). */
export function writeRange(params: URLSearchParams, range: { preset: string | null; from: number; to: number }): void {
  params.delete('range');
  params.delete('from');
  params.delete('to');
  if (range.preset !== null) params.set('range', range.preset);
  else {
    params.set('from', String(Math.floor(range.from)));
    params.set('to', String(Math.ceil(range.to)));
  }
}

/** Replaces (or pushes, for an undoable step) the page URL's parameters. */
export function setUrl(params: URLSearchParams, push: boolean): void {
  const url = `${location.pathname}?${params.toString()}`;
  if (push) history.pushState(null, '', url);
  else history.replaceState(null, '', url);
}

/** The range controls: a preset list with "Custom", and UTC from/to fields for a custom range. */
export function rangeControls(range: Range, onChange: (r: { preset: string | null; from: number; to: number }) => void): HTMLElement {
  const preset = select([...PRESETS.map(([v, label]) => [v, label] as const), ['custom', 'Custom…']], range.preset ?? 'custom');
  const from = el('input', { attrs: { type: 'datetime-local', step: '60' } });
  const to = el('input', { attrs: { type: 'datetime-local', step: '60' } });
  from.value = localValue(range.from);
  to.value = localValue(range.to);
  const apply = el('button', { text: 'Apply', attrs: { type: 'button' } });
  const custom = el('span', { class: 'controls' }, [labelled('From (UTC)', from), labelled('To (UTC)', to), apply]);
  custom.hidden = range.preset !== null;
  preset.addEventListener('change', () => {
    if (preset.value === 'custom') {
      custom.hidden = false;
      from.focus();
      return;
    }
    const p = PRESETS.find(([v]) => v === preset.value)!;
    const now = Math.floor(Date.now() / 1000);
    onChange({ preset: p[0], from: now - p[2], to: now });
  });
  apply.addEventListener('click', () => {
    const f = Date.parse(`${from.value}Z`) / 1000;
    const t = Date.parse(`${to.value}Z`) / 1000;
    if (Number.isFinite(f) && Number.isFinite(t) && f < t) onChange({ preset: null, from: f, to: t });
    else apply.setCustomValidity('From must be before To');
  });
  return el('div', { class: 'controls' }, [labelled('Time range', preset), custom]);
}

// The value of a datetime-local field showing epoch seconds in UTC.
function localValue(sec: number): string {
  return new Date(sec * 1000).toISOString().slice(0, 16);
}
