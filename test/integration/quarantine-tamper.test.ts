// Issue 14, attack 4: a namespace admin (pod patch, NetworkPolicy delete) undoes a quarantine
// without git. Two real engine processes (deploy/rbac, leader election), a real git records
// repository, a verdict through the HTTPS API: while the Quarantine is Isolated, the leader puts
// back the label, the detach and the deny-all at once, says so with a Warning Event and a
// metric; the follower writes nothing. Removing the record in git still releases the pod.
import { strict as assert } from 'node:assert';
import { CoreV1Api, NetworkingV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { WEBHOOK_NAMES } from '../../engine/src/admission/index.js';
import type { Quarantine } from '../../engine/src/core/api/index.js';
import { KubeClient } from '../../engine/src/core/kube/client.js';
import { mintServiceAccountToken } from '../../tools/local-cluster/index.js';
import { installEngineRbac, startEngineProcess, type EngineProcess } from '../harness/engine-process.js';
import { createTestRepo, git, type TestRepo } from '../harness/git-repo.js';
import { eventually, getCluster, newNamespace } from '../harness/index.js';
import { httpsCall } from './support/observe-processes.js';
import { runDeployment } from './support/quarantine-fixtures.js';
import { deleteWebhookConfigs } from './support/admission-harness.js';

const Q_LABEL = 'bulkhead.dev/quarantined';

describe('a held pod stays isolated: tampering is undone and reported, release is git’s (2 replicas)', function () {
  this.timeout(180_000);
  let admin: KubeClient;
  let ns: string;
  let appNs: string;
  let repo: TestRepo;
  const engines: EngineProcess[] = [];
  let leader: EngineProcess;
  let follower: EngineProcess;
  let q: Quarantine;
  let podName: string;
  const policyName = (): string => `${ns}-hp`;
  const core = () => getCluster().kubeConfig().makeApiClient(CoreV1Api);
  const net = () => getCluster().kubeConfig().makeApiClient(NetworkingV1Api);

  const quarantineNow = (): Promise<Quarantine> =>
    admin.request<Quarantine>({
      method: 'GET',
      path: `/apis/bulkhead.dev/v1alpha1/namespaces/${appNs}/quarantines/${q.metadata.name}`,
    });
  const tamperEvents = async (): Promise<{ reportingInstance?: string; message?: string }[]> =>
    (
      await core().listNamespacedEvent({
        namespace: appNs,
        fieldSelector: `involvedObject.kind=Quarantine,involvedObject.name=${q.metadata.name},reason=IsolationTampered`,
      })
    ).items;
  const tamperMetric = async (e: EngineProcess, what: string): Promise<number> => {
    const text = await (await fetch(`${e.url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`bulkhead_quarantine_tamper_total{what="${what}"}`));
    return line ? Number(line.split(' ').pop()) : 0;
  };
  const mergePatchPod = (labels: Record<string, string | null>) =>
    admin.request({
      method: 'PATCH',
      path: `/api/v1/namespaces/${appNs}/pods/${podName}`,
      contentType: 'application/merge-patch+json',
      body: { metadata: { labels } },
    });

  before(async () => {
    const kc = getCluster().kubeConfig();
    admin = new KubeClient(kc);
    ns = await newNamespace('tamper');
    appNs = await newNamespace('tamper-app');
    const { kubeconfigPath } = await installEngineRbac(ns);
    const pods = await runDeployment(kc, appNs, 'tamper', 2);
    podName = pods[0]!.metadata!.name!;
    // Before the engines start: once they run, their GitOps guard refuses a policy not from git.
    await admin.request({
      method: 'POST',
      path: '/apis/bulkhead.dev/v1alpha1/healthpolicies',
      body: {
        apiVersion: 'bulkhead.dev/v1alpha1',
        kind: 'HealthPolicy',
        metadata: { name: policyName() },
        spec: {
          match: { namespaces: [appNs], selector: { matchLabels: { app: 'tamper' } } },
          probe: { http: { path: '/health', port: 8080 } },
          detect: { rules: [{ type: 'ConsecutiveFailures', threshold: 3 }] },
          action: { type: 'Quarantine', budget: { maxUnavailable: 1 } },
        },
      },
    });
    repo = await createTestRepo('bh-tamper-');
    await repo.commit({ 'README.md': 'policy repo\n' }, 'initial');
    const args = [
      '--https',
      '127.0.0.1:0',
      '--webhook-url',
      'listen',
      '--records-repo',
      repo.url,
      '--cluster-name',
      'tamper',
    ];
    const holder = async (): Promise<string | undefined> =>
      (
        await admin.request<{ spec?: { holderIdentity?: string } }>({
          method: 'GET',
          path: `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/bulkhead-engine`,
        })
      ).spec?.holderIdentity;
    engines.push(await startEngineProcess({ name: `${ns}-a`, kubeconfigPath, namespace: ns, args }));
    await eventually(async () => assert.equal(await holder(), engines[0]!.name), { what: 'first engine leads' });
    engines.push(await startEngineProcess({ name: `${ns}-b`, kubeconfigPath, namespace: ns, args }));
    [leader, follower] = [engines[0]!, engines[1]!];

    // An analytics tool allowed to ask for quarantines in the app namespace.
    const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({
      namespace: appNs,
      body: {
        metadata: { name: 'verdicts' },
        rules: [{ apiGroups: ['bulkhead.dev'], resources: ['quarantines'], verbs: ['create'] }],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: appNs,
      body: {
        metadata: { name: 'verdicts' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'verdicts' },
        subjects: [{ kind: 'ServiceAccount', name: 'analyzer', namespace: appNs }],
      },
    });
    const token = await mintServiceAccountToken(kc, appNs, 'analyzer', { audiences: ['bulkhead'] });
    const tls = await admin.request<{ data: Record<string, string> }>({
      method: 'GET',
      path: `/api/v1/namespaces/${ns}/secrets/bulkhead-webhook-tls`,
    });
    const ca = Buffer.from(tls.data['ca.crt']!, 'base64').toString('utf8');
    const dataPlane = (await leader.logLines()).find((l) => l.msg === 'engine started')!.dataPlaneUrl as string;
    await eventually(
      async () => {
        const r = await httpsCall(`${dataPlane}/api/v1/verdicts`, {
          ca,
          token,
          method: 'POST',
          body: JSON.stringify({ namespace: appNs, pod: podName, reason: 'AnomalousEgress', policy: policyName() }),
        });
        assert.equal(r.status, 202, r.body);
      },
      { what: 'verdict accepted once the binding is effective' },
    );
    q = await eventually(
      async () => {
        const list = await admin.request<{ items: Quarantine[] }>({
          method: 'GET',
          path: `/apis/bulkhead.dev/v1alpha1/namespaces/${appNs}/quarantines`,
        });
        const found = list.items[0];
        assert.equal(found?.status?.phase, 'Isolated');
        assert.equal(found.status.audit?.state, 'Committed');
        return found;
      },
      { timeoutMs: 60_000, what: 'pod quarantined and its record committed' },
    );
  });
  after(async () => {
    for (const e of engines) await e.stop();
    // Whichever path the engine registered (ADR 1700: auto takes the admission policies here).
    await deleteWebhookConfigs(getCluster().kubeConfig(), WEBHOOK_NAMES);
    await admin
      ?.request({ method: 'DELETE', path: `/apis/bulkhead.dev/v1alpha1/healthpolicies/${policyName()}` })
      .catch(() => {});
    admin?.close();
    await repo?.remove();
  });

  it('the quarantined label removed and the owner label put back: both restored, a Warning Event from the leader, the metric', async () => {
    await mergePatchPod({ [Q_LABEL]: null, app: 'tamper' });
    const pod = await eventually(
      async () => {
        const p = await core().readNamespacedPod({ name: podName, namespace: appNs });
        assert.equal(p.metadata?.labels?.[Q_LABEL], 'true', 'quarantined label back');
        assert.equal(p.metadata?.labels?.app, undefined, 'detached again');
        return p;
      },
      { what: 'isolation of the pod restored' },
    );
    assert.deepEqual(JSON.parse(pod.metadata!.annotations!['bulkhead.dev/original-labels']!), q.spec.originalLabels);
    const events = await eventually(async () => {
      const ev = await tamperEvents();
      assert.equal(ev.length, 1, 'one Event for one tampering');
      return ev;
    });
    assert.equal(events[0]!.reportingInstance, leader.name, 'the leader repairs');
    assert.match(
      events[0]!.message ?? '',
      /label bulkhead\.dev\/quarantined=true removed; removed label\(s\) app put back/,
    );
    assert.match(events[0]!.message ?? '', /released only by removing or reverting its record in git/);
    assert.equal(await tamperMetric(leader, 'label'), 1);
    assert.equal(await tamperMetric(leader, 'detach'), 1);
    assert.equal(await tamperMetric(follower, 'label'), 0, 'the follower writes nothing');
    const now = await quarantineNow();
    assert.equal(now.status?.phase, 'Isolated');
  });

  it('the deny-all deleted is recreated; widened to allow all ingress, it is put back as a whole', async () => {
    await net().deleteNamespacedNetworkPolicy({ name: 'bulkhead-quarantine', namespace: appNs });
    await eventually(
      async () => {
        const np = await net().readNamespacedNetworkPolicy({ name: 'bulkhead-quarantine', namespace: appNs });
        assert.deepEqual(np.spec?.podSelector?.matchLabels, { [Q_LABEL]: 'true' });
      },
      { what: 'deny-all recreated' },
    );
    await admin.request({
      method: 'PATCH',
      path: `/apis/networking.k8s.io/v1/namespaces/${appNs}/networkpolicies/bulkhead-quarantine`,
      contentType: 'application/merge-patch+json',
      body: { spec: { ingress: [{}], podSelector: { matchLabels: { nothing: 'selected' } } } },
    });
    await eventually(
      async () => {
        const np = await net().readNamespacedNetworkPolicy({ name: 'bulkhead-quarantine', namespace: appNs });
        assert.deepEqual(np.spec?.podSelector?.matchLabels, { [Q_LABEL]: 'true' });
        assert.equal(np.spec?.ingress?.length ?? 0, 0);
        assert.deepEqual([...(np.spec?.policyTypes ?? [])].sort(), ['Egress', 'Ingress']);
      },
      { what: 'deny-all spec restored' },
    );
    await eventually(async () => assert.equal(await tamperMetric(leader, 'networkPolicy'), 2));
    const messages = (await tamperEvents()).map((e) => e.message ?? '');
    assert.ok(
      messages.some((m) => /NetworkPolicy bulkhead-quarantine deleted/.test(m)),
      messages.join('\n'),
    );
    assert.ok(
      messages.some((m) => /NetworkPolicy bulkhead-quarantine spec changed/.test(m)),
      messages.join('\n'),
    );
  });

  it('removing the record in git still releases the pod: the keeper does not take it back', async () => {
    await git(repo.workDir, 'pull', '--quiet', '--rebase', 'origin', 'main');
    await repo.commit({ [q.spec.recordPath!]: null }, `release ${podName}: investigated`);
    await eventually(
      async () => {
        const now = await quarantineNow();
        assert.equal(now.status?.phase, 'Released');
        const p = await core().readNamespacedPod({ name: podName, namespace: appNs });
        assert.equal(p.metadata?.labels?.[Q_LABEL], undefined);
        assert.equal(p.metadata?.labels?.app, 'tamper', 'owner label restored');
      },
      { timeoutMs: 60_000, what: 'pod released from git' },
    );
  });
});
