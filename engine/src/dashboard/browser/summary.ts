// The header's counters (#summary): a chip per count, red when it needs attention.
import type { DashboardSnapshot } from '../view-model.js';
import { h, replace } from './dom.js';

const chip = (label: string, n: number, bad: boolean): HTMLElement =>
  h('span', { class: 'chip' + (bad ? ' bad' : '') }, [label + ' ', h('b', null, String(n))]);

export function renderSummary(snap: DashboardSnapshot): void {
  const m = snap.summary;
  replace('summary', [
    chip('sources', m.sources, false),
    chip('not ready', m.sourcesNotReady, m.sourcesNotReady > 0),
    chip('policies', m.policies, false),
    chip('pods', m.pods, false),
    chip('failing', m.failingPods, m.failingPods > 0),
    chip('quarantined', m.isolated, m.isolated > 0),
    chip('audit pending', m.auditPending, false),
  ]);
}
