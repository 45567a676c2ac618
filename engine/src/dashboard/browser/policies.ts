// The Policies section (#policies): a row per HealthPolicy with its match, action and mode,
// readiness, matched pods, last action and budget.
import type { DashboardSnapshot, PolicyView } from '../view-model.js';
import { h, replace } from './dom.js';
import { short } from './format.js';
import { badge, sectionContent, table } from './widgets.js';

const COLUMNS = ['policy', 'match', 'action', 'ready', 'matched pods', 'last action', 'budget'];

export function renderPolicies(snap: DashboardSnapshot): void {
  const sec = snap.policies;
  const rows = sec.items.map(row);
  replace('policies', sectionContent(sec, table(COLUMNS, rows), 'No policies.'));
}

function row(p: PolicyView): HTMLElement {
  return h('tr', { 'data-policy': p.name }, [
    h('td', null, [
      h('b', null, p.name),
      p.sourceRevision ? h('div', { class: 'mono dim' }, short(p.sourceRevision)) : null,
    ]),
    h('td', null, p.match),
    h('td', null, [p.action, ' ', p.mode === 'DryRun' ? badge('DryRun', 'info') : badge(p.mode, 'dim')]),
    h('td', null, badge(p.ready, p.ready === 'Ready' ? 'ok' : p.ready === 'Unknown' ? 'dim' : 'bad')),
    h('td', { class: 'num' }, p.matchedPods !== undefined ? String(p.matchedPods) : '–'),
    h(
      'td',
      null,
      p.lastAction ? [p.lastAction, p.lastActionTime ? h('div', { class: 'dim' }, p.lastActionTime) : null] : '–',
    ),
    h('td', null, [
      p.budgetExhausted ? badge('budget exhausted', 'bad') : badge('within budget', 'ok'),
      p.quarantinedNow !== undefined ? h('div', { class: 'dim' }, `${p.quarantinedNow} quarantined now`) : null,
    ]),
  ]);
}
