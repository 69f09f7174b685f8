// Small DOM helpers for the pages. Text only ever goes in as text (textContent or text nodes):
// every value a host sent (process, user, mount, error) shows as what it is, never as markup.

// Attributes and text of a new element.
export interface ElProps {
  readonly class?: string;
  readonly text?: string;
  readonly attrs?: Readonly<Record<string, string>>;
}

/** A new element with its class, attributes, text and children (strings become text nodes). */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: ElProps = {}, children: readonly (Node | string)[] = []): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (props.class !== undefined) node.className = props.class;
  for (const [name, value] of Object.entries(props.attrs ?? {})) node.setAttribute(name, value);
  if (props.text !== undefined) node.textContent = props.text;
  node.append(...children);
  return node;
}

/** A labelled control: <label>text <control></label>. */
export function labelled(text: string, control: HTMLElement): HTMLLabelElement {
  return el('label', {}, [text, control]);
}

/** A <select> with these [value, label] options and this one chosen. */
export function select(options: readonly (readonly [string, string])[], value: string): HTMLSelectElement {
  const s = el('select');
  for (const [v, label] of options) s.append(el('option', { text: label, attrs: { value: v } }));
  s.value = value;
  return s;
}

/** The page's <main>, emptied and marked not busy, for the page to fill. */
export function mainElement(): HTMLElement {
  const main = document.getElementById('main') as HTMLElement;
  main.replaceChildren();
  main.setAttribute('aria-busy', 'false');
  return main;
}

/** An error box with a sentence. */
export function errorBox(message: string): HTMLElement {
  return el('p', { class: 'error-box', text: message, attrs: { role: 'alert' } });
}

/** GET a JSON document of fleetpoll's API; a failure throws with the API's own `detail` sentence. */
export async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url, { credentials: 'same-origin', headers: { accept: 'application/json' } });
  if (!res.ok) {
    let detail = `${res.status} ${res.statusText}`;
    try {
      const body = (await res.json()) as { detail?: unknown };
      if (typeof body.detail === 'string') detail = body.detail;
    } catch {
      // Not our error shape: the status line says enough.
    }
    throw new HttpError(res.status, detail);
  }
  return (await res.json()) as T;
}

// A refused API request: its status and the API's sentence.
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Marks a page (or part of one) as drawn: the browser tests and the benchmark wait for it. */
export function markReady(name: string): void {
  document.body.setAttribute(`data-ready-${name}`, String(performance.now()));
}
