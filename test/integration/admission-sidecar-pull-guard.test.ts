// An unpullable sidecar image (ADR 1010), through the real apiserver and under exactly the
// engine's shipped RBAC: the leader's guard finds injected pods Pending on their sidecar's
// image pull, pauses injection for their policy with a condition on the HealthPolicy, deletes
// the stuck pod a controller owns and leaves a bare one (named in the condition).
import { strict as assert } from 'node:assert';
import { startSidecarPullGuard } from '../../engine/src/admission/index.js';
import { API_VERSION, GROUP, KIND, PLURAL, VERSION, type HealthPolicy } from '../../engine/src/core/api/index.js';
import { isNotFound, KubeClient } from '../../engine/src/core/kube/client.js';
import { loadKubeConfig } from '../../engine/src/core/kube/kubeconfig.js';
import { silentLogger } from '../../engine/src/core/logger.js';
import { installEngineRbac } from '../harness/engine-process.js';
import { getCluster, newNamespace } from '../harness/index.js';

const IMAGE = 'registry.invalid/bulkhead-sidecar:missing';

describe('admission: an unpullable sidecar image pauses injection and unsticks pods', () => {
  let admin: KubeClient;
  let engine: KubeClient | undefined;
  let ns: string;
  let engineNs: string;
  const policyName = () => `pull-${ns}`;
  const policyPath = () => `/apis/${GROUP}/${VERSION}/${PLURAL.HealthPolicy}/${policyName()}`;

  before(async () => {
    admin = new KubeClient(getCluster().kubeConfig());
    ns = await newNamespace('pull');
    engineNs = await newNamespace('bh-pull-engine');
    const { kubeconfigPath } = await installEngineRbac(engineNs);
    engine = new KubeClient(loadKubeConfig(kubeconfigPath));
  });

  after(async () => {
    // Cluster scope: the policy and the RBAC installEngineRbac made for this file.
    for (const path of [
      policyPath(),
      ...['bulkhead-engine', 'bulkhead-engine-data-plane'].flatMap((n) => [
        `/apis/rbac.authorization.k8s.io/v1/clusterroles/${n}-${engineNs}`,
        `/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/${n}-${engineNs}`,
      ]),
    ])
      await admin.request({ method: 'DELETE', path }).catch((err: unknown) => {
        if (!isNotFound(err)) throw err;
      });
    engine?.close();
    admin.close();
  });

  it('writes SidecarInjection=False naming image and pods, deletes the owned stuck pod only, then stays quiet', async () => {
    await admin.request({
      method: 'POST',
      path: `/apis/${GROUP}/${VERSION}/${PLURAL.HealthPolicy}`,
      body: {
        apiVersion: API_VERSION,
        kind: KIND.HealthPolicy,
        metadata: { name: policyName() },
        spec: {
          match: { namespaces: [ns] },
          probe: { tcp: { port: 8080 } },
          detect: { rules: [{ type: 'ConsecutiveFailures', threshold: 3 }] },
          action: { type: 'Alert', mode: 'DryRun' },
        },
      },
    });
    const owner = await admin.request<{ metadata: { uid: string } }>({
      method: 'POST',
      path: `/api/v1/namespaces/${ns}/configmaps`,
      body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'owner' } },
    });
    const pod = (name: string, owned: boolean) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        annotations: { 'bulkhead.dev/injected': JSON.stringify({ policy: policyName(), sidecar: '0.1.0' }) },
        ...(owned
          ? {
              ownerReferences: [
                { apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata.uid, controller: true },
              ],
            }
          : {}),
      },
      spec: {
        // No scheduler picks it up and no kwok node runs it: its status is what this test writes.
        schedulerName: 'no-such-scheduler',
        initContainers: [{ name: 'bulkhead-sidecar', image: IMAGE, restartPolicy: 'Always' }],
        containers: [{ name: 'app', image: 'registry.invalid/app:1' }],
      },
    });
    const waiting = (reason: string) => ({
      status: {
        phase: 'Pending',
        initContainerStatuses: [
          {
            name: 'bulkhead-sidecar',
            image: IMAGE,
            imageID: '',
            ready: false,
            restartCount: 0,
            state: { waiting: { reason } },
          },
        ],
      },
    });
    for (const [name, owned, reason] of [
      ['stuck-owned', true, 'ImagePullBackOff'],
      ['stuck-bare', false, 'ErrImagePull'],
      ['starting', true, 'ContainerCreating'],
    ] as const) {
      await admin.request({ method: 'POST', path: `/api/v1/namespaces/${ns}/pods`, body: pod(name, owned) });
      await admin.request({
        method: 'PATCH',
        path: `/api/v1/namespaces/${ns}/pods/${name}/status`,
        body: waiting(reason),
        contentType: 'application/merge-patch+json',
      });
    }

    // The guard reads the policies the way the engine's watch hands them over.
    const policies = async () => [
      await admin.request<HealthPolicy & { metadata: { resourceVersion?: string } }>({
        method: 'GET',
        path: policyPath(),
      }),
    ];
    let current = await policies();
    const guard = startSidecarPullGuard({
      client: engine!,
      policies: () => current as never,
      image: IMAGE,
      isLeader: () => true,
      logger: silentLogger(),
      intervalMs: 3_600_000,
    });
    try {
      const first = await guard.runOnce();
      assert.deepEqual(first.paused, [policyName()]);
      assert.deepEqual(
        first.deleted.map((p) => p.name),
        ['stuck-owned'],
      );
      const names = (
        await admin.request<{ items: { metadata: { name: string } }[] }>({
          method: 'GET',
          path: `/api/v1/namespaces/${ns}/pods`,
        })
      ).items.map((p) => p.metadata.name);
      assert.deepEqual(names.sort(), ['starting', 'stuck-bare']);

      current = await policies();
      const c = current[0]!.status?.conditions?.find((x) => x.type === 'SidecarInjection');
      assert.equal(c?.status, 'False');
      assert.equal(c?.reason, 'SidecarImageUnpullable');
      assert.match(c!.message, /"registry.invalid\/bulkhead-sidecar:missing" cannot be pulled/);
      assert.match(c!.message, new RegExp(`${ns}/stuck-owned \\(ImagePullBackOff\\)`));
      assert.match(c!.message, /1 bare pod\(s\) left for you to delete/);

      // Nothing new: no write (the policy's resourceVersion stays), nothing deleted.
      const rv = current[0]!.metadata.resourceVersion;
      await admin.request({ method: 'DELETE', path: `/api/v1/namespaces/${ns}/pods/stuck-bare` });
      const second = await guard.runOnce();
      assert.deepEqual(second, { paused: [], deleted: [] });
      assert.equal((await policies())[0]!.metadata.resourceVersion, rv);
    } finally {
      guard.stop();
    }
  });
});
