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
    assert.equal(
      d.message,
      'managed in git: https://git.example/team.git policies/web.yaml; change it there; may write it: the engine (system:serviceaccount:bulkhead-system:bulkhead); break-glass group bulkhead:break-glass',
    );
  });

  it('names the default source when the object carries none, and a PolicySource names its own url', () => {
    assert.equal(
      decideGuard(req('HealthPolicy', 'DELETE', 'alice'), cfg, off).message,
      'managed in git: https://git.example/policies.git policies/; change it there; may write it: the engine (system:serviceaccount:bulkhead-system:bulkhead); break-glass group bulkhead:break-glass',
    );
    const ps = decideGuard(
      req('PolicySource', 'CREATE', 'alice', [], { spec: { url: 'https://git.example/x.git', path: 'clusters/a' } }),
      cfg,
      off,
    );
    assert.match(
      ps.message,
      /^managed in git: https:\/\/git\.example\/x\.git clusters\/a; change it there; may write it: /,
    );
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

  describe('GitOps writers (--gitops-writers)', () => {
    const flux = 'system:serviceaccount:flux-system:kustomize-controller';
    const withWriters: GuardConfig = { ...cfg, gitopsWriters: [flux] };
    const fluxLabels = {
      'kustomize.toolkit.fluxcd.io/name': 'policies',
      'kustomize.toolkit.fluxcd.io/namespace': 'flux-system',
    };

    it('lets them create, update and delete HealthPolicies and PolicySources, dry-run included', () => {
      for (const kind of ['HealthPolicy', 'PolicySource'])
        for (const op of ['CREATE', 'UPDATE', 'DELETE'] as const) {
          const d = decideGuard({ ...req(kind, op, flux), dryRun: true }, withWriters, off);
          assert.equal(d.allowed, true, `${kind} ${op}`);
          assert.equal(d.reason, 'GitOpsWriter');
          assert.equal(decideGuard(req(kind, op, flux), withWriters, off).allowed, true);
        }
    });

    it('never lets them write a Quarantine or a status (the engine writes those)', () => {
      assert.equal(decideGuard(req('Quarantine', 'CREATE', flux), withWriters, off).allowed, false);
      const st = decideGuard({ ...req('HealthPolicy', 'UPDATE', flux), subResource: 'status' }, withWriters, off);
      assert.equal(st.allowed, false);
      assert.equal(st.reason, 'StatusIsEngines');
      assert.match(st.message, /HealthPolicy web status is written only by the Bulkhead engine/);
    });

    it('is no writer list for anyone else, and the denial names who may write', () => {
      const d = decideGuard(req('HealthPolicy', 'UPDATE', 'admin', ['system:masters']), withWriters, off);
      assert.equal(d.allowed, false);
      assert.match(
        d.message,
        new RegExp(`may write it: the engine \\(.*\\); GitOps writers ${flux}; break-glass group`),
      );
    });

    it('names the GitOps tool that applied the object (Flux labels, Argo CD tracking) and its file', () => {
      const flx = decideGuard(
        req('HealthPolicy', 'UPDATE', 'admin', [], {
          metadata: { labels: fluxLabels, annotations: { 'bulkhead.dev/source': 'policies/web.yaml:3' } },
        }),
        withWriters,
        off,
      );
      assert.match(
        flx.message,
        /^managed in git \(applied by Flux Kustomization flux-system\/policies\); change it there; may write it: /,
      );
      const withRepo = decideGuard(
        req('HealthPolicy', 'UPDATE', 'admin', [], {
          metadata: {
            labels: fluxLabels,
            annotations: {
              'bulkhead.dev/source': 'policies/web.yaml:3',
              [SOURCE_ANNOTATIONS.repo]: 'https://git.example/fleet.git',
            },
          },
        }),
        withWriters,
        off,
      );
      assert.match(
        withRepo.message,
        /^managed in git: https:\/\/git\.example\/fleet\.git policies\/web\.yaml \(applied by Flux Kustomization flux-system\/policies\); change it there/,
      );
      const argo = decideGuard(
        req('PolicySource', 'DELETE', 'admin', [], {
          metadata: { annotations: { 'argocd.argoproj.io/tracking-id': 'bulkhead:bulkhead.dev/PolicySource:/main' } },
          spec: { url: 'https://git.example/policies.git', path: '.' },
        }),
        withWriters,
        off,
      );
      // The PolicySource's spec.url is what it syncs, not where Argo CD keeps it.
      assert.match(argo.message, /^managed in git \(applied by Argo CD Application bulkhead\); change it there/);
    });

    it('never prints a placeholder: no source known says so; the looked-up PolicySource is named', () => {
      const bare: GuardConfig = { engineUsernames: ['e'], breakGlassGroups: [] };
      const none = decideGuard(req('HealthPolicy', 'CREATE', 'admin'), bare, off);
      assert.equal(
        none.message,
        'managed in git (the object names no source repository); change it there; may write it: the engine (e)',
      );
      assert.doesNotMatch(none.message, /</);
      const looked = decideGuard(req('HealthPolicy', 'CREATE', 'admin'), bare, {
        breakGlass: false,
        defaultSource: { repo: 'https://git.example/p.git', path: './policies/' },
      });
      assert.match(looked.message, /^managed in git: https:\/\/git\.example\/p\.git \.\/policies\/; change it there/);
    });
  });
});
