// One pod's probe timeline as an SVG chart: a round latency axis, failure bands, pod events
// as dashed lines, the latency line, and one circle per probe with its tooltip. The counts
// are attributes too (`data-points`, `data-failures`) for the browser test and screen readers.
import type { Timeline } from '../view-model.js';
import { s } from './dom.js';

const W = 360;
const H = 84;
const L = 38;
const R = 6;
const T = 6;
const B = 16;
const PW = W - L - R;
const PH = H - T - B;

const fmt = (ms: number): string => (ms >= 1000 ? `${ms / 1000}s` : `${ms}ms`);

export function drawChart(tl: Timeline, label: string): SVGSVGElement {
  const x = (t: number): number => L + Math.max(0, Math.min(1, t / tl.spanMs)) * PW;
  const y = (ms: number): number => T + PH - Math.max(0, Math.min(1, ms / tl.yMaxMs)) * PH;
  const svg = s('svg', {
    class: 'chart',
    viewBox: `0 0 ${W} ${H}`,
    role: 'img',
    'data-points': tl.points.length,
    'data-failures': tl.failures,
    'aria-label': `probe latency of ${label}: ${tl.points.length} samples, ${tl.failures} failed`,
  });
  svg.appendChild(s('title', null, `${label}: ${tl.points.length} probes, ${tl.failures} failed`));
  for (const f of [0, 0.5, 1]) {
    const yy = T + PH - f * PH;
    svg.appendChild(s('line', { class: 'grid', x1: L, x2: W - R, y1: yy, y2: yy }));
    svg.appendChild(
      s(
        'text',
        { class: 'axis', x: L - 3, y: yy + 3, 'text-anchor': 'end' },
        fmt(Math.round(tl.yMaxMs * f * 1000) / 1000),
      ),
    );
  }
  const mins = Math.round(tl.spanMs / 60000);
  const timeAxis: [at: number, text: string, anchor: string][] = [
    [0, `-${mins}m`, 'start'],
    [0.5, `-${mins / 2}m`, 'middle'],
    [1, 'now', 'end'],
  ];
  for (const [at, text, anchor] of timeAxis) {
    svg.appendChild(s('text', { class: 'axis', x: L + at * PW, y: H - 4, 'text-anchor': anchor }, text));
  }
  for (const p of tl.points) {
    if (!p.ok) svg.appendChild(s('rect', { class: 'fail-band', x: x(p.t) - 2, y: T, width: 4, height: PH }));
  }
  for (const e of tl.events) {
    const title = s('title', null, e.type + (e.detail ? ` · ${e.detail}` : ''));
    svg.appendChild(s('line', { class: 'ev', x1: x(e.t), x2: x(e.t), y1: T, y2: T + PH }, title));
  }
  if (tl.points.length > 1) {
    const points = tl.points.map((p) => `${x(p.t).toFixed(1)},${y(p.latencyMs).toFixed(1)}`).join(' ');
    svg.appendChild(s('polyline', { class: 'lat', points }));
  }
  for (const p of tl.points) {
    const when = new Date(tl.from + p.t).toLocaleTimeString();
    const what = p.ok ? 'ok' : 'FAILED' + (p.error ? ` ${p.error}` : '');
    const title = s('title', null, `${when} · ${what}${p.status ? ` · HTTP ${p.status}` : ''} · ${p.latencyMs} ms`);
    const circle = {
      class: p.ok ? 'pt-ok' : 'pt-fail',
      cx: x(p.t).toFixed(1),
      cy: y(p.latencyMs).toFixed(1),
      r: p.ok ? 1.6 : 3,
      'data-seq': p.seq,
    };
    svg.appendChild(s('circle', circle, title));
  }
  return svg;
}
