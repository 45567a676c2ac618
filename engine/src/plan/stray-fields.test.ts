import { strict as assert } from 'node:assert';
import type { KubeObject } from '../core/kube/resources.js';
import { computePlan } from './plan.js';
import { strayFields } from './stray-fields.js';

const spec = { match: { selector: { matchLabels: { app: 'web' } } }, action: { type: 'Quarantine' } };
const desired: KubeObject = {
  apiVersion: 'bulkhead.dev/v1alpha1',
  kind: 'HealthPolicy',
  metadata: { name: 'web', labels: { 'app.kubernetes.io/managed-by': 'bulkhead', 'bulkhead.dev/source': 'src' } },
  spec,
} as KubeObject;
const liveWith = (spec: Record<string, unknown>, managedFields: NonNullable<KubeObject['metadata']['managedFields']>) =>
  ({ ...desired, metadata: { ...desired.metadata, resourceVersion: '7', managedFields }, spec }) as KubeObject;
const applied = {
  manager: 'bulkhead',
  operation: 'Apply',
  fieldsV1: { 'f:spec': { 'f:match': { 'f:selector': {} }, 'f:action': { 'f:type': {} } } },
};

describe('stray fields: added by hand where git sets none (ADR 1412)', () => {
  it('finds the topmost field an imperative edit added under spec', () => {
    const live = liveWith(
      {
        ...spec,
        match: { ...spec.match, namespaces: ['nowhere'] },
        mode: 'DryRun',
      },
      [
        applied,
        {
          manager: 'kubectl-edit',
          operation: 'Update',
          fieldsV1: { 'f:spec': { 'f:match': { 'f:namespaces': {} }, 'f:mode': {} } },
        },
      ],
    );
    assert.deepEqual(strayFields(desired, live), ['/spec/match/namespaces', '/spec/mode']);
    const plan = computePlan([desired], [live], 'src');
    assert.equal(plan.items[0]!.action, 'update', 'not unchanged: the subset comparison alone would say so');
    assert.deepEqual(plan.items[0]!.remove, ['/spec/match/namespaces', '/spec/mode']);
    assert.deepEqual(
      plan.items[0]!.changes?.map((c) => [c.path, c.before]),
      [
        ['/spec/match/namespaces', ['nowhere']],
        ['/spec/mode', 'DryRun'],
      ],
    );
  });

  it('leaves fields git sets (the subset comparison covers them), another tool’s apply, and status alone', () => {
    const live = liveWith({ ...spec, extra: 1 }, [
      applied,
      { manager: 'kubectl-edit', operation: 'Update', fieldsV1: { 'f:spec': { 'f:action': { 'f:type': {} } } } },
      { manager: 'argocd-controller', operation: 'Apply', fieldsV1: { 'f:spec': { 'f:extra': {} } } },
      { manager: 'bulkhead', operation: 'Update', subresource: 'status', fieldsV1: { 'f:status': {} } },
      {
        manager: 'kubectl-edit',
        operation: 'Update',
        fieldsV1: { 'f:spec': { 'f:match': { 'f:selector': { 'f:matchLabels': { 'f:app': {} } } } } },
      },
    ]);
    assert.deepEqual(strayFields(desired, live), []);
    assert.equal(computePlan([desired], [live], 'src').items[0]!.action, 'unchanged');
  });

  it('a list item a hand edit added is left to the subset comparison (lists compare whole)', () => {
    const withRules: KubeObject = {
      ...desired,
      spec: { ...(desired.spec as object), rules: [{ a: 1 }] },
    } as KubeObject;
    const live = liveWith({ ...(withRules.spec as object) }, [
      { manager: 'kubectl-patch', operation: 'Update', fieldsV1: { 'f:spec': { 'f:rules': { 'k:{"a":2}': {} } } } },
    ]);
    assert.deepEqual(strayFields(withRules, live), []);
  });
});
