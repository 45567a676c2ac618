// Small pieces the page's sections share: badges, labels, tables, collapsible lists, and the
// notes of a list that could not be read or was cut.
import type { Section } from '../view-model.js';
import { h, type Child } from './dom.js';
import type { Tone } from './format.js';
import { view } from './view-state.js';

export function badge(text: string, tone: Tone): HTMLElement {
  return h('span', { class: `badge b-${tone}` }, text);
}

export function label(text: string): HTMLElement {
  return h('span', { class: 'label' }, text);
}

export function table(columns: string[], rows: HTMLElement[]): HTMLElement {
  const head = columns.map((c) => h('th', null, c));
  return h('table', null, [h('thead', null, h('tr', null, head)), h('tbody', null, rows)]);
}

/** A collapsible list that stays open (or closed) across refreshes: `key` names it in the view state. */
export function details(key: string, summary: string, items: Child): HTMLElement {
  const d = h('details', { open: view.open.has(key) }, [
    h('summary', null, summary),
    h('ul', { class: 'plain' }, items),
  ]);
  d.addEventListener('toggle', () => {
    if (d.open) view.open.add(key);
    else view.open.delete(key);
  });
  return d;
}

/**
 * What a listed section shows: why the list could not be read (if so), the body, or `empty`
 * when there is nothing to list, and a note when the list was cut.
 */
export function sectionContent(sec: Section<unknown>, body: Child, empty: string): Child {
  return [
    sec.error ? h('div', { class: 'error' }, `Cannot read: ${sec.error}`) : null,
    sec.items.length ? body : h('div', { class: 'empty' }, empty),
    sec.truncated ? h('div', { class: 'dim' }, `Showing the first ${sec.items.length} only.`) : null,
  ];
}
