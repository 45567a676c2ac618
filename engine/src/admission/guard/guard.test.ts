import { strict as assert } from 'node:assert';
import type { AdmissionRequest } from '../review.js';
import { decideGuard, SOURCE_ANNOTATIONS, type GuardConfig } from './guard.js';

const cfg: GuardConfig = {
  engineUsernames: ['system:serviceaccount:bulkhead-system:bulkhead'],
  breakGlassGroups: ['bulkhead:break-glass'],
  defaultSource: { repo: 'https://git.example/policies.git', path: 'policies/' },
};

const req = (
  kind: string,
  operation: AdmissionRequest['operation'],
  username: string,
  groups: string[] = [],
  object?: Record<string, unknown>,
): AdmissionRequest => ({
  uid: 'u1',
  kind: { group: 'bulkhead.dev', version: 'v1alpha1', kind },
  resource: { group: 'bulkhead.dev', version: 'v1alpha1', resource: `${kind.toLowerCase()}s` },
  name: 'web',
  operation,
  userInfo: { username, groups },
  ...(object ? { object } : {}),
});
const off = { breakGlass: false };

describe('GitOps guard', () => {
  it('denies an admin (system:masters too) with the git location from the object', () => {
    const d = decideGuard(
      req('HealthPolicy', 'UPDATE', 'admin', ['system:masters'], {
        metadata: {
          annotations: {
            [SOURCE_ANNOTATIONS.repo]: 'https://git.example/team.git',
            [SOURCE_ANNOTATIONS.path]: 'policies/web.yaml',
          },
        },
      }),
      cfg,
      off,
    );
    assert.equal(d.allowed, false);
    assert.equal(d.message, 'managed in git: https://git.example/team.git policies/web.yaml; change it there');
  });

  it('names the default source when the object carries none, and a PolicySource names its own url', () => {
    assert.equal(
      decideGuard(req('HealthPolicy', 'DELETE', 'alice'), cfg, off).message,
      'managed in git: https://git.example/policies.git policies/; change it there',
    );
    const ps = decideGuard(
      req('PolicySource', 'CREATE', 'alice', [], { spec: { url: 'https://git.example/x.git', path: 'clusters/a' } }),
      cfg,
      off,
    );
    assert.equal(ps.message, 'managed in git: https://git.example/x.git clusters/a; change it there');
  });

  it('allows the engine ServiceAccount on every guarded kind and operation', () => {
    for (const kind of ['HealthPolicy', 'PolicySource', 'Quarantine'])
      for (const op of ['CREATE', 'UPDATE', 'DELETE'] as const)
        assert.equal(decideGuard(req(kind, op, cfg.engineUsernames[0]!), cfg, off).allowed, true, `${kind} ${op}`);
  });

  it('allows the break-glass group on git-managed kinds, never on Quarantine', () => {
    assert.equal(
      decideGuard(req('HealthPolicy', 'UPDATE', 'oncall', ['bulkhead:break-glass']), cfg, off).allowed,
      true,
    );
    const q = decideGuard(req('Quarantine', 'DELETE', 'oncall', ['bulkhead:break-glass']), cfg, off);
    assert.equal(q.allowed, false);
    assert.match(q.message, /written only by the Bulkhead engine/);
  });

  it('allows everyone while break-glass is on', () => {
    assert.equal(decideGuard(req('HealthPolicy', 'UPDATE', 'admin'), cfg, { breakGlass: true }).allowed, true);
    assert.equal(decideGuard(req('Quarantine', 'CREATE', 'admin'), cfg, { breakGlass: true }).allowed, true);
  });

  it('lets the namespace controller and garbage collector delete (namespaces must finish terminating)', () => {
    assert.equal(
      decideGuard(req('Quarantine', 'DELETE', 'system:serviceaccount:kube-system:namespace-controller'), cfg, off)
        .allowed,
      true,
    );
    assert.equal(
      decideGuard(req('Quarantine', 'UPDATE', 'system:serviceaccount:kube-system:namespace-controller'), cfg, off)
        .allowed,
      false,
    );
  });

  it('ignores kinds it does not guard', () => {
    const r = { ...req('ConfigMap', 'UPDATE', 'admin'), kind: { group: '', version: 'v1', kind: 'ConfigMap' } };
    assert.equal(decideGuard(r, cfg, off).allowed, true);
  });
});
