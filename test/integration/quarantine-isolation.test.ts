// Isolation that holds against the namespace's other NetworkPolicies, and StatefulSet pods that
// are replaced: the engine runs under exactly deploy/rbac (ADR 1030, ADR 1031). Whether a CNI
// enforces the result is shown on real nodes (test/real/quarantine-isolation.test.ts); here the
// real apiserver, controller-manager and kwok show what is written and what the controllers do.
import { strict as assert } from 'node:assert';
import { readFile } from 'node:fs/promises';
import { AppsV1Api, CoreV1Api, KubeConfig, NetworkingV1Api } from '@kubernetes/client-node';
import { decide } from '../../engine/src/analytics/decide.js';
import { groupIncidents } from '../../engine/src/analytics/grouping.js';
import { findCondition, type HealthPolicy, type Quarantine } from '../../engine/src/core/api/index.js';
import { KubeClient } from '../../engine/src/core/kube/client.js';
import { EventRecorder } from '../../engine/src/core/kube/events.js';
import { ResourceResolver } from '../../engine/src/core/kube/resources.js';
import { silentLogger } from '../../engine/src/core/logger.js';
import {
  executeVerdict,
  listQuarantines,
  releaseQuarantine,
  type QuarantineDeps,
} from '../../engine/src/quarantine/index.js';
import { resumePending } from '../../engine/src/quarantine/executor.js';
import { ADMIN_POLICY_NAME } from '../../engine/src/quarantine/isolation/admin-network-policy.js';
import { snapshotSecretName } from '../../engine/src/quarantine/stateful/forensic-snapshot.js';
import { installEngineRbac } from '../harness/engine-process.js';
import { withAdminNetworkPolicyApi } from '../harness/admin-network-policy-api.js';
import { eventually, getCluster, newNamespace } from '../harness/index.js';
import { failingSignal, healthOf, runDeployment, runningPods } from './support/quarantine-fixtures.js';

const policy = (name: string): HealthPolicy => ({
  apiVersion: 'bulkhead.dev/v1alpha1',
  kind: 'HealthPolicy',
  metadata: { name },
  spec: {
    match: { selector: { matchLabels: { team: 'shop' } } },
    probe: { http: { path: '/healthz', port: 8080 } },
    detect: { rules: [{ type: 'ConsecutiveFailures', threshold: 3 }] },
    action: { type: 'Quarantine', budget: { maxUnavailable: 1 } },
  },
});

/** The allows a namespace commonly has next to the quarantine's deny-all. */
const commonAllows = [
  {
    metadata: { name: 'allow-all-ingress' },
    spec: { podSelector: {}, policyTypes: ['Ingress'], ingress: [{}] },
  },
  {
    metadata: { name: 'allow-dns' },
    spec: { podSelector: {}, policyTypes: ['Egress'], egress: [{ ports: [{ protocol: 'UDP', port: 53 }] }] },
  },
  {
    metadata: { name: 'scrape-metrics' },
    spec: {
      podSelector: { matchExpressions: [{ key: 'team', operator: 'In', values: ['shop'] }] },
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ namespaceSelector: {} }], ports: [{ port: 9090 }] }],
    },
  },
];

describe('quarantine isolation against other NetworkPolicies, and StatefulSet replacement', () => {
  let deps: QuarantineDeps;
  let kc: KubeConfig;
  let engineNs: string;

  before(async function () {
    this.timeout(120_000);
    kc = getCluster().kubeConfig();
    engineNs = await newNamespace('qiso-engine');
    const { kubeconfigPath } = await installEngineRbac(engineNs);
    const engineKc = new KubeConfig();
    engineKc.loadFromString(await readFile(kubeconfigPath, 'utf8'));
    const client = new KubeClient(engineKc);
    const logger = silentLogger();
    deps = {
      client,
      resolver: new ResourceResolver(client),
      events: new EventRecorder(client, { component: 'bulkhead', instance: 'qiso', logger }),
      logger,
      now: () => new Date(),
      cluster: 'test',
      protectedNamespaces: new Set([engineNs]),
    };
  });

  async function quarantine(
    ns: string,
    pod: Parameters<typeof healthOf>[0],
    name: string,
    which: (q: Quarantine) => boolean = () => true,
  ): Promise<Quarantine> {
    const victim = healthOf(pod);
    const [incident] = groupIncidents([{ pod: victim, signals: [failingSignal(victim)] }]);
    const result = await executeVerdict(deps, decide(incident!, policy(name), []));
    assert.deepEqual(
      result.taken.map((t) => [t.pod, t.outcome, t.detail]),
      [[victim.name, 'done', undefined]],
    );
    return (await listQuarantines(deps.client, deps.resolver, ns)).find(which)!;
  }

  it('strips the labels label-selected allows need, reports the allows it cannot escape, and release restores every label', async () => {
    const ns = await newNamespace('qiso');
    const net = kc.makeApiClient(NetworkingV1Api);
    for (const body of commonAllows) await net.createNamespacedNetworkPolicy({ namespace: ns, body });
    const pods = await runDeployment(kc, ns, 'iso', 2);
    const victim = pods[0]!;
    const q = await quarantine(ns, victim, 'qiso');

    const core = kc.makeApiClient(CoreV1Api);
    const stored = await core.readNamespacedPod({ name: victim.metadata!.name!, namespace: ns });
    const labels = stored.metadata?.labels ?? {};
    assert.equal(labels['bulkhead.dev/quarantined'], 'true');
    assert.equal(labels.team, undefined, 'the label scrape-metrics selects on is stripped');
    assert.equal(labels.app, undefined, 'detached');
    assert.deepEqual(q.spec.originalLabels, {
      app: 'iso',
      team: 'shop',
      'pod-template-hash': victim.metadata!.labels!['pod-template-hash'],
    });
    assert.match(q.spec.actions![0]!.detail!, /removed labels team selected by allow policies/);

    // The two podSelector {} allows select every pod whatever its labels: said plainly.
    const c = findCondition(q.status?.conditions, 'IsolationIncomplete');
    assert.equal(c?.status, 'True', JSON.stringify(q.status));
    assert.equal(c?.reason, 'AllowPolicySelectsPod');
    assert.match(
      c!.message,
      /allow-all-ingress \(its podSelector \{\} selects every pod in the namespace; admits ingress from anywhere\)/,
    );
    assert.match(c!.message, /allow-dns \(.*admits egress to anywhere on 53\/UDP\)/);
    assert.doesNotMatch(c!.message, /scrape-metrics \(/, 'no longer selects the pod');
    assert.equal(findCondition(q.status?.conditions, 'Ready')?.reason, 'Isolated');

    // Release: every removed label is back (it rejoins the workload, the scrape policy selects it again).
    await releaseQuarantine(deps, q, 'test release');
    const back = await core.readNamespacedPod({ name: victim.metadata!.name!, namespace: ns });
    assert.equal(back.metadata?.labels?.['bulkhead.dev/quarantined'], undefined);
    assert.equal(back.metadata?.labels?.team, 'shop');
    assert.equal(back.metadata?.labels?.app, 'iso');
    assert.equal(back.metadata?.annotations?.['bulkhead.dev/original-labels'], undefined);

    // The operator applies the fix the condition names; the next quarantine there is complete.
    const admin = new KubeClient(kc);
    for (const name of ['allow-all-ingress', 'allow-dns'])
      await admin.request({
        method: 'PATCH',
        path: `/apis/networking.k8s.io/v1/namespaces/${ns}/networkpolicies/${name}`,
        contentType: 'application/merge-patch+json',
        body: {
          spec: { podSelector: { matchExpressions: [{ key: 'bulkhead.dev/quarantined', operator: 'DoesNotExist' }] } },
        },
      });
    admin.close();
    const others = await runDeployment(kc, ns, 'iso2', 2);
    const complete = await quarantine(ns, others[0]!, 'qiso2', (x) => x.spec.pod.uid === others[0]!.metadata!.uid);
    const done = findCondition(complete.status?.conditions, 'IsolationIncomplete');
    assert.deepEqual([done?.status, done?.reason], ['False', 'NoAllowPolicySelectsPod'], done?.message);
    assert.match(done!.message, /Removed labels team/);
  });

  it('a quarantined StatefulSet pod is snapshotted and deleted; the StatefulSet brings web-0 back Running', async () => {
    const ns = await newNamespace('qsts');
    const apps = kc.makeApiClient(AppsV1Api);
    await apps.createNamespacedStatefulSet({
      namespace: ns,
      body: {
        metadata: { name: 'web' },
        spec: {
          replicas: 2,
          serviceName: 'web',
          selector: { matchLabels: { app: 'web' } },
          template: {
            metadata: { labels: { app: 'web', team: 'shop' } },
            spec: { containers: [{ name: 'app', image: 'registry.invalid/web:1' }] },
          },
        },
      },
    });
    const pods = await runningPods(kc, ns, 'app=web', 2);
    await eventually(
      async () => {
        const s = await apps.readNamespacedStatefulSet({ name: 'web', namespace: ns });
        assert.equal(s.status?.availableReplicas, 2);
      },
      { what: 'StatefulSet web available' },
    );
    const web0 = pods.find((p) => p.metadata!.name === 'web-0')!;
    const q = await quarantine(ns, web0, 'qsts');

    assert.equal(q.status?.phase, 'Isolated', 'the record is ready for git');
    assert.equal(findCondition(q.status?.conditions, 'Ready')?.reason, 'Replaced');
    assert.deepEqual(
      q.spec.actions!.map((a) => a.type),
      ['Isolate', 'Snapshot', 'Replace'],
    );
    const core = kc.makeApiClient(CoreV1Api);
    const secret = await core.readNamespacedSecret({ name: snapshotSecretName(q.metadata.name!), namespace: ns });
    assert.deepEqual(
      secret.metadata?.ownerReferences?.map((o) => [o.kind, o.uid]),
      [['Quarantine', q.metadata.uid]],
    );
    const manifest = JSON.parse(Buffer.from(secret.data!['pod.json']!, 'base64').toString('utf8')) as {
      metadata: { uid: string; labels: Record<string, string> };
    };
    assert.equal(manifest.metadata.uid, web0.metadata!.uid, 'the snapshot is of the quarantined pod');
    assert.ok(
      secret.data!['log.app.txt'] !== undefined || secret.data!['NOTES.txt'] !== undefined,
      'each container log is kept or noted as unreadable',
    );

    // The StatefulSet recreates its ordinal: a new web-0 (new uid) Running, the sibling untouched.
    await eventually(
      async () => {
        const p = await core.readNamespacedPod({ name: 'web-0', namespace: ns });
        assert.notEqual(p.metadata?.uid, web0.metadata!.uid);
        assert.equal(p.status?.phase, 'Running');
        assert.equal(p.metadata?.labels?.['bulkhead.dev/quarantined'], undefined);
      },
      { timeoutMs: 60_000, what: 'web-0 replaced and Running' },
    );
    await runningPods(kc, ns, 'app=web', 2);

    // A resume after a crash between the delete and the status write finishes it as Replaced.
    const [again] = await listQuarantines(deps.client, deps.resolver, ns);
    await resumePending(deps, [{ ...again!, status: { ...again!.status, phase: 'Pending' } }]);
    const [resumed] = await listQuarantines(deps.client, deps.resolver, ns);
    assert.equal(resumed!.status?.phase, 'Isolated');

    // A replaced pod no longer costs its StatefulSet's budget (maxUnavailable 1): web-1 may go too.
    await eventually(
      async () => {
        const s = await apps.readNamespacedStatefulSet({ name: 'web', namespace: ns });
        assert.equal(s.status?.availableReplicas, 2);
      },
      { what: 'StatefulSet web whole again' },
    );
    const web1 = await core.readNamespacedPod({ name: 'web-1', namespace: ns });
    await quarantine(ns, web1, 'qsts', (x) => x.spec.pod.uid === web1.metadata!.uid);

    // Release never touches the successor of the same name.
    assert.equal(await releaseQuarantine(deps, resumed!, 'test release'), 'gone');
    const still = await core.readNamespacedPod({ name: 'web-0', namespace: ns });
    assert.notEqual(still.metadata?.uid, web0.metadata!.uid);
  });

  it('where the cluster serves AdminNetworkPolicy, one cluster-wide Deny overrides the allows', async () => {
    const admin = new KubeClient(kc);
    try {
      await withAdminNetworkPolicyApi(admin, async () => {
        const ns = await newNamespace('qanp');
        const net = kc.makeApiClient(NetworkingV1Api);
        await net.createNamespacedNetworkPolicy({ namespace: ns, body: commonAllows[0]! });
        const pods = await runDeployment(kc, ns, 'anp', 2);
        const q = await eventually(() => quarantine(ns, pods[0]!, 'qanp'), { what: 'quarantine with RBAC ready' });
        const anp = await admin.request<{
          spec: { priority: number; subject: unknown; ingress: { action: string }[] };
        }>({
          method: 'GET',
          path: `/apis/policy.networking.k8s.io/v1alpha1/adminnetworkpolicies/${ADMIN_POLICY_NAME}`,
        });
        assert.equal(anp.spec.priority, 0);
        assert.deepEqual(anp.spec.subject, {
          pods: { namespaceSelector: {}, podSelector: { matchLabels: { 'bulkhead.dev/quarantined': 'true' } } },
        });
        assert.equal(anp.spec.ingress[0]!.action, 'Deny');
        const c = findCondition(q.status?.conditions, 'IsolationIncomplete');
        assert.deepEqual([c?.status, c?.reason], ['False', 'OverriddenByAdminNetworkPolicy']);
        assert.match(q.spec.actions![0]!.detail!, /AdminNetworkPolicy bulkhead-quarantine/);
      });
    } finally {
      // Cluster-scoped: the CRD goes with withAdminNetworkPolicyApi, and the object with it.
      admin.close();
    }
  });
});
