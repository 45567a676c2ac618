// The Pods section (#pods): one page of the pod list, as the server filtered and paged it,
// each row with its state, latest probe, loss counts and chart; the pager follows the page.
import type { DashboardSnapshot, PodRow } from '../view-model.js';
import { byId, h, replace } from './dom.js';
import { ago, stateTone } from './format.js';
import { chartSlot } from './timelines.js';
import { view } from './view-state.js';
import { badge, table } from './widgets.js';

export function renderPods(snap: DashboardSnapshot, nowMs: number): void {
  const p = snap.pods;
  view.pages = p.pages;
  view.page = p.page;
  byId('prev', HTMLButtonElement).disabled = p.page <= 1;
  byId('next', HTMLButtonElement).disabled = p.page >= p.pages;
  byId('pageinfo', HTMLElement).textContent = `page ${p.page} of ${p.pages} · ${p.total} pods`;
  if (!p.items.length) {
    replace('pods', h('div', { class: 'empty' }, view.q ? 'No pod matches the filter.' : 'No pod has reported yet.'));
    return;
  }
  const recentS = Math.round(p.recentMs / 1000);
  const rows = p.items.map((r) => row(r, recentS, nowMs));
  replace('pods', table(['state', 'pod', 'latest', 'timeline'], rows));
}

function row(r: PodRow, recentS: number, nowMs: number): HTMLElement {
  return h('tr', { class: 'pod-row', 'data-uid': r.uid, 'data-pod': r.pod, 'data-namespace': r.namespace }, [
    h('td', null, [badge(r.state, stateTone(r.state)), r.quarantined ? [' ', badge('quarantined', 'bad')] : null]),
    h('td', null, [
      h('div', { class: 'podname' }, r.pod),
      h('div', { class: 'dim' }, r.namespace),
      r.policy ? h('div', { class: 'dim' }, `policy ${r.policy}`) : null,
    ]),
    h('td', { class: 'num' }, [
      r.lastLatencyMs !== undefined ? `${r.lastLatencyMs} ms` : '–',
      h('div', { class: 'dim' }, `${r.recentFailures}/${r.recentSamples} failed (${recentS}s)`),
      r.lastReportAt ? h('div', { class: 'dim' }, `report ${ago(r.lastReportAt, nowMs)}`) : null,
      r.droppedBySidecar || r.gaps ? h('div', { class: 'dim' }, `lost ${r.droppedBySidecar + r.gaps}`) : null,
    ]),
    h('td', null, chartSlot(r.uid, `${r.namespace}/${r.pod}`, r.lastReportAt)),
  ]);
}
