// The dashboard during the demo, in a real browser: Debian's chromium driven by playwright-core
// opens the engine's dashboard while the story keeps running, sees the quarantined pod with its
// reason, audit commit and health chart, and saves a screenshot under test-artifacts/. It runs the
// kwok story (runStory), whose engine is a local process the browser reaches on 127.0.0.1.
import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { runStory } from '../../tools/demo/story.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join('test-artifacts', 'e2e');

describe('dashboard during the demo (chromium)', () => {
  it('shows the quarantined pod, its reason, audit commit and chart, live', async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is installed (.ci/run installs Debian's chromium)`);
    await mkdir(ARTIFACTS, { recursive: true });
    const lines: string[] = [];
    let release!: () => void;
    const until = new Promise<void>((ok) => (release = ok));
    let browserCheck: Promise<void> | undefined;
    let victim = '';
    const check = async (url: string): Promise<void> => {
      const browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--no-sandbox',
          '--headless',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--no-first-run',
        ],
      });
      try {
        // The engine's CA is generated per run and not in the browser's trust store.
        const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1440, height: 1000 } });
        const page = await context.newPage();
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(e.message));
        await page.goto(url);
        assert.ok(page.url().endsWith('/dashboard/'), `token dropped from the URL: ${page.url()}`);
        const card = page.locator('.qcard', { hasText: victim });
        await card.waitFor({ timeout: 20_000 });
        const text = (await card.textContent()) ?? '';
        assert.match(text, /ConsecutiveFailures/);
        assert.match(text, /Isolated/);
        // Live updates: the audit state turns Committed with the record's commit.
        await card.locator('.qaudit', { hasText: 'Committed' }).waitFor({ timeout: 20_000 });
        const chart = card.locator('svg.chart');
        await chart.waitFor({ timeout: 20_000 });
        assert.ok((await chart.locator('circle').count()) > 3, 'the chart has probe samples');
        assert.ok((await chart.locator('circle.pt-fail').count()) >= 3, 'the failed probes are marked');
        await page.screenshot({ path: join(ARTIFACTS, 'dashboard-during-demo.png'), fullPage: true });
        assert.deepEqual(errors, []);
      } finally {
        await browser.close();
        release();
      }
    };
    const result = await runStory({
      keep: true,
      until,
      say: (line) => {
        lines.push(line);
        const failing = /▸ (\S+) starts failing/.exec(line);
        if (failing) victim = failing[1]!;
        const dash = /✔ dashboard \(read-only, token-protected\): (https:\/\/\S+)/.exec(line);
        if (dash) browserCheck = check(dash[1]!);
      },
    });
    assert.ok(browserCheck, `the demo printed no dashboard URL:\n${lines.join('\n')}`);
    await browserCheck;
    assert.equal(result.nodes, 'kwok', 'this file runs the kwok story (runStory)');
    assert.equal(result.quarantinedPod, victim);
    assert.ok(existsSync(join(ARTIFACTS, 'dashboard-during-demo.png')));
  });
});
