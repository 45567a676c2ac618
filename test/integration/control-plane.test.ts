// The ground every other test stands on: a real control plane that enforces CRD schemas,
// runs Deployments to Running pods on kwok nodes, enforces RBAC, calls admission webhooks
// over TLS, and issues ServiceAccount tokens that TokenReview accepts.
import { strict as assert } from 'node:assert';
import {
  AppsV1Api,
  AuthenticationV1Api,
  AdmissionregistrationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  RbacAuthorizationV1Api,
  ApiextensionsV1Api,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { mintServiceAccountToken, serviceAccountKubeConfig } from '../../tools/local-cluster/index.js';
import { eventually, getCluster, newNamespace, waitEstablished } from '../harness/index.js';
import { startPatchingWebhook, type TestWebhook } from './support/patching-webhook.js';

const apiCode = (err: unknown): number | undefined => (err as { code?: number }).code;

describe('local control plane', () => {
  let ns: string;
  before(async () => {
    ns = await newNamespace('cp', { 'cp-test': 'true' });
  });

  it('installs a CRD whose schema rejects an invalid object', async () => {
    const kc = getCluster().kubeConfig();
    const crd: V1CustomResourceDefinition = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'widgets.test.bulkhead.dev' },
      spec: {
        group: 'test.bulkhead.dev',
        scope: 'Namespaced',
        names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            schema: {
              openAPIV3Schema: {
                type: 'object',
                properties: {
                  spec: {
                    type: 'object',
                    required: ['size'],
                    properties: { size: { type: 'integer', minimum: 1, maximum: 10 } },
                  },
                },
              },
            },
          },
        ],
      },
    };
    await kc.makeApiClient(ApiextensionsV1Api).createCustomResourceDefinition({ body: crd });
    await waitEstablished(kc, 'widgets.test.bulkhead.dev');
    const custom = kc.makeApiClient(CustomObjectsApi);
    const base = { group: 'test.bulkhead.dev', version: 'v1', namespace: ns, plural: 'widgets' };
    const ok = await eventually(
      () =>
        custom.createNamespacedCustomObject({
          ...base,
          body: { apiVersion: 'test.bulkhead.dev/v1', kind: 'Widget', metadata: { name: 'ok' }, spec: { size: 3 } },
        }),
      { what: 'valid Widget accepted' },
    );
    assert.equal((ok as { spec: { size: number } }).spec.size, 3);
    await assert.rejects(
      custom.createNamespacedCustomObject({
        ...base,
        body: { apiVersion: 'test.bulkhead.dev/v1', kind: 'Widget', metadata: { name: 'bad' }, spec: { size: 99 } },
      }),
      (err: unknown) => {
        assert.equal(apiCode(err), 422);
        assert.match(String((err as { body?: unknown }).body), /spec\.size/);
        return true;
      },
    );
  });

  it('runs a Deployment of 3 replicas to 3 Running pods on kwok nodes', async () => {
    const kc = getCluster().kubeConfig();
    const labels = { app: 'web' };
    await kc.makeApiClient(AppsV1Api).createNamespacedDeployment({
      namespace: ns,
      body: {
        metadata: { name: 'web' },
        spec: {
          replicas: 3,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: {
              containers: [{ name: 'app', image: 'registry.invalid/web:1' }],
              // kwok nodes carry this annotation-driven node; tolerate kwok's own taint if any.
              tolerations: [{ key: 'kwok.x-k8s.io/node', operator: 'Exists', effect: 'NoSchedule' }],
            },
          },
        },
      },
    });
    const core = kc.makeApiClient(CoreV1Api);
    const pods = await eventually(
      async () => {
        const list = await core.listNamespacedPod({ namespace: ns, labelSelector: 'app=web' });
        const running = list.items.filter((p) => p.status?.phase === 'Running');
        assert.equal(running.length, 3, `running pods: ${running.length}/${list.items.length}`);
        return running;
      },
      { timeoutMs: 60_000, what: '3 Running pods' },
    );
    for (const p of pods) assert.match(p.spec?.nodeName ?? '', /^kwok-node-\d+$/);
    const dep = await eventually(
      async () => {
        const d = await kc.makeApiClient(AppsV1Api).readNamespacedDeployment({ name: 'web', namespace: ns });
        assert.equal(d.status?.availableReplicas, 3);
        return d;
      },
      { timeoutMs: 30_000, what: 'Deployment available' },
    );
    assert.equal(dep.status?.readyReplicas, 3);
  });

  it('enforces RBAC: 403 without a role, success once it is bound', async () => {
    const admin = getCluster().kubeConfig();
    const { kubeConfig: limited } = await serviceAccountKubeConfig(admin, getCluster(), ns, 'reader');
    const asReader = limited.makeApiClient(CoreV1Api);
    await assert.rejects(asReader.listNamespacedConfigMap({ namespace: ns }), (err: unknown) => apiCode(err) === 403);

    const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({
      namespace: ns,
      body: {
        metadata: { name: 'cm-reader' },
        rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['list'] }],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: ns,
      body: {
        metadata: { name: 'cm-reader' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'cm-reader' },
        subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace: ns }],
      },
    });
    const list = await eventually(() => asReader.listNamespacedConfigMap({ namespace: ns }), {
      what: 'list allowed after binding',
    });
    assert.ok(Array.isArray(list.items));
    // The role grants list only: other verbs stay forbidden.
    await assert.rejects(
      asReader.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'x' } } }),
      (err: unknown) => apiCode(err) === 403,
    );
  });

  describe('mutating webhook over TLS', () => {
    let hook: TestWebhook;
    after(async () => {
      await getCluster()
        .kubeConfig()
        .makeApiClient(AdmissionregistrationV1Api)
        .deleteMutatingWebhookConfiguration({ name: 'cp-test-hook' })
        .catch(() => {});
      await hook?.close();
    });

    it('is called by the apiserver on pod create, and its patch is stored', async () => {
      const kc = getCluster().kubeConfig();
      hook = await startPatchingWebhook({ label: ['patched-by', 'test-webhook'] });
      await kc.makeApiClient(AdmissionregistrationV1Api).createMutatingWebhookConfiguration({
        body: {
          metadata: { name: 'cp-test-hook' },
          webhooks: [
            {
              name: 'cp-test.bulkhead.dev',
              clientConfig: { url: `${hook.url}/mutate`, caBundle: Buffer.from(hook.caCert).toString('base64') },
              rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }],
              namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } },
              admissionReviewVersions: ['v1'],
              sideEffects: 'None',
              failurePolicy: 'Fail',
              timeoutSeconds: 5,
            },
          ],
        },
      });
      const core = kc.makeApiClient(CoreV1Api);
      let n = 0;
      // Webhook configurations take effect asynchronously: create probe pods until one is patched.
      const pod = await eventually(
        async () => {
          const created = await core.createNamespacedPod({
            namespace: ns,
            body: {
              metadata: { name: `probe-${n++}` },
              spec: { containers: [{ name: 'c', image: 'registry.invalid/x:1' }] },
            },
          });
          assert.equal(created.metadata?.labels?.['patched-by'], 'test-webhook');
          return created;
        },
        { what: 'pod patched by webhook' },
      );
      const stored = await core.readNamespacedPod({ name: pod.metadata!.name!, namespace: ns });
      assert.equal(stored.metadata?.labels?.['patched-by'], 'test-webhook');
      assert.ok(
        hook.requests().some((r) => r.namespace === ns && r.name === stored.metadata!.name),
        'webhook saw this pod',
      );
    });
  });

  it('issues a TokenRequest token that passes TokenReview with its audience', async () => {
    const kc = getCluster().kubeConfig();
    const token = await mintServiceAccountToken(kc, ns, 'reporter', {
      audiences: ['bulkhead'],
      expirationSeconds: 600,
    });
    const auth = kc.makeApiClient(AuthenticationV1Api);
    const review = await auth.createTokenReview({
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, audiences: ['bulkhead'] } },
    });
    assert.equal(review.status?.authenticated, true);
    assert.equal(review.status?.user?.username, `system:serviceaccount:${ns}:reporter`);
    assert.deepEqual(review.status?.audiences, ['bulkhead']);
    const wrongAudience = await auth.createTokenReview({
      body: {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenReview',
        spec: { token, audiences: ['someone-else'] },
      },
    });
    assert.notEqual(wrongAudience.status?.authenticated, true);
  });
});
