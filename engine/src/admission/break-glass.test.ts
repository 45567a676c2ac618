import { strict as assert } from 'node:assert';
import { applyJsonPatch } from '../../../test/harness/json-patch.js';
import {
  BREAK_GLASS_ANNOTATION,
  flipBindingOps,
  flipOps,
  SAVED_POLICIES_ANNOTATION,
  type BindingConfig,
  type Config,
} from './break-glass.js';

describe('break-glass patch', () => {
  const cfg: Config = {
    metadata: { name: 'bulkhead-guard', resourceVersion: '7' },
    webhooks: [
      { name: 'guard.bulkhead.dev', failurePolicy: 'Fail' },
      { name: 'pabc.inject.bulkhead.dev', failurePolicy: 'Ignore' },
    ],
  };

  it('on: every webhook Ignore, previous policies saved, state annotated; guarded by resourceVersion', () => {
    const ops = flipOps(cfg, true)!;
    assert.deepEqual(ops[0], { op: 'test', path: '/metadata/resourceVersion', value: '7' });
    const on = applyJsonPatch(cfg, ops as never);
    assert.deepEqual(
      on.webhooks!.map((w) => w.failurePolicy),
      ['Ignore', 'Ignore'],
    );
    assert.equal(on.metadata!.annotations![BREAK_GLASS_ANNOTATION], 'on');
    assert.deepEqual(JSON.parse(on.metadata!.annotations![SAVED_POLICIES_ANNOTATION]!), {
      'guard.bulkhead.dev': 'Fail',
      'pabc.inject.bulkhead.dev': 'Ignore',
    });
    assert.equal(flipOps(on, true), undefined, 'already on');
  });

  it('off: restores the saved policies and removes the annotations', () => {
    const on = applyJsonPatch(cfg, flipOps(cfg, true)! as never);
    const off = applyJsonPatch(on, flipOps(on, false)! as never);
    assert.deepEqual(
      off.webhooks!.map((w) => w.failurePolicy),
      ['Fail', 'Ignore'],
    );
    assert.deepEqual(off.metadata!.annotations, {});
    assert.equal(flipOps(off, false), undefined, 'already off');
  });

  it('off without a saved record falls back to each kind of webhook’s safe default', () => {
    const odd: Config = {
      metadata: { resourceVersion: '1', annotations: { [BREAK_GLASS_ANNOTATION]: 'on' } },
      webhooks: [
        { name: 'guard.bulkhead.dev', failurePolicy: 'Ignore' },
        { name: 'p1.inject.bulkhead.dev', failurePolicy: 'Ignore' },
      ],
    };
    const off = applyJsonPatch(odd, flipOps(odd, false)! as never);
    assert.deepEqual(
      off.webhooks!.map((w) => w.failurePolicy),
      ['Fail', 'Ignore'],
    );
  });
});

describe('break-glass on the guard policy binding', () => {
  const binding: BindingConfig = {
    metadata: { name: 'bulkhead-guard', resourceVersion: '3' },
    spec: { validationActions: ['Deny'] },
  };
  it('on: Deny becomes Warn, the actions saved; off restores them', () => {
    const on = applyJsonPatch(binding, flipBindingOps(binding, true) as never);
    assert.deepEqual(on.spec!.validationActions, ['Warn']);
    assert.equal(on.metadata!.annotations![BREAK_GLASS_ANNOTATION], 'on');
    assert.equal(flipBindingOps(on, true), undefined, 'already on');
    const off = applyJsonPatch(on, flipBindingOps(on, false) as never);
    assert.deepEqual(off.spec!.validationActions, ['Deny']);
    assert.deepEqual(off.metadata!.annotations, {});
  });
});
