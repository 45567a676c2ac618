import { strict as assert } from 'node:assert';
import { buildProgram } from '../engine/src/cli/program.js';
import { devCommands } from './dev-commands.js';

const names = (extra: Parameters<typeof buildProgram>[1] = []): string[] =>
  buildProgram(() => {}, extra).commands.map((c) => c.name());

describe('the dev CLI (tools/cli.ts)', () => {
  it('the engine program has the shipped commands only', () => {
    const engine = names();
    for (const shipped of ['validate', 'render', 'plan', 'run', 'install', 'uninstall', 'break-glass'])
      assert.ok(engine.includes(shipped), `${shipped} missing from ${engine.join(', ')}`);
    for (const dev of ['demo', 'local-cluster', 'admission', 'observe'])
      assert.ok(!engine.includes(dev), `${dev} is dev tooling, not an engine command`);
  });

  it('a checkout adds demo, local-cluster and the standalone serve commands to it', () => {
    const dev = buildProgram(() => {}, devCommands);
    const all = dev.commands.map((c) => c.name());
    assert.deepEqual(all.slice(0, names().length), names(), 'the engine commands come first, unchanged');
    for (const name of ['demo', 'local-cluster']) assert.ok(all.includes(name), `${name} missing`);
    for (const stage of ['admission', 'observe'])
      assert.deepEqual(
        dev.commands.find((c) => c.name() === stage)?.commands.map((c) => c.name()),
        ['serve'],
        `${stage} serve`,
      );
  });
});
