import { strict as assert } from 'node:assert';
import type { KubeObject } from '../core/kube/resources.js';
import { fieldOwners, fieldPathSegments } from './field-owners.js';

const live: KubeObject = {
  apiVersion: 'bulkhead.dev/v1alpha1',
  kind: 'HealthPolicy',
  metadata: {
    name: 'p',
    managedFields: [
      { manager: 'bulkhead', operation: 'Apply', fieldsV1: { 'f:spec': { 'f:probe': {} } } },
      { manager: 'argocd-controller', operation: 'Apply', fieldsV1: { 'f:spec': { 'f:detect': { 'f:rules': {} } } } },
      { manager: 'kubectl-edit', operation: 'Update', fieldsV1: { 'f:spec': { 'f:action': { 'f:type': {} } } } },
      { manager: 'bulkhead', operation: 'Apply', subresource: 'status', fieldsV1: { 'f:status': {} } },
    ],
  },
};

describe('fieldOwners', () => {
  it('parses conflict field paths, stopping at list selectors', () => {
    assert.deepEqual(fieldPathSegments('.spec.action.type'), ['spec', 'action', 'type']);
    assert.deepEqual(fieldPathSegments('.spec.detect.rules[0].threshold'), ['spec', 'detect', 'rules']);
    assert.deepEqual(fieldPathSegments('.status.conditions[type="Ready"]'), ['status', 'conditions']);
  });
  it('names the other managers that own a field, with their operation', () => {
    assert.deepEqual(fieldOwners(live, '.spec.action.type'), [{ manager: 'kubectl-edit', operation: 'Update' }]);
    assert.deepEqual(fieldOwners(live, '.spec.detect.rules'), [{ manager: 'argocd-controller', operation: 'Apply' }]);
    assert.deepEqual(fieldOwners(live, '.spec.probe'), [], 'our own fields are not a conflict');
    assert.deepEqual(fieldOwners(live, '.spec.match'), []);
    assert.deepEqual(fieldOwners(undefined, '.spec'), []);
  });
});
