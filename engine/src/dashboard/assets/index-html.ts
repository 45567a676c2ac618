// The page shell. Static: no value from the cluster is ever interpolated into HTML; app.js
// fills the page with DOM text nodes only.
export const INDEX_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Bulkhead</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="style.css">
<script src="app.js" defer></script>
</head>
<body>
<header>
  <h1>Bulkhead</h1>
  <div id="summary" class="chips" aria-live="polite"></div>
  <div id="live" class="live" role="status">connecting…</div>
</header>
<main>
  <section id="quarantines-section">
    <h2>Quarantines</h2>
    <div id="quarantines"></div>
  </section>
  <section id="pods-section">
    <h2>Pods <span class="hint">probe latency and failures, last 10 minutes</span></h2>
    <div class="toolbar">
      <input id="filter" type="search" placeholder="filter namespace/pod" maxlength="253" autocomplete="off">
      <button id="prev" type="button">‹ prev</button>
      <span id="pageinfo"></span>
      <button id="next" type="button">next ›</button>
    </div>
    <div id="pods"></div>
  </section>
  <section id="policies-section">
    <h2>Policies</h2>
    <div id="policies"></div>
  </section>
  <section id="sources-section">
    <h2>Policy sources</h2>
    <div id="sources"></div>
  </section>
</main>
<footer>Read-only view. Updates every 2 s.</footer>
</body>
</html>
`;
