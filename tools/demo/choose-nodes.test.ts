import assert from 'node:assert/strict';
import { chooseNodes, DemoUsageError } from './choose-nodes.js';

describe('demo: which nodes the story runs on', () => {
  const notRoot = 'real nodes need root (namespaces, mounts, cgroups, netfilter); use kwok nodes';

  it('real nodes by default where they can run, kwok with the reason where they cannot', () => {
    assert.deepEqual(chooseNodes({}, undefined), { nodes: 'real' });
    assert.deepEqual(chooseNodes({}, notRoot), { nodes: 'kwok', why: notRoot });
  });

  it('--kwok and --nodes kwok force kwok without a reason line', () => {
    assert.deepEqual(chooseNodes({ kwok: true }, undefined), { nodes: 'kwok' });
    assert.deepEqual(chooseNodes({ nodes: 'kwok' }, undefined), { nodes: 'kwok' });
  });

  it('--nodes real runs real nodes, and is a usage error saying why where they cannot run', () => {
    assert.deepEqual(chooseNodes({ nodes: 'real' }, undefined), { nodes: 'real' });
    assert.throws(
      () => chooseNodes({ nodes: 'real' }, notRoot),
      (e) => e instanceof DemoUsageError && e.message === notRoot,
    );
  });

  it('rejects an unknown --nodes value and --kwok with --nodes real', () => {
    assert.throws(() => chooseNodes({ nodes: 'docker' }, undefined), /--nodes docker: expected kwok or real/);
    assert.throws(() => chooseNodes({ kwok: true, nodes: 'real' }, undefined), /contradict/);
  });
});
