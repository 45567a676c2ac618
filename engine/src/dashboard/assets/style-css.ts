// The page's stylesheet (served as /dashboard/style.css; the CSP allows no inline style).
export const STYLE_CSS = String.raw`
:root { --bg: #0f1419; --panel: #171e26; --line: #2a3440; --fg: #dce3ea; --dim: #8a99a8; --ok: #3fb950; --bad: #f85149; --warn: #d29922; --info: #58a6ff; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header { display: flex; align-items: center; gap: 16px; padding: 12px 20px; border-bottom: 1px solid var(--line); position: sticky; top: 0; background: var(--bg); z-index: 1; flex-wrap: wrap; }
h1 { font-size: 18px; margin: 0; letter-spacing: .5px; }
h2 { font-size: 15px; margin: 0 0 8px; color: var(--fg); }
.hint { font-weight: normal; color: var(--dim); font-size: 12px; margin-left: 8px; }
main { padding: 12px 20px; display: grid; gap: 20px; }
section { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 12px 14px; }
footer { color: var(--dim); font-size: 12px; padding: 8px 20px 20px; }
.chips { display: flex; gap: 8px; flex-wrap: wrap; }
.chip { border: 1px solid var(--line); border-radius: 12px; padding: 2px 10px; font-size: 12px; color: var(--dim); }
.chip b { color: var(--fg); }
.chip.bad b { color: var(--bad); }
.live { margin-left: auto; font-size: 12px; color: var(--dim); }
.live.ok::before { content: "● "; color: var(--ok); }
.live.err::before { content: "● "; color: var(--bad); }
table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; padding: 6px 8px; border-top: 1px solid var(--line); vertical-align: top; }
th { color: var(--dim); font-weight: 600; font-size: 12px; border-top: none; }
td.num { font-variant-numeric: tabular-nums; }
.mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; word-break: break-all; }
.dim { color: var(--dim); }
.empty { color: var(--dim); font-style: italic; padding: 6px 0; }
.error { color: var(--bad); padding: 4px 0; }
.badge { display: inline-block; border-radius: 4px; padding: 0 6px; font-size: 12px; font-weight: 600; border: 1px solid currentColor; white-space: nowrap; }
.b-ok { color: var(--ok); } .b-bad { color: var(--bad); } .b-warn { color: var(--warn); } .b-info { color: var(--info); } .b-dim { color: var(--dim); }
.qcard { border: 1px solid var(--line); border-left: 3px solid var(--bad); border-radius: 4px; padding: 10px 12px; margin-bottom: 10px; display: grid; grid-template-columns: minmax(280px, 1fr) 380px; gap: 12px; }
.qcard.released { border-left-color: var(--dim); }
.qcard .title { font-weight: 600; font-size: 15px; }
.qcard .row { margin-top: 4px; }
.qcard .label { color: var(--dim); font-size: 12px; margin-right: 6px; }
details { margin-top: 6px; }
summary { cursor: pointer; color: var(--info); font-size: 12px; }
ul.plain { margin: 4px 0 0; padding-left: 18px; }
ul.plain li { margin: 2px 0; }
.toolbar { display: flex; gap: 8px; align-items: center; margin-bottom: 8px; }
input[type=search] { background: var(--bg); color: var(--fg); border: 1px solid var(--line); border-radius: 4px; padding: 4px 8px; width: 260px; }
button { background: var(--bg); color: var(--fg); border: 1px solid var(--line); border-radius: 4px; padding: 3px 10px; cursor: pointer; }
button:disabled { opacity: .4; cursor: default; }
svg.chart { display: block; width: 360px; height: 84px; background: #0b1015; border: 1px solid var(--line); border-radius: 3px; }
svg.chart .grid { stroke: #26313c; stroke-width: 1; }
svg.chart .axis { fill: var(--dim); font-size: 9px; font-family: ui-monospace, monospace; }
svg.chart .lat { fill: none; stroke: var(--info); stroke-width: 1.5; }
svg.chart .pt-ok { fill: var(--info); }
svg.chart .pt-fail { fill: var(--bad); stroke: #0b1015; stroke-width: 1; }
svg.chart .fail-band { fill: rgba(248, 81, 73, .18); }
svg.chart .ev { stroke: var(--warn); stroke-width: 1; stroke-dasharray: 2 2; }
.chart-empty { width: 360px; height: 84px; display: flex; align-items: center; justify-content: center; color: var(--dim); font-size: 12px; border: 1px dashed var(--line); border-radius: 3px; }
`;
