// Issue 5, GitOps guard: the apiserver asks the engine's validating webhook before any write to
// a Bulkhead object. Only the engine's ServiceAccount, the GitOps writers (issue 16: a
// Flux-like ServiceAccount here) and a break-glass group may write git-managed kinds;
// cluster-admin gets "managed in git". The guard fails closed for everyone else, and
// `bulkhead break-glass on|off` is the way around it in an incident; those who may write are
// never sent to the webhook (matchConditions), so a stopped engine locks none of them out.
// Issue 17: the same file runs once per admission path against the same control plane; on the
// policy path the guard is a ValidatingAdmissionPolicy run by the apiserver, with the same
// messages, so with the engine stopped it still refuses everyone else.
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import {
  AdmissionregistrationV1Api,
  CustomObjectsApi,
  KubeConfig,
  RbacAuthorizationV1Api,
} from '@kubernetes/client-node';
import { SOURCE_ANNOTATIONS } from '../../engine/src/admission/guard/guard.js';
import { issueCertificate } from '../../engine/src/core/pki.js';
import { renderKubeconfig, serviceAccountKubeConfig } from '../../tools/local-cluster/index.js';
import { eventually, getCluster, newNamespace } from '../harness/index.js';
import {
  deleteWebhookConfigs,
  MODES,
  readAdmissionObject,
  startTestAdmission,
  type TestAdmission,
} from './support/admission-harness.js';

const run = promisify(execFile);
const G = { group: 'bulkhead.dev', version: 'v1alpha1' };
const HP = { ...G, plural: 'healthpolicies' };
const PS = { ...G, plural: 'policysources' };
const Q = { ...G, plural: 'quarantines' };

const failure = (err: unknown): { code?: number; message: string } => {
  const e = err as { code?: number; body?: unknown; message?: string };
  return {
    code: e.code,
    message: `${typeof e.body === 'string' ? e.body : JSON.stringify(e.body ?? '')} ${e.message ?? ''}`,
  };
};

async function denied(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    const f = failure(err);
    assert.match(f.message, pattern);
    return true;
  });
}

for (const mode of MODES)
  describe(`admission: GitOps guard through the real apiserver (${mode} path)`, () => {
    const suffix = randomBytes(3).toString('hex');
    const testLabel = { 'bulkhead.dev/test-guard': suffix };
    const breakGlassGroup = `bulkhead:break-glass-${suffix}`;
    let engineNs: string;
    let appNs: string;
    let hook: TestAdmission;
    let admin: CustomObjectsApi;
    let engine: CustomObjectsApi;
    let oncall: CustomObjectsApi;
    let flux: CustomObjectsApi;
    let fluxUser: string;

    const policy = (name: string, annotations: Record<string, string> = {}): object => ({
      apiVersion: 'bulkhead.dev/v1alpha1',
      kind: 'HealthPolicy',
      metadata: { name, labels: testLabel, annotations },
      spec: {
        match: { namespaces: [appNs] },
        probe: { http: { path: '/healthz', port: 8080 } },
        detect: { rules: [{ type: 'ConsecutiveFailures', threshold: 3 }] },
        action: { type: 'Alert' },
      },
    });
    const quarantine = (name: string): object => ({
      apiVersion: 'bulkhead.dev/v1alpha1',
      kind: 'Quarantine',
      metadata: { name, labels: testLabel },
      spec: {
        pod: { name: 'web-1', uid: 'u-1' },
        policy: `web-${suffix}`,
        reason: 'Manual',
        mode: 'DryRun',
        time: new Date().toISOString(),
      },
    });
    const relabel = (api: CustomObjectsApi, name: string, value: string): Promise<unknown> =>
      api.patchClusterCustomObject({ ...HP, name, body: [{ op: 'add', path: '/metadata/labels/edited', value }] });
    const breakGlass = async (state: 'on' | 'off'): Promise<string> =>
      (
        await run(
          process.execPath,
          ['--import', 'tsx', 'engine/src/main.ts', 'break-glass', state, '--kubeconfig', getCluster().kubeconfigPath],
          { timeout: 60_000 },
        )
      ).stdout;

    before(async () => {
      const kc = getCluster().kubeConfig();
      engineNs = await newNamespace('bh-engine');
      appNs = await newNamespace('guarded');
      const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
      const role = `bulkhead-writer-${suffix}`;
      await rbac.createClusterRole({
        body: { metadata: { name: role }, rules: [{ apiGroups: ['bulkhead.dev'], resources: ['*'], verbs: ['*'] }] },
      });
      await rbac.createClusterRoleBinding({
        body: {
          metadata: { name: role },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
          subjects: [
            { kind: 'ServiceAccount', name: 'bulkhead', namespace: engineNs },
            { kind: 'ServiceAccount', name: 'kustomize-controller', namespace: engineNs },
            { kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: breakGlassGroup },
          ],
        },
      });
      admin = kc.makeApiClient(CustomObjectsApi);
      engine = (await serviceAccountKubeConfig(kc, getCluster(), engineNs, 'bulkhead')).kubeConfig.makeApiClient(
        CustomObjectsApi,
      );
      const cert = await issueCertificate(getCluster().ca, {
        commonName: 'oncall',
        organizations: [breakGlassGroup],
        usage: 'client',
        validForDays: 1,
      });
      const oc = new KubeConfig();
      oc.loadFromString(
        renderKubeconfig({
          server: getCluster().server,
          caCert: getCluster().ca.cert,
          userName: 'oncall',
          user: { clientCert: cert.cert, clientKey: cert.key },
        }),
      );
      oncall = oc.makeApiClient(CustomObjectsApi);
      // The GitOps tool's identity, as Flux's kustomize-controller runs (its own ServiceAccount).
      fluxUser = `system:serviceaccount:${engineNs}:kustomize-controller`;
      flux = (
        await serviceAccountKubeConfig(kc, getCluster(), engineNs, 'kustomize-controller')
      ).kubeConfig.makeApiClient(CustomObjectsApi);

      hook = await startTestAdmission({
        engineNamespace: engineNs,
        policies: [],
        breakGlassGroups: [breakGlassGroup],
        gitopsWriters: [fluxUser],
        mode,
      });
      // The engine applies a policy from git (it carries its source).
      await eventually(
        () =>
          engine.createClusterCustomObject({
            ...HP,
            body: policy(`web-${suffix}`, {
              [SOURCE_ANNOTATIONS.repo]: 'https://git.example/platform.git',
              [SOURCE_ANNOTATIONS.path]: 'policies/web.yaml',
            }),
          }),
        {
          what: 'engine RBAC effective',
        },
      );
      // The guard takes effect asynchronously: wait until an admin edit is refused.
      await eventually(() => denied(relabel(admin, `web-${suffix}`, 'warmup'), /managed in git/), {
        what: 'guard active',
        timeoutMs: 30_000,
      });
    });

    after(async () => {
      await hook?.cleanup();
      const kc = getCluster().kubeConfig();
      await deleteWebhookConfigs(kc, hook.names);
      const custom = kc.makeApiClient(CustomObjectsApi);
      const selector = `bulkhead.dev/test-guard=${suffix}`;
      for (const hp of (
        (await custom.listClusterCustomObject({ ...HP, labelSelector: selector })) as {
          items: { metadata: { name: string } }[];
        }
      ).items) {
        await custom.deleteClusterCustomObject({ ...HP, name: hp.metadata.name }).catch(() => {});
      }
      await custom.deleteClusterCustomObject({ ...PS, name: `src-${suffix}` }).catch(() => {});
      const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
      await rbac.deleteClusterRoleBinding({ name: `bulkhead-writer-${suffix}` }).catch(() => {});
      await rbac.deleteClusterRole({ name: `bulkhead-writer-${suffix}` }).catch(() => {});
    });

    it('denies cluster-admin create, update and delete of a HealthPolicy: "managed in git: <repo> <file>; change it there"', async () => {
      const msg = /managed in git: https:\/\/git\.example\/platform\.git policies\/web\.yaml; change it there/;
      await denied(relabel(admin, `web-${suffix}`, 'by-admin'), msg);
      await denied(admin.deleteClusterCustomObject({ ...HP, name: `web-${suffix}` }), msg);
      await denied(
        admin.createClusterCustomObject({ ...HP, body: policy(`sneaky-${suffix}`) }),
        // No placeholder: the cluster's PolicySources (if another test file made some), else says so.
        /managed in git(: [^<;]+ \S*policies\/| \(the object names no source repository\)); change it there/,
      );
      const stored = (await admin.getClusterCustomObject({ ...HP, name: `web-${suffix}` })) as {
        metadata: { labels: Record<string, string> };
      };
      // The warm-up edit may have landed before the guard took effect (both paths apply
      // asynchronously); the refused edit did not.
      assert.notEqual(stored.metadata.labels.edited, 'by-admin', 'nothing changed');
      const calls = hook.logs.filter((l) => l.endpoint === 'validate' && l.outcome === 'denied' && l.user === 'admin');
      if (mode === 'webhook') assert.ok(calls.length > 0, 'the webhook refused it');
      else assert.deepEqual(calls, [], 'the apiserver refused it itself');
    });

    it('names who may write in every denial: the engine, the GitOps writers, the break-glass group', async () => {
      await denied(
        relabel(admin, `web-${suffix}`, 'by-admin-2'),
        new RegExp(
          `; change it there; may write it: the engine \\(system:serviceaccount:${engineNs}:bulkhead\\); GitOps writers ${fluxUser}; break-glass group ${breakGlassGroup}`,
        ),
      );
    });

    it('lets a GitOps writer apply (dry-run first, as Flux does), update and delete, and never calls the webhook for it', async () => {
      const before = hook.logs.filter((l) => l.user === fluxUser).length;
      const body = policy(`flux-${suffix}`);
      // kustomize-controller applies server-side with dryRun=All first, then for real.
      await flux.createClusterCustomObject({ ...HP, body, dryRun: 'All' });
      await flux.createClusterCustomObject({ ...HP, body });
      await relabel(flux, `flux-${suffix}`, 'by-flux');
      await flux.deleteClusterCustomObject({ ...HP, name: `flux-${suffix}`, dryRun: 'All' });
      await flux.deleteClusterCustomObject({ ...HP, name: `flux-${suffix}` });
      await flux.createClusterCustomObject({
        ...PS,
        body: {
          apiVersion: 'bulkhead.dev/v1alpha1',
          kind: 'PolicySource',
          metadata: { name: `flux-src-${suffix}`, labels: testLabel },
          spec: { url: 'https://git.example/fleet.git', path: 'clusters/a' },
        },
      });
      await flux.deleteClusterCustomObject({ ...PS, name: `flux-src-${suffix}` });
      assert.equal(hook.logs.filter((l) => l.user === fluxUser).length, before, 'no admission review for the writer');
    });

    it("keeps status and Quarantines the engine's, even for a GitOps writer", async () => {
      await denied(
        flux.patchClusterCustomObjectStatus({
          ...HP,
          name: `web-${suffix}`,
          body: [{ op: 'add', path: '/status', value: { observedGeneration: 1 } }],
        }),
        /status is written only by the Bulkhead engine/,
      );
      await denied(
        flux.createNamespacedCustomObject({ ...Q, namespace: appNs, body: quarantine(`q-flux-${suffix}`) }),
        /written only by the Bulkhead engine/,
      );
    });

    it("allows the engine's ServiceAccount to create, update and delete", async () => {
      await engine.createClusterCustomObject({ ...HP, body: policy(`engine-${suffix}`) });
      await relabel(engine, `engine-${suffix}`, 'by-engine');
      await engine.deleteClusterCustomObject({ ...HP, name: `engine-${suffix}` });
    });

    it('keeps reads working: anyone with read access lists and gets the guarded kinds', async () => {
      const list = (await admin.listClusterCustomObject({
        ...HP,
        labelSelector: `bulkhead.dev/test-guard=${suffix}`,
      })) as { items: unknown[] };
      assert.ok(list.items.length >= 1);
      await admin.listNamespacedCustomObject({ ...Q, namespace: appNs });
    });

    it('lets the break-glass group edit git-managed kinds, but not Quarantines', async () => {
      await relabel(oncall, `web-${suffix}`, 'by-oncall');
      await denied(
        oncall.createNamespacedCustomObject({ ...Q, namespace: appNs, body: quarantine(`q-oncall-${suffix}`) }),
        /written only by the Bulkhead engine/,
      );
    });

    it('lets only the engine write Quarantines (admin denied), while anyone may read them', async () => {
      await denied(
        admin.createNamespacedCustomObject({ ...Q, namespace: appNs, body: quarantine(`q-admin-${suffix}`) }),
        /written only by the Bulkhead engine/,
      );
      await engine.createNamespacedCustomObject({ ...Q, namespace: appNs, body: quarantine(`q-engine-${suffix}`) });
      await denied(
        admin.deleteNamespacedCustomObject({ ...Q, namespace: appNs, name: `q-engine-${suffix}` }),
        /written only by the Bulkhead engine/,
      );
      const q = (await admin.getNamespacedCustomObject({ ...Q, namespace: appNs, name: `q-engine-${suffix}` })) as {
        spec: { policy: string };
      };
      assert.equal(q.spec.policy, `web-${suffix}`);
    });

    it('names the PolicySource its own repository', async () => {
      await denied(
        admin.createClusterCustomObject({
          ...PS,
          body: {
            apiVersion: 'bulkhead.dev/v1alpha1',
            kind: 'PolicySource',
            metadata: { name: `src-${suffix}`, labels: testLabel },
            spec: { url: 'https://git.example/fleet.git', path: 'clusters/a' },
          },
        }),
        /managed in git: https:\/\/git\.example\/fleet\.git clusters\/a; change it there/,
      );
    });

    it('break-glass on: every webhook fails open and the admin edit goes through; off restores both', async () => {
      const api = getCluster().kubeConfig().makeApiClient(AdmissionregistrationV1Api);
      const guardObject = mode === 'webhook' ? 'ValidatingWebhookConfiguration' : 'ValidatingAdmissionPolicyBinding';
      assert.match(await breakGlass('on'), new RegExp(`${guardObject}/${hook.names.validating}: break-glass on`));
      if (mode === 'webhook') {
        const v = await api.readValidatingWebhookConfiguration({ name: hook.names.validating });
        assert.equal(v.metadata?.annotations?.['bulkhead.dev/break-glass'], 'on');
        assert.ok((v.webhooks ?? []).every((w) => w.failurePolicy === 'Ignore'));
      } else {
        const b = await api.readValidatingAdmissionPolicyBinding({ name: hook.names.validating });
        assert.equal(b.metadata?.annotations?.['bulkhead.dev/break-glass'], 'on');
        assert.deepEqual(b.spec?.validationActions, ['Warn']);
      }
      await eventually(() => relabel(admin, `web-${suffix}`, 'break-glass'), {
        what: 'admin edit allowed under break-glass',
      });

      await breakGlass('off');
      if (mode === 'webhook') {
        const restored = await api.readValidatingWebhookConfiguration({ name: hook.names.validating });
        assert.equal(restored.metadata?.annotations?.['bulkhead.dev/break-glass'], undefined);
        assert.ok((restored.webhooks ?? []).every((w) => w.failurePolicy === 'Fail'));
        const m = await api.readMutatingWebhookConfiguration({ name: hook.names.mutating });
        assert.ok(
          (m.webhooks ?? []).every((w) => w.failurePolicy === 'Ignore'),
          'injection stays fail-open',
        );
      } else {
        const restored = await api.readValidatingAdmissionPolicyBinding({ name: hook.names.validating });
        assert.equal(restored.metadata?.annotations?.['bulkhead.dev/break-glass'], undefined);
        assert.deepEqual(restored.spec?.validationActions, ['Deny']);
        const m = (await readAdmissionObject('MutatingAdmissionPolicy', hook.names.mutating)) as {
          spec: { failurePolicy: string };
        };
        assert.equal(m.spec.failurePolicy, 'Ignore', 'injection stays fail-open');
      }
      await eventually(() => denied(relabel(admin, `web-${suffix}`, 'after-off'), /managed in git/), {
        what: 'guard back on',
      });
      // Two CLI runs (each compiles the CLI with tsx): over a minute on a loaded 2-core machine.
    }).timeout(180_000);

    it(
      mode === 'webhook'
        ? 'fails closed with the engine stopped, for everyone but those who may write; break-glass on is the way through'
        : 'with the engine stopped the guard still refuses everyone else and admits those who may write; break-glass on still works',
      async () => {
        await hook.stop();
        // Webhook: the apiserver cannot ask the engine and refuses (fails closed). Policy: the
        // apiserver refuses by itself, with the same message as with the engine running.
        const refused =
          mode === 'webhook'
            ? /failed calling webhook|connection refused/
            : /managed in git: https:\/\/git\.example\/platform\.git policies\/web\.yaml; change it there/;
        await denied(relabel(admin, `web-${suffix}`, 'engine-down'), refused);
        // The GitOps tool keeps reconciling (dry-run and apply), on-call keeps its edit, the
        // engine keeps writing: neither path needs the engine for them.
        await flux.createClusterCustomObject({ ...HP, body: policy(`flux-down-${suffix}`), dryRun: 'All' });
        await flux.createClusterCustomObject({ ...HP, body: policy(`flux-down-${suffix}`) });
        await relabel(flux, `flux-down-${suffix}`, 'engine-down');
        await flux.deleteClusterCustomObject({ ...HP, name: `flux-down-${suffix}` });
        await relabel(oncall, `web-${suffix}`, 'engine-down-oncall');
        await relabel(engine, `web-${suffix}`, 'engine-down-engine');
        await breakGlass('on');
        await eventually(() => relabel(admin, `web-${suffix}`, 'engine-down-break-glass'), {
          what: 'admin edit with engine down and break-glass on',
        });
        await breakGlass('off');
        await eventually(() => denied(relabel(admin, `web-${suffix}`, 'engine-down-again'), refused), {
          what: 'refusing again',
        });
      },
    ).timeout(180_000);
  });
