// A plain, captioned table of text cells (strings go in as text, never as markup).
import { el } from './dom.js';

/** A table with a caption, header cells and rows; `numeric` right-aligns columns. */
export function table(caption: string, header: readonly string[], rows: readonly (readonly (string | Node)[])[], numeric: readonly boolean[], id?: string): HTMLElement {
  const head = el('tr', {}, header.map((h, i) => el('th', { text: h, class: numeric[i] === true ? 'num' : '', attrs: { scope: 'col' } })));
  const body = el(
    'tbody',
    {},
    rows.map((r) => el('tr', {}, r.map((c, i) => el('td', { class: numeric[i] === true ? 'num' : '' }, [c])))),
  );
  const t = el('table', id === undefined ? {} : { attrs: { id } }, [el('caption', { text: caption }), el('thead', {}, [head]), body]);
  return el('div', { class: 'table-wrap' }, [t]);
}
