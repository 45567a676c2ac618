// The Policy sources section (#sources): a row per PolicySource with its repository, state,
// applied and attempted revisions, notable conditions, and the errors of a rejected revision.
import type { DashboardSnapshot, ErrorView, SourceView } from '../view-model.js';
import { h, replace } from './dom.js';
import { short, stateTone } from './format.js';
import { badge, details, sectionContent, table } from './widgets.js';

const COLUMNS = ['source', 'repository', 'state', 'revision', 'conditions'];
/** Errors listed inline; the rest sit in a collapsed list. */
const SHOWN_ERRORS = 3;

export function renderSources(snap: DashboardSnapshot): void {
  const sec = snap.sources;
  const rows = sec.items.map(row);
  replace('sources', sectionContent(sec, table(COLUMNS, rows), 'No policy sources.'));
}

function sourceError(e: ErrorView): HTMLElement {
  return h('li', { class: 'source-error' }, [
    h('span', { class: 'mono' }, `${e.file}:${e.line}${e.column ? `:${e.column}` : ''}`),
    ' ',
    h('span', { class: 'dim' }, e.code),
    ' ',
    e.message,
  ]);
}

function row(src: SourceView): HTMLElement {
  const notes = src.conditions
    .filter((c) => c.status === 'True' || c.type === 'Ready')
    .map((c) =>
      h('li', null, [
        h('b', null, `${c.type}=${c.status}`),
        ' ',
        h('span', { class: 'dim' }, c.reason),
        c.message ? ` — ${c.message}` : null,
      ]),
    );
  const errors = src.errors;
  return h('tr', { 'data-source': src.name }, [
    h('td', null, [h('b', null, src.name), src.suspended ? [' ', badge('suspended', 'warn')] : null]),
    h('td', null, [h('div', { class: 'mono' }, src.url), h('div', { class: 'dim' }, src.ref)]),
    h('td', null, badge(src.state, stateTone(src.state))),
    h('td', { class: 'mono' }, [
      h('div', null, `applied ${short(src.lastAppliedRevision) || '–'}`),
      h(
        'div',
        { class: src.rejected ? 'error' : 'dim' },
        `attempted ${short(src.lastAttemptedRevision) || '–'}${src.rejected ? ' (rejected)' : ''}`,
      ),
    ]),
    h('td', null, [
      notes.length ? h('ul', { class: 'plain' }, notes) : null,
      errors.length ? h('div', { class: 'error' }, `${errors.length} error(s) in the rejected revision:`) : null,
      errors.length ? h('ul', { class: 'plain' }, errors.slice(0, SHOWN_ERRORS).map(sourceError)) : null,
      errors.length > SHOWN_ERRORS
        ? details(`se:${src.name}`, `${errors.length - SHOWN_ERRORS} more`, errors.slice(SHOWN_ERRORS).map(sourceError))
        : null,
    ]),
  ]);
}
