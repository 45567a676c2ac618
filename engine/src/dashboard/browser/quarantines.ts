// The Quarantines section (#quarantines): a card per quarantine with its reason, policy,
// audit state, evidence and actions, and the pod's chart for the first 10.
import type { DashboardSnapshot, QuarantineView } from '../view-model.js';
import { h, replace, type Child } from './dom.js';
import { ago, phaseTone, short } from './format.js';
import { chartSlot } from './timelines.js';
import { badge, details, label, sectionContent } from './widgets.js';

/** Charts for the first cards only: each is a timeline fetch every poll or so. */
const CHARTED_CARDS = 10;

export function renderQuarantines(snap: DashboardSnapshot, nowMs: number): void {
  const sec = snap.quarantines;
  const cards = sec.items.map((q, i) => card(q, i < CHARTED_CARDS, nowMs));
  replace('quarantines', sectionContent(sec, cards, 'No quarantines.'));
}

function card(q: QuarantineView, charted: boolean, nowMs: number): HTMLElement {
  const key = `${q.namespace}/${q.name}`;
  const audit: Child[] = [badge(q.audit.state, q.audit.state === 'Committed' ? 'ok' : 'warn')];
  if (q.audit.commit) audit.push(' ', h('span', { class: 'mono', title: q.audit.commit }, short(q.audit.commit)));
  if (q.audit.path) audit.push(' ', h('span', { class: 'mono dim' }, q.audit.path));
  const left = h('div', null, [
    h('div', { class: 'title' }, [
      h('span', { class: 'qpod' }, `${q.namespace}/${q.pod}`),
      ' ',
      badge(q.phase, phaseTone(q.phase)),
      q.mode === 'DryRun' ? [' ', badge('would quarantine (dry run)', 'info')] : null,
    ]),
    h('div', { class: 'row' }, [
      label('reason'),
      h('span', { class: 'qreason' }, q.reason),
      q.message ? [' — ', h('span', { class: 'qmessage' }, q.message)] : null,
    ]),
    h('div', { class: 'row' }, [
      label('policy'),
      q.policy,
      q.node ? [' ', label('node'), q.node] : null,
      ' ',
      label('at'),
      h('span', { title: q.time }, ago(q.time, nowMs)),
    ]),
    h('div', { class: 'row qaudit' }, [label('audit'), ...audit]),
    q.evidence.length
      ? details(
          `ev:${key}`,
          `Evidence (${q.evidence.length})`,
          q.evidence.map((e) =>
            h('li', null, [
              h('span', { class: 'dim' }, `${e.time} · ${e.source} · `),
              h('span', { class: 'evdetail' }, e.detail),
              e.value !== undefined ? ` (${e.value})` : null,
            ]),
          ),
        )
      : null,
    q.actions.length
      ? details(
          `ac:${key}`,
          `Actions (${q.actions.length})`,
          q.actions.map((a) =>
            h('li', null, [
              h('b', null, a.type),
              ' ',
              h('span', { class: 'dim' }, a.time),
              a.detail ? ` — ${a.detail}` : null,
            ]),
          ),
        )
      : null,
  ]);
  const slot = charted
    ? chartSlot(q.podUid, `${q.namespace}/${q.pod}`)
    : h('div', { class: 'chart-empty' }, 'open in the pod list');
  const attrs = {
    class: 'qcard' + (q.phase === 'Released' ? ' released' : ''),
    'data-uid': q.podUid,
    'data-pod': q.pod,
    'data-namespace': q.namespace,
  };
  return h('div', attrs, [left, slot]);
}
