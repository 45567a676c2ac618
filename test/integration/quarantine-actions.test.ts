// Quarantine actions against the real control plane (controller-manager, scheduler, kwok):
// a verdict detaches and isolates a pod, its ReplicaSet starts a Running replacement, the
// blast-radius budget holds, and a crash between intent and enforcement is finished on resume.
import { strict as assert } from 'node:assert';
import { CoreV1Api, CustomObjectsApi, NetworkingV1Api } from '@kubernetes/client-node';
import { decide } from '../../engine/src/analytics/decide.js';
import { groupIncidents } from '../../engine/src/analytics/grouping.js';
import type { HealthPolicy, Quarantine } from '../../engine/src/core/api/index.js';
import { KubeClient } from '../../engine/src/core/kube/client.js';
import { EventRecorder } from '../../engine/src/core/kube/events.js';
import { ResourceResolver } from '../../engine/src/core/kube/resources.js';
import { silentLogger } from '../../engine/src/core/logger.js';
import { executeVerdict, listQuarantines, type QuarantineDeps } from '../../engine/src/quarantine/index.js';
import { buildQuarantine } from '../../engine/src/quarantine/quarantine-object.js';
import { ISOLATION_POLICY_NAME } from '../../engine/src/quarantine/actions/isolation-policy.js';
import { NODE_TAINT_KEY, resumePending } from '../../engine/src/quarantine/executor.js';
import { eventually, getCluster, newNamespace } from '../harness/index.js';
import { failingSignal, healthOf, runDeployment, runningPods } from './support/quarantine-fixtures.js';

const policy = (name: string, action: Partial<HealthPolicy['spec']['action']> = {}): HealthPolicy => ({
  apiVersion: 'bulkhead.dev/v1alpha1',
  kind: 'HealthPolicy',
  metadata: { name },
  spec: {
    match: { selector: { matchLabels: { team: 'shop' } } },
    probe: { http: { path: '/healthz', port: 8080 } },
    detect: { rules: [{ type: 'ConsecutiveFailures', threshold: 3 }] },
    action: { type: 'Quarantine', ...action },
  },
});

describe('quarantine actions', () => {
  let deps: QuarantineDeps;
  before(() => {
    const kc = getCluster().kubeConfig();
    const client = new KubeClient(kc);
    const logger = silentLogger();
    deps = {
      client,
      resolver: new ResourceResolver(client),
      events: new EventRecorder(client, { component: 'bulkhead', instance: 'test', logger }),
      logger,
      now: () => new Date(),
      cluster: 'test',
      protectedNamespaces: new Set(['bulkhead-system']),
    };
  });

  it('detaches and isolates a failing pod; its ReplicaSet replaces it with a Running pod', async () => {
    const kc = getCluster().kubeConfig();
    const ns = await newNamespace('qa');
    const pods = await runDeployment(kc, ns, 'api', 4);
    const victim = healthOf(pods[0]!);
    const [incident] = groupIncidents([{ pod: victim, signals: [failingSignal(victim)] }]);
    const result = await executeVerdict(
      deps,
      decide(
        incident!,
        policy('qa-api'),
        pods.map((p) => healthOf(p)),
      ),
    );
    assert.deepEqual(
      result.taken.map((t) => [t.pod, t.action, t.outcome]),
      [[victim.name, 'Quarantine', 'done']],
    );

    const core = kc.makeApiClient(CoreV1Api);
    const stored = await core.readNamespacedPod({ name: victim.name, namespace: ns });
    assert.equal(stored.metadata?.labels?.['bulkhead.dev/quarantined'], 'true');
    assert.equal(stored.metadata?.labels?.app, undefined, 'owner label removed');
    assert.equal(stored.metadata?.labels?.team, 'shop', 'labels the owner does not select on stay');
    assert.deepEqual(JSON.parse(stored.metadata?.annotations?.['bulkhead.dev/original-labels'] ?? '{}'), {
      app: 'api',
      'pod-template-hash': victim.labels['pod-template-hash'],
    });
    assert.equal(stored.status?.phase, 'Running', 'kept for forensics');

    const np = await kc
      .makeApiClient(NetworkingV1Api)
      .readNamespacedNetworkPolicy({ name: ISOLATION_POLICY_NAME, namespace: ns });
    assert.deepEqual(np.spec?.policyTypes, ['Ingress', 'Egress']);
    assert.deepEqual(np.spec?.podSelector?.matchLabels, { 'bulkhead.dev/quarantined': 'true' });

    const replacements = await runningPods(kc, ns, 'app=api', 4);
    assert.ok(
      !replacements.some((p) => p.metadata?.uid === victim.uid),
      'the quarantined pod is no longer part of the workload',
    );

    const qs = await listQuarantines(deps.client, deps.resolver, ns);
    assert.equal(qs.length, 1);
    assert.equal(qs[0]!.status?.phase, 'Isolated');
    assert.equal(qs[0]!.status?.audit?.state, 'Pending');
    assert.equal(qs[0]!.spec.recordPath, `records/test/${ns}/${qs[0]!.metadata.name}.yaml`);
    assert.ok((qs[0]!.spec.evidence?.length ?? 0) >= 3);

    // Same verdict again (a retry): no second Quarantine, no error.
    const again = await executeVerdict(deps, decide(incident!, policy('qa-api'), []));
    assert.equal(again.taken[0]!.outcome, 'already');
    assert.equal((await listQuarantines(deps.client, deps.resolver, ns)).length, 1);
  });

  it('3 of 4 failing with maxUnavailable 25%: exactly one quarantined, the rest alerted', async () => {
    const kc = getCluster().kubeConfig();
    const ns = await newNamespace('qb');
    const pods = await runDeployment(kc, ns, 'web', 4);
    const failing = pods.slice(0, 3).map((p) => healthOf(p, { node: undefined, image: undefined }));
    const incidents = groupIncidents(failing.map((p) => ({ pod: p, signals: [failingSignal(p)] })));
    assert.equal(incidents.length, 1, 'one owner incident');
    const hp = policy('qb-web', { budget: { maxUnavailable: '25%' } });
    await kc
      .makeApiClient(CustomObjectsApi)
      .createClusterCustomObject({ group: 'bulkhead.dev', version: 'v1alpha1', plural: 'healthpolicies', body: hp });
    const result = await executeVerdict(deps, decide(incidents[0]!, hp, []));
    assert.deepEqual(result.taken.map((t) => t.action).sort(), ['Alert', 'Alert', 'Quarantine']);
    // The policy's status says the budget stopped it (the circuit breaker), and what it did.
    const status = (
      (await kc.makeApiClient(CustomObjectsApi).getClusterCustomObject({
        group: 'bulkhead.dev',
        version: 'v1alpha1',
        plural: 'healthpolicies',
        name: 'qb-web',
      })) as HealthPolicy
    ).status;
    assert.equal(status?.budget?.exhausted, true);
    assert.equal(status?.lastAction?.type, 'Quarantine');
    assert.equal(status?.lastAction?.namespace, ns);
    assert.equal(result.budget.exhausted, true);
    assert.deepEqual(
      result.budget.downgraded.map((d) => d.why),
      ['WorkloadBudgetExhausted', 'WorkloadBudgetExhausted'],
    );
    assert.equal((await listQuarantines(deps.client, deps.resolver, ns)).length, 1);
    const events = await kc.makeApiClient(CoreV1Api).listNamespacedEvent({ namespace: ns });
    assert.equal(
      events.items.filter((e) => e.reason === 'WorkloadBudgetExhausted').length,
      2,
      'held-back pods are alerted with the reason',
    );
  });

  it("the policy's own budget applies: maxUnavailable 2 of 4 lets exactly two go", async () => {
    const kc = getCluster().kubeConfig();
    const ns = await newNamespace('qc');
    const pods = await runDeployment(kc, ns, 'two', 4);
    const failing = pods.slice(0, 3).map((p) => healthOf(p, { node: undefined, image: undefined }));
    const [incident] = groupIncidents(failing.map((p) => ({ pod: p, signals: [failingSignal(p)] })));
    const result = await executeVerdict(
      deps,
      decide(incident!, policy('qc-two', { budget: { maxUnavailable: 2 } }), []),
    );
    assert.deepEqual(result.taken.map((t) => t.action).sort(), ['Alert', 'Quarantine', 'Quarantine']);
  });

  it('a node-wide incident under taintNode taints the node NoSchedule, and the Quarantines record it', async () => {
    const kc = getCluster().kubeConfig();
    const ns = await newNamespace('qn');
    const pods = await runDeployment(kc, ns, 'noded', 3);
    const node = 'kwok-node-2';
    // The three pods "fail together on one node" (grouping reads the node the pod reports).
    const failing = pods.map((p) => healthOf(p, { node, owner: undefined }));
    const [incident] = groupIncidents(failing.map((p) => ({ pod: p, signals: [failingSignal(p)] })));
    assert.equal(incident!.key, `node/${node}`);
    const core = kc.makeApiClient(CoreV1Api);
    try {
      const result = await executeVerdict(
        deps,
        decide(incident!, policy('qn', { taintNode: true, budget: { maxUnavailable: 3 } }), []),
      );
      assert.deepEqual(result.node, { name: node, tainted: true });
      const n = await core.readNode({ name: node });
      assert.ok(
        n.spec?.taints?.some((t) => t.key === NODE_TAINT_KEY && t.effect === 'NoSchedule'),
        'node tainted',
      );
      const qs = await listQuarantines(deps.client, deps.resolver, ns);
      assert.equal(qs.length, 3);
      assert.ok(qs.every((q) => q.spec.actions?.some((a) => a.type === 'TaintNode' && a.detail?.startsWith(node))));
      // Without taintNode the node is left alone.
      const other = decide({ ...incident!, members: [] }, policy('qn2', { budget: { maxUnavailable: 3 } }), []);
      assert.deepEqual((await executeVerdict(deps, other)).node, { name: node, tainted: false });
    } finally {
      // The cluster is shared by every test file: the node must schedule again.
      const n = await core.readNode({ name: node });
      await deps.client.request({
        method: 'PATCH',
        path: `/api/v1/nodes/${node}`,
        contentType: 'application/merge-patch+json',
        body: { spec: { taints: (n.spec?.taints ?? []).filter((t) => t.key !== NODE_TAINT_KEY) } },
      });
    }
  });

  it('DryRun records "would quarantine" and touches no pod', async () => {
    const kc = getCluster().kubeConfig();
    const ns = await newNamespace('qd');
    const pods = await runDeployment(kc, ns, 'dry', 2);
    const p = healthOf(pods[0]!);
    const [incident] = groupIncidents([{ pod: p, signals: [failingSignal(p)] }]);
    const result = await executeVerdict(deps, decide(incident!, policy('qd', { mode: 'DryRun' }), []));
    assert.equal(result.taken[0]!.outcome, 'dry-run');
    const stored = await kc.makeApiClient(CoreV1Api).readNamespacedPod({ name: p.name, namespace: ns });
    assert.equal(stored.metadata?.labels?.['bulkhead.dev/quarantined'], undefined);
    await assert.rejects(
      kc.makeApiClient(NetworkingV1Api).readNamespacedNetworkPolicy({ name: ISOLATION_POLICY_NAME, namespace: ns }),
    );
    const [q] = await listQuarantines(deps.client, deps.resolver, ns);
    assert.equal(q!.spec.mode, 'DryRun');
  });

  it('never acts in a protected namespace', async () => {
    const p = { namespace: 'kube-system', name: 'coredns-x', uid: 'u-1', labels: {}, samples: [], events: [] };
    const [incident] = groupIncidents([{ pod: p, signals: [failingSignal(p)] }]);
    const result = await executeVerdict(deps, decide(incident!, policy('ks'), []));
    assert.equal(result.taken[0]!.action, 'Alert');
    assert.equal(result.budget.downgraded[0]!.why, 'ProtectedNamespace');
  });

  it('finishes a quarantine whose enforcement a crash interrupted (intent recorded, pod untouched)', async () => {
    const kc = getCluster().kubeConfig();
    const ns = await newNamespace('qr');
    const pods = await runDeployment(kc, ns, 'res', 2);
    const p = healthOf(pods[0]!);
    const [incident] = groupIncidents([{ pod: p, signals: [failingSignal(p)] }]);
    const verdict = decide(incident!, policy('qr'), []);
    // The crash: the CR was created (step 1), nothing else happened.
    const q: Quarantine = buildQuarantine({
      action: verdict.actions[0]!,
      kind: 'Quarantine',
      policy: 'qr',
      mode: 'Enforce',
      incident: 'x',
      cluster: 'test',
      now: new Date(),
    });
    await kc.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
      group: 'bulkhead.dev',
      version: 'v1alpha1',
      namespace: ns,
      plural: 'quarantines',
      body: q,
    });
    const resumed = await resumePending(deps, await listQuarantines(deps.client, deps.resolver, ns));
    assert.equal(resumed, 1);
    const stored = await kc.makeApiClient(CoreV1Api).readNamespacedPod({ name: p.name, namespace: ns });
    assert.equal(stored.metadata?.labels?.['bulkhead.dev/quarantined'], 'true');
    await eventually(async () => {
      const [after] = await listQuarantines(deps.client, deps.resolver, ns);
      assert.equal(after!.status?.phase, 'Isolated');
    });
    assert.equal(
      await resumePending(deps, await listQuarantines(deps.client, deps.resolver, ns)),
      0,
      'nothing left to resume',
    );
  });
});
