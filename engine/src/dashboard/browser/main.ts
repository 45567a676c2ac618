// The dashboard page's script, served as /dashboard/app.js: `npm run gen` bundles this
// folder into ../generated/page-assets.ts (with index.html and style.css), which the engine
// serves. No framework, no dependency, no eval, nothing from the engine but its JSON types
// (../view-model.ts). Safety rule: every value from the engine reaches the DOM through text
// nodes or setAttribute (dom.ts), never as markup, so a pod name or message containing markup
// is shown as text; the page's CSP allows no inline script or style.
import { byId } from './dom.js';
import { poll, schedule } from './live.js';
import { view } from './view-state.js';

/** Typing in the filter waits this long for a pause before asking the server. */
const FILTER_DEBOUNCE_MS = 300;

function start(): void {
  let debounce = 0;
  const filter = byId('filter', HTMLInputElement);
  filter.addEventListener('input', () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => {
      view.q = filter.value.trim();
      view.page = 1;
      schedule(0);
    }, FILTER_DEBOUNCE_MS);
  });
  byId('prev', HTMLButtonElement).addEventListener('click', () => {
    if (view.page > 1) {
      view.page--;
      schedule(0);
    }
  });
  byId('next', HTMLButtonElement).addEventListener('click', () => {
    if (view.page < view.pages) {
      view.page++;
      schedule(0);
    }
  });
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) schedule(0);
  });
  void poll();
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();
