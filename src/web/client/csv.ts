// CSV downloads of the page's tables and chart series, in the encoding of fleetpoll's data files:
// UTF-8 with BOM, RFC 4180, and host-sent text that could start a formula neutralised (the same
// code as src/store, compiled for the browser too).
import { BOM, encodeRecords } from '../../store/csv.js';
import { formatTime, neutralise } from '../../store/format.js';
import { el } from './dom.js';

// A cell: text (neutralised), a number, a time (epoch seconds, written as the files write times), or empty.
export type Cell = string | number | null | { readonly time: number };

/** The CSV text of a header and rows. */
export function csvText(header: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const cell = (c: Cell): string => {
    if (c === null) return '';
    if (typeof c === 'number') return Number.isFinite(c) ? String(c) : '';
    if (typeof c === 'string') return neutralise(c);
    return formatTime(new Date(c.time * 1000));
  };
  return BOM + encodeRecords([header.map((h) => neutralise(h)), ...rows.map((r) => r.map(cell))], { delimiter: ',' });
}

/** A "Download CSV" button that saves what `build` returns at the time of the click. */
export function csvButton(label: string, fileName: string, build: () => { header: readonly string[]; rows: readonly (readonly Cell[])[] }): HTMLButtonElement {
  const button = el('button', { text: 'CSV', attrs: { type: 'button', 'aria-label': `Download ${label} as CSV` } });
  button.addEventListener('click', () => {
    const { header, rows } = build();
    const url = URL.createObjectURL(new Blob([csvText(header, rows)], { type: 'text/csv;charset=utf-8' }));
    const a = el('a', { attrs: { href: url, download: fileName } });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  });
  return button;
}
