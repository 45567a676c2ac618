// spec.action.similar and replacement.avoidNode through the engine's quarantine pipeline (the
// evaluator, its sibling lookup in the cluster, the executor and the audit outbox), on the real
// control plane (controller-manager, scheduler, kwok nodes) and a real bare repository: one
// failing pod is quarantined and its node tainted before it is detached, so its replacement
// is scheduled on another node; the pods that share its image get the milder action the policy
// names; everything is one incident with one record in git, and removing that record
// releases them all.
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig, RbacAuthorizationV1Api, type V1Pod } from '@kubernetes/client-node';
import { load } from 'js-yaml';
import { Registry } from 'prom-client';
import type { HealthPolicy, Quarantine } from '../../engine/src/core/api/index.js';
import { KubeClient } from '../../engine/src/core/kube/client.js';
import { EventRecorder } from '../../engine/src/core/kube/events.js';
import { ResourceResolver } from '../../engine/src/core/kube/resources.js';
import { silentLogger } from '../../engine/src/core/logger.js';
import { tokenReviewer } from '../../engine/src/observe/create-observe.js';
import { HealthStore, TokenAuthenticator } from '../../engine/src/observe/index.js';
import { listQuarantines, watchAvoidedNodes } from '../../engine/src/quarantine/index.js';
import { NODE_TAINT_KEY } from '../../engine/src/quarantine/placement.js';
import { INCIDENT_LABEL } from '../../engine/src/quarantine/quarantine-object.js';
import { startQuarantinePipeline, type QuarantinePipeline } from '../../engine/src/runtime/quarantine-pipeline.js';
import { installEngineRbac } from '../harness/engine-process.js';
import { createTestRepo, git, HERMETIC_GIT_ENV, type TestRepo } from '../harness/git-repo.js';
import { eventually, getCluster, newNamespace } from '../harness/index.js';
import { startTestAdmission, waitUntilInjecting, type TestAdmission } from './support/admission-harness.js';
import { failingSignal, healthOf, runDeployment } from './support/quarantine-fixtures.js';

const policy: HealthPolicy = {
  apiVersion: 'bulkhead.dev/v1alpha1',
  kind: 'HealthPolicy',
  metadata: { name: 'similar-placement' },
  spec: {
    match: { selector: { matchLabels: { team: 'shop' } } },
    probe: { http: { path: '/healthz', port: 8080 } },
    detect: { rules: [{ type: 'ConsecutiveFailures', threshold: 3 }] },
    action: {
      type: 'Quarantine',
      budget: { maxUnavailable: 3 },
      similar: { sharing: ['Image'], action: 'Isolate' },
      replacement: { avoidNode: 'Taint' },
    },
  },
};

describe('similar pods and replacement placement in the running pipeline', () => {
  let repo: TestRepo;
  let pipeline: QuarantinePipeline | undefined;
  let taintedNode: string | undefined;
  const core = () => getCluster().kubeConfig().makeApiClient(CoreV1Api);

  let hook: TestAdmission | undefined;
  let avoided: ReturnType<typeof watchAvoidedNodes> | undefined;

  // The engine runs as its ServiceAccount with exactly deploy/rbac's permissions.
  let engineNs: string;
  let engineKc: KubeConfig;
  before(async () => {
    engineNs = await newNamespace('simpl-eng');
    const { kubeconfigPath } = await installEngineRbac(engineNs);
    engineKc = new KubeConfig();
    engineKc.loadFromFile(kubeconfigPath);
  });
  after(async () => {
    // installEngineRbac's cluster-scoped objects carry the namespace as suffix.
    const rbac = getCluster().kubeConfig().makeApiClient(RbacAuthorizationV1Api);
    for (const r of (await rbac.listClusterRole()).items.filter((x) => x.metadata?.name?.endsWith(`-${engineNs}`)))
      await rbac.deleteClusterRole({ name: r.metadata!.name! });
    for (const b of (await rbac.listClusterRoleBinding()).items.filter((x) =>
      x.metadata?.name?.endsWith(`-${engineNs}`),
    ))
      await rbac.deleteClusterRoleBinding({ name: b.metadata!.name! });
    for (const r of (await rbac.listNamespacedRole({ namespace: 'default' })).items.filter((x) =>
      x.metadata?.name?.endsWith(`-${engineNs}`),
    ))
      await rbac.deleteNamespacedRole({ name: r.metadata!.name!, namespace: 'default' });
    for (const b of (await rbac.listNamespacedRoleBinding({ namespace: 'default' })).items.filter((x) =>
      x.metadata?.name?.endsWith(`-${engineNs}`),
    ))
      await rbac.deleteNamespacedRoleBinding({ name: b.metadata!.name!, namespace: 'default' });
  });

  /** The engine's quarantine pipeline as start-data-plane wires it, the leader, records to `repo`. */
  const startPipeline = (hp: HealthPolicy, cluster: string): QuarantinePipeline => {
    const kc = engineKc;
    const client = new KubeClient(kc);
    const logger = silentLogger();
    return startQuarantinePipeline({
      client,
      resolver: new ResourceResolver(client),
      events: new EventRecorder(client, { component: 'bulkhead', instance: 'test', logger }),
      logger,
      registry: new Registry(),
      store: new HealthStore(),
      authenticator: new TokenAuthenticator({ review: tokenReviewer(kc), audience: 'bulkhead' }),
      policy: () => hp,
      isLeader: () => true,
      cluster,
      engineNamespace: engineNs,
      records: { url: repo.url, branch: 'main', cacheDir: join(repo.bareDir, '..', 'cache') },
      env: { path: HERMETIC_GIT_ENV.PATH!, home: HERMETIC_GIT_ENV.HOME! },
      flushIntervalMs: 200,
      releaseIntervalMs: 200,
      groupWindowMs: 20,
    });
  };

  afterEach(async () => {
    await pipeline?.stop();
    pipeline = undefined;
    // The webhook configuration is cluster state: a stale one would fail every later pod create.
    await hook?.cleanup();
    hook = undefined;
    await avoided?.watch.stop();
    avoided = undefined;
    // The taint is cluster state: every later test schedules on these nodes.
    if (taintedNode) {
      const n = await core().readNode({ name: taintedNode });
      const client = new KubeClient(getCluster().kubeConfig());
      await client.request({
        method: 'PATCH',
        path: `/api/v1/nodes/${taintedNode}`,
        contentType: 'application/merge-patch+json',
        body: { spec: { taints: (n.spec?.taints ?? []).filter((t) => t.key !== NODE_TAINT_KEY) } },
      });
      taintedNode = undefined;
    }
    await repo.remove();
  });

  it('one failing pod: its node is avoided, its image siblings are isolated, one incident, one record, released together', async () => {
    const kc = getCluster().kubeConfig();
    const client = new KubeClient(kc);
    const resolver = new ResourceResolver(client);
    const ns = await newNamespace('simpl');
    repo = await createTestRepo('bh-similar-');
    await repo.commit({ 'policies/README.md': 'policies\n' }, 'initial');
    const cluster = `c${Math.random().toString(36).slice(2, 8)}`;
    pipeline = startPipeline(policy, cluster);
    const api = await runDeployment(kc, ns, 'api', 3); // image registry.invalid/api:1
    const web = await runDeployment(kc, ns, 'web', 2); // another image: never similar
    const victim = healthOf(api[0]!);
    const failingNode = victim.node!;
    taintedNode = failingNode;
    // The analytics path: a tripped pod (its reports are what the evaluator would have).
    pipeline.evaluator.submit(victim, [failingSignal(victim)], policy);

    const qs = await eventually(
      async () => {
        const list = await listQuarantines(client, resolver, ns);
        assert.equal(list.length, 3, `${list.length} Quarantines`);
        assert.ok(
          list.every((q) => q.status?.audit?.state === 'Committed'),
          JSON.stringify(list.map((q) => q.status)),
        );
        return list;
      },
      { what: 'the failing pod and its two siblings held and recorded', timeoutMs: 30_000 },
    );
    const primary = qs.find((q) => q.spec.pod.uid === victim.uid)!;
    const siblings = qs.filter((q) => q !== primary);
    assert.equal(primary.metadata.labels?.['bulkhead.dev/action'], 'Quarantine');
    assert.deepEqual(
      siblings.map((q) => [q.spec.reason, q.metadata.labels?.['bulkhead.dev/action']]),
      [
        ['Similar', 'Isolate'],
        ['Similar', 'Isolate'],
      ],
      'the milder action the policy names',
    );
    assert.deepEqual(
      new Set(
        api
          .slice(1)
          .map((p) => p.metadata!.uid!)
          .concat(victim.uid),
      ),
      new Set(qs.map((q) => q.spec.pod.uid)),
      'the siblings are the pods sharing the image; the other image is untouched',
    );
    assert.equal(new Set(qs.map((q) => q.metadata.labels?.[INCIDENT_LABEL])).size, 1, 'one incident');

    // One record in git: the failing pod's, naming what was done to each sibling; one commit.
    const files = (await git(repo.bareDir, 'ls-tree', '-r', '--name-only', 'main', '--', `records/${cluster}`))
      .split('\n')
      .filter(Boolean);
    assert.deepEqual(files, [primary.spec.recordPath]);
    assert.ok(siblings.every((q) => q.spec.recordPath === primary.spec.recordPath));
    assert.equal(new Set(qs.map((q) => q.status?.audit?.commit)).size, 1, 'committed together');
    assert.equal(await git(repo.bareDir, 'rev-list', '--count', 'main'), '2', 'one commit on top of the initial one');
    const record = await git(repo.bareDir, 'show', `main:${primary.spec.recordPath}`);
    const steps = (load(record) as Quarantine).spec.actions ?? [];
    for (const sib of siblings)
      assert.ok(
        steps.some((a) => a.type === 'SimilarIsolate' && a.detail?.startsWith(`${ns}/${sib.spec.pod.name}: done`)),
        `the record names sibling ${sib.spec.pod.name}: ${JSON.stringify(steps)}`,
      );
    assert.ok(steps.some((a) => a.type === 'TaintNode' && a.detail === `${failingNode} ${NODE_TAINT_KEY}:NoSchedule`));

    // The siblings are cut off but stay in their workload; the failing pod is detached and its
    // replacement runs on another node (the taint was on before the detach).
    const pod = (name: string) => core().readNamespacedPod({ name, namespace: ns });
    for (const s of siblings) {
      const p = await pod(s.spec.pod.name);
      assert.equal(p.metadata?.labels?.['bulkhead.dev/quarantined'], 'true');
      assert.equal(p.metadata?.labels?.app, 'api', 'isolated, not detached');
    }
    const replacement = await eventually(
      async () => {
        const list = await core().listNamespacedPod({ namespace: ns, labelSelector: 'app=api' });
        const fresh = list.items.filter((p: V1Pod) => !api.some((a) => a.metadata?.uid === p.metadata?.uid));
        assert.equal(fresh.length, 1, `${fresh.length} replacements`);
        assert.ok(fresh[0]!.spec?.nodeName, 'scheduled');
        return fresh[0]!;
      },
      { what: 'the replacement scheduled' },
    );
    assert.notEqual(replacement.spec?.nodeName, failingNode, 'the replacement starts elsewhere');
    const node = await core().readNode({ name: failingNode });
    assert.ok(node.spec?.taints?.some((t) => t.key === NODE_TAINT_KEY && t.effect === 'NoSchedule'));
    for (const w of web)
      assert.equal((await pod(w.metadata!.name!)).metadata?.labels?.['bulkhead.dev/quarantined'], undefined);

    // Reverting the one record releases the whole decision.
    await git(repo.workDir, 'pull', '--quiet', '--rebase', 'origin', 'main');
    await repo.commit({ [primary.spec.recordPath!]: null }, 'release the incident');
    await eventually(
      async () => {
        const list: Quarantine[] = await listQuarantines(client, resolver, ns);
        assert.deepEqual(
          list.map((q) => q.status?.phase),
          ['Released', 'Released', 'Released'],
        );
      },
      { what: 'the failing pod and its siblings released', timeoutMs: 30_000 },
    );
    // Re-attached, the failing pod makes its ReplicaSet one too many: it may remove any one of them.
    for (const s of siblings) {
      const p = await pod(s.spec.pod.name).catch(() => undefined);
      if (p) assert.equal(p.metadata?.labels?.['bulkhead.dev/quarantined'], undefined);
    }
  });

  it('replacement.avoidNode AntiAffinity: the webhook keeps the replacement off the failing node, and taints nothing', async () => {
    const kc = getCluster().kubeConfig();
    const client = new KubeClient(kc);
    const resolver = new ResourceResolver(client);
    const ns = await newNamespace('simaa');
    repo = await createTestRepo('bh-antiaff-');
    await repo.commit({ 'policies/README.md': 'policies\n' }, 'initial');
    const hp: HealthPolicy = {
      ...policy,
      metadata: { name: 'anti-affinity' },
      spec: {
        ...policy.spec,
        match: { namespaces: [ns] },
        action: { type: 'Quarantine', budget: { maxUnavailable: 1 }, replacement: { avoidNode: 'AntiAffinity' } },
      },
    };
    avoided = watchAvoidedNodes({ client: new KubeClient(engineKc), logger: silentLogger() });
    await avoided.watch.synced;
    hook = await startTestAdmission({
      engineNamespace: engineNs,
      engineUsernames: [`system:serviceaccount:${engineNs}:bulkhead-engine`],
      policies: [{ metadata: { name: 'anti-affinity' }, spec: { match: { namespaces: [ns] }, probe: hp.spec.probe } }],
      avoidNodes: avoided.nodesFor,
    });
    await waitUntilInjecting(core(), ns);
    pipeline = startPipeline(hp, `c${Math.random().toString(36).slice(2, 8)}`);

    const api = await runDeployment(kc, ns, 'api', 3);
    const victim = healthOf(api[0]!);
    pipeline.evaluator.submit(victim, [failingSignal(victim)], hp);
    await eventually(
      async () => {
        const [q] = await listQuarantines(client, resolver, ns);
        assert.equal(q?.status?.phase, 'Isolated');
      },
      { what: 'the failing pod quarantined', timeoutMs: 30_000 },
    );
    const replacement = await eventually(
      async () => {
        const list = await core().listNamespacedPod({ namespace: ns, labelSelector: 'app=api' });
        const fresh = list.items.filter((p: V1Pod) => !api.some((a) => a.metadata?.uid === p.metadata?.uid));
        assert.equal(fresh.length, 1, `${fresh.length} replacements`);
        assert.ok(fresh[0]!.spec?.nodeName, 'scheduled');
        return fresh[0]!;
      },
      { what: 'the replacement scheduled' },
    );
    assert.notEqual(
      replacement.spec?.nodeName,
      victim.node,
      `the replacement starts elsewhere; webhook notes: ${JSON.stringify(hook.reviewsIn(ns).map((l) => l.note))}`,
    );
    assert.deepEqual(
      JSON.parse(
        JSON.stringify(
          replacement.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms,
        ),
      ),
      [{ matchFields: [{ key: 'metadata.name', operator: 'NotIn', values: [victim.node] }] }],
      'kept off the node by the webhook',
    );
    const node = await core().readNode({ name: victim.node! });
    assert.ok(!node.spec?.taints?.some((t) => t.key === NODE_TAINT_KEY), 'no node taint: other workloads unaffected');
  });
});
