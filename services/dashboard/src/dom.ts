/** A few DOM helpers: the dashboard is plain TypeScript, no framework. */

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | undefined | null | ((event: Event) => void)>;

/** `h('td', { class: 'num', 'data-value': 3 }, '3')`: attributes (on* names are listeners), then children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Array<Child | readonly Child[]>): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (typeof value === 'function') el.addEventListener(name.slice(2), value);
    else if (value === true) el.setAttribute(name, '');
    else el.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/** A table from column headers and rows of cells (cells may be elements carrying their own attributes). */
export function table(headers: readonly string[], rows: ReadonlyArray<HTMLTableRowElement>, attrs: Attrs = {}): HTMLTableElement {
  return h('table', attrs, h('thead', {}, h('tr', {}, headers.map((t) => h('th', { scope: 'col' }, t)))), h('tbody', {}, rows));
}

/** A numeric cell: the formatted text shown, the exact value in data-value (tests and copy-paste read it). */
export function num(field: string, value: number | null | undefined, text: string, extra: Attrs = {}): HTMLTableCellElement {
  return h('td', { class: 'num', 'data-field': field, 'data-value': value ?? '', ...extra }, text);
}

/** The view's states: each view shows exactly one of loading, empty, error or its content. */
export const loading = (what: string) => h('p', { class: 'state loading', role: 'status' }, `Loading ${what}…`);
export const empty = (message: string) => h('p', { class: 'state empty', 'data-state': 'empty' }, message);

export function errorBox(err: unknown): HTMLElement {
  const problem = (err as { problem?: { errors?: Array<{ field: string; message: string }> } }).problem;
  return h(
    'div',
    { class: 'state error', role: 'alert', 'data-state': 'error' },
    h('strong', {}, err instanceof Error ? err.message : String(err)),
    problem?.errors?.length ? h('ul', {}, problem.errors.map((e) => h('li', {}, h('code', {}, e.field), `: ${e.message}`))) : null,
  );
}

/** Replaces a region's content. */
export function show(region: Element, ...content: Array<Child | readonly Child[]>): void {
  region.replaceChildren(...content.flat().filter((c): c is Node | string => c !== null && c !== undefined && c !== false).map((c) => (typeof c === 'number' ? String(c) : c)));
}

export function field(label: string, control: HTMLElement): HTMLLabelElement {
  return h('label', { class: 'field' }, h('span', {}, label), control);
}

export function select(name: string, options: ReadonlyArray<readonly [value: string, label: string]>, value = ''): HTMLSelectElement {
  return h('select', { name }, options.map(([v, label]) => h('option', { value: v, selected: v === value }, label)));
}
