// The page's script (served as /dashboard/app.js). Plain browser JavaScript, no framework,
// no dependency, no eval. Safety rule: every value from the engine reaches the DOM through
// createTextNode / textContent or setAttribute, never innerHTML, so a pod name or message
// containing markup is shown as text.
export const APP_JS = String.raw`(function () {
  'use strict';
  var SVGNS = 'http://www.w3.org/2000/svg';
  var POLL_MS = 2000, SLOW_MS = 10000, TIMELINE_MAX_AGE_MS = 10000;
  var state = { page: 1, q: '', pages: 1, timer: 0, inflight: false, again: false, stopped: false, open: new Set(), timelines: new Map() };

  function $(id) { return document.getElementById(id); }
  function h(tag, attrs, children) {
    var el = document.createElement(tag);
    setAttrs(el, attrs);
    append(el, children);
    return el;
  }
  function s(tag, attrs, children) {
    var el = document.createElementNS(SVGNS, tag);
    setAttrs(el, attrs);
    append(el, children);
    return el;
  }
  function setAttrs(el, attrs) {
    if (!attrs) return;
    Object.keys(attrs).forEach(function (k) {
      var v = attrs[k];
      if (v === undefined || v === null || v === false) return;
      if (k === 'class') el.setAttribute('class', String(v));
      else el.setAttribute(k, v === true ? '' : String(v));
    });
  }
  function append(el, children) {
    if (children === undefined || children === null) return;
    if (!Array.isArray(children)) children = [children];
    children.forEach(function (c) {
      if (c === undefined || c === null || c === false) return;
      if (Array.isArray(c)) { append(el, c); return; }
      el.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
    });
  }
  function replace(id, children) {
    var el = $(id);
    while (el.firstChild) el.removeChild(el.firstChild);
    append(el, children);
  }
  function badge(text, tone) { return h('span', { class: 'badge b-' + tone }, text); }
  function ago(iso, nowMs) {
    var t = Date.parse(iso);
    if (!isFinite(t)) return '';
    var d = Math.max(0, Math.round((nowMs - t) / 1000));
    if (d < 60) return d + 's ago';
    if (d < 3600) return Math.floor(d / 60) + 'm ago';
    if (d < 86400) return Math.floor(d / 3600) + 'h ago';
    return Math.floor(d / 86400) + 'd ago';
  }
  // Revisions look like 'main@<sha>' or a bare sha: keep the ref, shorten the sha.
  function short(rev) {
    if (!rev) return '';
    rev = String(rev);
    var i = rev.lastIndexOf('@');
    return (i >= 0 ? rev.slice(0, i + 1) : '') + rev.slice(i + 1).replace(/^(sha1:|sha256:)/, '').slice(0, 12);
  }
  function details(key, label, items) {
    var d = h('details', { open: state.open.has(key) }, [h('summary', null, label), h('ul', { class: 'plain' }, items)]);
    d.addEventListener('toggle', function () { if (d.open) state.open.add(key); else state.open.delete(key); });
    return d;
  }
  function sectionError(sec) { return sec.error ? h('div', { class: 'error' }, 'Cannot read: ' + sec.error) : null; }
  function truncNote(sec) { return sec.truncated ? h('div', { class: 'dim' }, 'Showing the first ' + sec.items.length + ' only.') : null; }

  function phaseTone(p) { return p === 'Isolated' ? 'bad' : p === 'Released' ? 'dim' : 'warn'; }
  function stateTone(st) { return st === 'Healthy' || st === 'Ready' ? 'ok' : st === 'Failing' || st === 'Stalled' || st === 'NotReady' ? 'bad' : st === 'Reconciling' ? 'info' : 'dim'; }

  function renderSummary(snap) {
    var m = snap.summary;
    function chip(label, n, bad) { return h('span', { class: 'chip' + (bad ? ' bad' : '') }, [label + ' ', h('b', null, String(n))]); }
    replace('summary', [
      chip('sources', m.sources, false), chip('not ready', m.sourcesNotReady, m.sourcesNotReady > 0), chip('policies', m.policies, false),
      chip('pods', m.pods, false), chip('failing', m.failingPods, m.failingPods > 0), chip('quarantined', m.isolated, m.isolated > 0),
      chip('audit pending', m.auditPending, false),
    ]);
  }

  function renderQuarantines(snap, nowMs) {
    var sec = snap.quarantines;
    var cards = sec.items.map(function (q, i) {
      var key = q.namespace + '/' + q.name;
      var audit = [badge(q.audit.state, q.audit.state === 'Committed' ? 'ok' : 'warn')];
      if (q.audit.commit) audit.push(' ', h('span', { class: 'mono', title: q.audit.commit }, short(q.audit.commit)));
      if (q.audit.path) audit.push(' ', h('span', { class: 'mono dim' }, q.audit.path));
      var left = h('div', null, [
        h('div', { class: 'title' }, [h('span', { class: 'qpod' }, q.namespace + '/' + q.pod), ' ', badge(q.phase, phaseTone(q.phase)), q.mode === 'DryRun' ? [' ', badge('would quarantine (dry run)', 'info')] : null]),
        h('div', { class: 'row' }, [h('span', { class: 'label' }, 'reason'), h('span', { class: 'qreason' }, q.reason), q.message ? [' — ', h('span', { class: 'qmessage' }, q.message)] : null]),
        h('div', { class: 'row' }, [h('span', { class: 'label' }, 'policy'), q.policy, q.node ? [' ', h('span', { class: 'label' }, 'node'), q.node] : null, ' ', h('span', { class: 'label' }, 'at'), h('span', { title: q.time }, ago(q.time, nowMs))]),
        h('div', { class: 'row qaudit' }, [h('span', { class: 'label' }, 'audit')].concat(audit)),
        q.evidence.length ? details('ev:' + key, 'Evidence (' + q.evidence.length + ')', q.evidence.map(function (e) {
          return h('li', null, [h('span', { class: 'dim' }, e.time + ' · ' + e.source + ' · '), h('span', { class: 'evdetail' }, e.detail), e.value !== undefined ? ' (' + e.value + ')' : null]);
        })) : null,
        q.actions.length ? details('ac:' + key, 'Actions (' + q.actions.length + ')', q.actions.map(function (a) {
          return h('li', null, [h('b', null, a.type), ' ', h('span', { class: 'dim' }, a.time), a.detail ? ' — ' + a.detail : null]);
        })) : null,
      ]);
      var slot = i < 10 ? chartSlot(q.podUid, q.namespace + '/' + q.pod) : h('div', { class: 'chart-empty' }, 'open in the pod list');
      return h('div', { class: 'qcard' + (q.phase === 'Released' ? ' released' : ''), 'data-uid': q.podUid, 'data-pod': q.pod, 'data-namespace': q.namespace }, [left, slot]);
    });
    replace('quarantines', [sectionError(sec), cards.length ? cards : h('div', { class: 'empty' }, 'No quarantines.'), truncNote(sec)]);
  }

  function renderPods(snap, nowMs) {
    var p = snap.pods;
    state.pages = p.pages;
    state.page = p.page;
    $('prev').disabled = p.page <= 1;
    $('next').disabled = p.page >= p.pages;
    $('pageinfo').textContent = 'page ' + p.page + ' of ' + p.pages + ' · ' + p.total + ' pods';
    if (!p.items.length) { replace('pods', h('div', { class: 'empty' }, state.q ? 'No pod matches the filter.' : 'No pod has reported yet.')); return; }
    var rows = p.items.map(function (r) {
      return h('tr', { class: 'pod-row', 'data-uid': r.uid, 'data-pod': r.pod, 'data-namespace': r.namespace }, [
        h('td', null, [badge(r.state, stateTone(r.state)), r.quarantined ? [' ', badge('quarantined', 'bad')] : null]),
        h('td', null, [h('div', { class: 'podname' }, r.pod), h('div', { class: 'dim' }, r.namespace), r.policy ? h('div', { class: 'dim' }, 'policy ' + r.policy) : null]),
        h('td', { class: 'num' }, [r.lastLatencyMs !== undefined ? r.lastLatencyMs + ' ms' : '–', h('div', { class: 'dim' }, r.recentFailures + '/' + r.recentSamples + ' failed (' + Math.round(p.recentMs / 1000) + 's)'),
          r.lastReportAt ? h('div', { class: 'dim' }, 'report ' + ago(r.lastReportAt, nowMs)) : null,
          r.droppedBySidecar || r.gaps ? h('div', { class: 'dim' }, 'lost ' + (r.droppedBySidecar + r.gaps)) : null]),
        h('td', null, chartSlot(r.uid, r.namespace + '/' + r.pod, r.lastReportAt)),
      ]);
    });
    replace('pods', h('table', null, [h('thead', null, h('tr', null, ['state', 'pod', 'latest', 'timeline'].map(function (c) { return h('th', null, c); }))), h('tbody', null, rows)]));
  }

  function renderPolicies(snap) {
    var sec = snap.policies;
    var rows = sec.items.map(function (p) {
      return h('tr', { 'data-policy': p.name }, [
        h('td', null, [h('b', null, p.name), p.sourceRevision ? h('div', { class: 'mono dim' }, short(p.sourceRevision)) : null]),
        h('td', null, p.match),
        h('td', null, [p.action, ' ', p.mode === 'DryRun' ? badge('DryRun', 'info') : badge(p.mode, 'dim')]),
        h('td', null, badge(p.ready, p.ready === 'Ready' ? 'ok' : p.ready === 'Unknown' ? 'dim' : 'bad')),
        h('td', { class: 'num' }, p.matchedPods !== undefined ? String(p.matchedPods) : '–'),
        h('td', null, p.lastAction ? [p.lastAction, p.lastActionTime ? h('div', { class: 'dim' }, p.lastActionTime) : null] : '–'),
        h('td', null, [p.budgetExhausted ? badge('budget exhausted', 'bad') : badge('within budget', 'ok'), p.quarantinedNow !== undefined ? h('div', { class: 'dim' }, p.quarantinedNow + ' quarantined now') : null]),
      ]);
    });
    replace('policies', [sectionError(sec), rows.length
      ? h('table', null, [h('thead', null, h('tr', null, ['policy', 'match', 'action', 'ready', 'matched pods', 'last action', 'budget'].map(function (c) { return h('th', null, c); }))), h('tbody', null, rows)])
      : h('div', { class: 'empty' }, 'No policies.'), truncNote(sec)]);
  }

  function sourceError(e) {
    return h('li', { class: 'source-error' }, [h('span', { class: 'mono' }, e.file + ':' + e.line + (e.column ? ':' + e.column : '')), ' ', h('span', { class: 'dim' }, e.code), ' ', e.message]);
  }

  function renderSources(snap) {
    var sec = snap.sources;
    var rows = sec.items.map(function (src) {
      var notes = src.conditions.filter(function (c) { return c.status === 'True' || c.type === 'Ready'; }).map(function (c) {
        return h('li', null, [h('b', null, c.type + '=' + c.status), ' ', h('span', { class: 'dim' }, c.reason), c.message ? ' — ' + c.message : null]);
      });
      return h('tr', { 'data-source': src.name }, [
        h('td', null, [h('b', null, src.name), src.suspended ? [' ', badge('suspended', 'warn')] : null]),
        h('td', null, [h('div', { class: 'mono' }, src.url), h('div', { class: 'dim' }, src.ref)]),
        h('td', null, badge(src.state, stateTone(src.state))),
        h('td', { class: 'mono' }, [h('div', null, 'applied ' + (short(src.lastAppliedRevision) || '–')), h('div', { class: src.rejected ? 'error' : 'dim' }, 'attempted ' + (short(src.lastAttemptedRevision) || '–') + (src.rejected ? ' (rejected)' : ''))]),
        h('td', null, [notes.length ? h('ul', { class: 'plain' }, notes) : null,
          src.errors.length ? h('div', { class: 'error' }, src.errors.length + ' error(s) in the rejected revision:') : null,
          src.errors.length ? h('ul', { class: 'plain' }, src.errors.slice(0, 3).map(sourceError)) : null,
          src.errors.length > 3 ? details('se:' + src.name, (src.errors.length - 3) + ' more', src.errors.slice(3).map(sourceError)) : null]),
      ]);
    });
    replace('sources', [sectionError(sec), rows.length
      ? h('table', null, [h('thead', null, h('tr', null, ['source', 'repository', 'state', 'revision', 'conditions'].map(function (c) { return h('th', null, c); }))), h('tbody', null, rows)])
      : h('div', { class: 'empty' }, 'No policy sources.'), truncNote(sec)]);
  }

  // Charts: one slot per pod; drawn from the timeline cache at once, refreshed in the background.
  function chartSlot(uid, label, lastReportAt) {
    var slot = h('div', { class: 'chart-slot', 'data-uid': uid, 'data-label': label });
    var entry = state.timelines.get(uid);
    if (entry) entry.seen = true;
    else state.timelines.set(uid, entry = { seen: true, fetchedAt: 0, data: null, missing: false, lastReportAt: undefined, busy: false });
    if (lastReportAt !== undefined && lastReportAt !== entry.lastReportAt) { entry.stale = true; entry.lastReportAt = lastReportAt; }
    drawInto(slot, entry, label);
    return slot;
  }
  function drawInto(slot, entry, label) {
    while (slot.firstChild) slot.removeChild(slot.firstChild);
    if (entry.data) slot.appendChild(drawChart(entry.data, label));
    else slot.appendChild(h('div', { class: 'chart-empty' }, entry.missing ? 'no health data in memory' : 'loading…'));
  }
  function refreshTimelines() {
    var nowMs = Date.now();
    state.timelines.forEach(function (entry, uid) {
      if (!entry.seen) { state.timelines.delete(uid); return; }
      entry.seen = false;
      if (entry.busy || (!entry.stale && nowMs - entry.fetchedAt < TIMELINE_MAX_AGE_MS)) return;
      entry.busy = true;
      entry.stale = false;
      fetch('api/timeline?uid=' + encodeURIComponent(uid), { credentials: 'same-origin', headers: { accept: 'application/json' } })
        .then(function (res) {
          if (!res.ok) throw new Error('HTTP ' + res.status);
          return res.json().then(function (d) {
            if (d.missing) { entry.missing = true; entry.data = null; return; }
            entry.data = d; entry.missing = false;
          });
        })
        .catch(function () { /* kept: the next poll retries */ })
        .then(function () {
          entry.busy = false;
          entry.fetchedAt = Date.now();
          document.querySelectorAll('.chart-slot').forEach(function (slot) {
            if (slot.getAttribute('data-uid') === uid) drawInto(slot, entry, slot.getAttribute('data-label'));
          });
        });
    });
  }

  function drawChart(tl, label) {
    var W = 360, H = 84, L = 38, R = 6, T = 6, B = 16, pw = W - L - R, ph = H - T - B;
    function x(t) { return L + Math.max(0, Math.min(1, t / tl.spanMs)) * pw; }
    function y(ms) { return T + ph - Math.max(0, Math.min(1, ms / tl.yMaxMs)) * ph; }
    function fmt(ms) { return ms >= 1000 ? (ms / 1000) + 's' : ms + 'ms'; }
    var svg = s('svg', { class: 'chart', viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'data-points': tl.points.length, 'data-failures': tl.failures,
      'aria-label': 'probe latency of ' + label + ': ' + tl.points.length + ' samples, ' + tl.failures + ' failed' });
    svg.appendChild(s('title', null, label + ': ' + tl.points.length + ' probes, ' + tl.failures + ' failed'));
    [0, 0.5, 1].forEach(function (f) {
      var yy = T + ph - f * ph;
      svg.appendChild(s('line', { class: 'grid', x1: L, x2: W - R, y1: yy, y2: yy }));
      svg.appendChild(s('text', { class: 'axis', x: L - 3, y: yy + 3, 'text-anchor': 'end' }, fmt(Math.round(tl.yMaxMs * f * 1000) / 1000)));
    });
    var mins = Math.round(tl.spanMs / 60000);
    [[0, '-' + mins + 'm', 'start'], [0.5, '-' + (mins / 2) + 'm', 'middle'], [1, 'now', 'end']].forEach(function (a) {
      svg.appendChild(s('text', { class: 'axis', x: L + a[0] * pw, y: H - 4, 'text-anchor': a[2] }, a[1]));
    });
    tl.points.forEach(function (p) { if (!p.ok) svg.appendChild(s('rect', { class: 'fail-band', x: x(p.t) - 2, y: T, width: 4, height: ph })); });
    tl.events.forEach(function (e) {
      svg.appendChild(s('line', { class: 'ev', x1: x(e.t), x2: x(e.t), y1: T, y2: T + ph }, s('title', null, e.type + (e.detail ? ' · ' + e.detail : ''))));
    });
    if (tl.points.length > 1) {
      svg.appendChild(s('polyline', { class: 'lat', points: tl.points.map(function (p) { return x(p.t).toFixed(1) + ',' + y(p.latencyMs).toFixed(1); }).join(' ') }));
    }
    tl.points.forEach(function (p) {
      var when = new Date(tl.from + p.t).toLocaleTimeString();
      var what = p.ok ? 'ok' : 'FAILED' + (p.error ? ' ' + p.error : '');
      svg.appendChild(s('circle', { class: p.ok ? 'pt-ok' : 'pt-fail', cx: x(p.t).toFixed(1), cy: y(p.latencyMs).toFixed(1), r: p.ok ? 1.6 : 3, 'data-seq': p.seq },
        s('title', null, when + ' · ' + what + (p.status ? ' · HTTP ' + p.status : '') + ' · ' + p.latencyMs + ' ms')));
    });
    return svg;
  }

  function render(snap) {
    var nowMs = Date.parse(snap.generatedAt);
    renderSummary(snap);
    renderQuarantines(snap, nowMs);
    renderPods(snap, nowMs);
    renderPolicies(snap);
    renderSources(snap);
    refreshTimelines();
    document.body.setAttribute('data-generated-at', snap.generatedAt);
  }

  function setLive(ok, text) {
    var el = $('live');
    el.className = 'live ' + (ok ? 'ok' : 'err');
    el.textContent = text;
  }

  function schedule(ms) {
    clearTimeout(state.timer);
    if (!state.stopped) state.timer = setTimeout(tick, ms);
  }

  function tick() {
    if (state.inflight) { state.again = true; return; }
    state.inflight = true;
    var params = new URLSearchParams();
    params.set('page', String(state.page));
    if (state.q) params.set('q', state.q);
    var delay = document.hidden ? SLOW_MS : POLL_MS;
    fetch('api/snapshot?' + params.toString(), { credentials: 'same-origin', headers: { accept: 'application/json' } })
      .then(function (res) {
        if (res.status === 401) {
          state.stopped = true;
          setLive(false, 'session expired: open the dashboard link with its token again');
          return;
        }
        if (!res.ok) throw new Error('HTTP ' + res.status);
        return res.json().then(function (snap) {
          render(snap);
          setLive(true, 'live · updated ' + new Date(snap.generatedAt).toLocaleTimeString());
        });
      })
      .catch(function (err) {
        delay = SLOW_MS;
        setLive(false, 'engine unreachable (' + (err && err.message ? err.message : 'error') + '), retrying');
      })
      .then(function () {
        state.inflight = false;
        if (state.again) { state.again = false; delay = 0; }
        schedule(delay);
      });
  }

  function start() {
    var debounce = 0;
    $('filter').addEventListener('input', function (ev) {
      clearTimeout(debounce);
      debounce = setTimeout(function () { state.q = ev.target.value.trim(); state.page = 1; schedule(0); }, 300);
    });
    $('prev').addEventListener('click', function () { if (state.page > 1) { state.page--; schedule(0); } });
    $('next').addEventListener('click', function () { if (state.page < state.pages) { state.page++; schedule(0); } });
    document.addEventListener('visibilitychange', function () { if (!document.hidden) schedule(0); });
    tick();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
`;
