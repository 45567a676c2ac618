import { strict as assert } from 'node:assert';
import { join, resolve } from 'node:path';
import { cruise, type ICruiseOptions, type ICruiseResult } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';

// The project's own dependency rules (.dependency-cruiser.cjs, what `npm run lint` runs) on
// small fixture trees shaped like engine/src: each forbidden import must be reported by the
// rule named for it, and a tree that keeps to the layers must pass. A rule that silently
// stops matching (a renamed folder, a broken regex) fails here instead of letting the
// layering rot unnoticed.
const CONFIG = resolve('.dependency-cruiser.cjs');
const FIXTURES = resolve('test/lint/fixtures');

async function violations(fixture: string): Promise<{ rule: string; from: string; to: string }[]> {
  const options: ICruiseOptions = await extractDepcruiseOptions(CONFIG);
  const { output } = await cruise(['engine/src'], { ...options, baseDir: join(FIXTURES, fixture) });
  const result = output as ICruiseResult;
  assert.ok(result.summary.totalCruised > 0, `nothing cruised in ${fixture}`);
  return result.summary.violations.map((v) => ({ rule: v.rule.name, from: v.from, to: v.to }));
}

describe('the dependency rule (.dependency-cruiser.cjs)', function () {
  // Loading dependency-cruiser and TypeScript takes a few seconds on a busy machine.
  this.timeout(60_000);

  it('fails a stage that imports runtime/', async () => {
    assert.deepEqual(await violations('stage-to-runtime'), [
      {
        rule: 'stage-imports-no-runtime',
        from: 'engine/src/quarantine/reaches-up.ts',
        to: 'engine/src/runtime/wiring.ts',
      },
    ]);
  });

  it('fails core/ importing runtime/', async () => {
    assert.deepEqual(await violations('core-to-runtime'), [
      {
        rule: 'core-imports-nothing-of-the-stages',
        from: 'engine/src/core/clock.ts',
        to: 'engine/src/runtime/wiring.ts',
      },
    ]);
  });

  it('fails runtime/ importing cli/', async () => {
    assert.deepEqual(await violations('runtime-to-cli'), [
      { rule: 'nothing-imports-cli', from: 'engine/src/runtime/wiring.ts', to: 'engine/src/cli/flags.ts' },
    ]);
  });

  it('fails a stage importing a later stage', async () => {
    assert.deepEqual(await violations('stage-to-later-stage'), [
      {
        rule: 'quarantine-imports-only-earlier-stages',
        from: 'engine/src/quarantine/executor.ts',
        to: 'engine/src/audit/outbox.ts',
      },
    ]);
  });

  it('fails a later stage or cli/ importing a file behind a stage index', async () => {
    assert.deepEqual(await violations('stage-past-index'), [
      {
        rule: 'plan-imported-through-its-index',
        from: 'engine/src/cli/plan-command.ts',
        to: 'engine/src/plan/diff.ts',
      },
      {
        rule: 'quarantine-imported-through-its-index',
        from: 'engine/src/audit/drain.ts',
        to: 'engine/src/quarantine/step.ts',
      },
    ]);
  });

  it('passes the layers as meant: cli → runtime → stages → core, cli → a stage, a stage → an earlier one (through its index; runtime/ and tests may import files)', async () => {
    assert.deepEqual(await violations('layered'), []);
  });
});
