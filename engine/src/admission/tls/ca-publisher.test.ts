import { strict as assert } from 'node:assert';
import { silentLogger } from '../../core/logger.js';
import { NamespaceCaPublisher } from './ca-publisher.js';

describe('NamespaceCaPublisher', () => {
  it('coalesces namespaces that arrive during a pass into the next one, re-reading the bundle for each pass', async () => {
    const passes: { namespaces: string[]; bundle: string }[] = [];
    let reads = 0;
    let release: () => void = () => {};
    const gate = new Promise<void>((ok) => (release = ok));
    const p = new NamespaceCaPublisher({
      bundle: async () => {
        reads++;
        if (reads === 1) await gate;
        return `bundle-${reads}`;
      },
      publish: async (namespaces, bundle) => void passes.push({ namespaces, bundle }),
      logger: silentLogger(),
    });
    p.add('a');
    for (const ns of ['b', 'c', 'b', 'c', 'b']) p.add(ns);
    release();
    await p.idle();
    assert.deepEqual(passes, [
      { namespaces: ['a'], bundle: 'bundle-1' },
      { namespaces: ['b', 'c'], bundle: 'bundle-2' },
    ]);
  });

  it('publishes nothing without a bundle, survives a failed pass, and drops what is pending on stop', async () => {
    const passes: string[][] = [];
    const state: { bundle?: string; fail: boolean } = { fail: true };
    const p = new NamespaceCaPublisher({
      bundle: async () => state.bundle,
      publish: async (namespaces) => {
        if (state.fail) throw new Error('apiserver down');
        passes.push(namespaces);
      },
      logger: silentLogger(),
    });
    p.add('a');
    await p.idle();
    state.bundle = 'b';
    p.add('a');
    await p.idle();
    state.fail = false;
    p.add('a');
    await p.idle();
    assert.deepEqual(passes, [['a']]);
    await p.stop();
    p.add('z');
    await p.idle();
    assert.deepEqual(passes, [['a']]);
  });
});
