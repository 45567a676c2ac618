// Three real engine processes with leader election as shipped, behind per-connection
// round-robin TCP balancers (as kube-proxy balances a Service), real sidecar processes and a
// real git repository (policies synced from it, records committed to it). The Lease holder
// is the one executor (ADR 1500/1501): reports to a follower are 421 and the sidecar moves;
// verdicts, push hooks and reads sent to a follower are forwarded to the leader and carried
// out there. Each sidecar gets its own balancer, rotated so its first connection lands on a
// chosen replica: every replica, followers and leader, gets first connections of failing pods.
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, RbacAuthorizationV1Api, type V1Pod } from '@kubernetes/client-node';
import { WEBHOOK_NAMES } from '../../engine/src/admission/index.js';
import { LABEL, type Quarantine } from '../../engine/src/core/api/index.js';
import { SERVED_BY_HEADER } from '../../engine/src/core/http/leader-forward.js';
import { KubeClient } from '../../engine/src/core/kube/client.js';
import { hmacSha256Hex } from '../../engine/src/source/webhook-signature.js';
import { freePorts, mintServiceAccountToken } from '../../tools/local-cluster/index.js';
import { installEngineRbac, startEngineProcess, type EngineProcess } from '../harness/engine-process.js';
import { createTestRepo, git, type TestRepo } from '../harness/git-repo.js';
import { eventually, getCluster, newNamespace } from '../harness/index.js';
import { startRoundRobinBalancer, type Balancer } from '../harness/round-robin-balancer.js';
import { createSource, deleteQuietly, getSource, HP, PS } from './support/gitops.js';
import { runDeployment } from './support/quarantine-fixtures.js';
import {
  httpsCall,
  killAll,
  podToken,
  quickSidecarEnv,
  readerToken,
  startApp,
  startSidecar,
} from './support/observe-processes.js';
import { deleteWebhookConfigs } from './support/admission-harness.js';

const REPLICAS = 3;
const WEBHOOK_SECRET = `hook-${randomBytes(8).toString('hex')}`;

/** The real kubectl built into the cache, as an on-call engineer runs it. */
const kubectl = (args: string[]): Promise<string> =>
  new Promise((ok, fail) => {
    const c = getCluster();
    execFile(
      join(c.binDir, 'kubectl'),
      ['--kubeconfig', c.kubeconfigPath, ...args],
      { timeout: 90_000, env: { PATH: process.env.PATH ?? '', HOME: tmpdir() } },
      (err, stdout, stderr) =>
        err ? fail(new Error(`kubectl ${args.join(' ')}: ${stderr || err.message}`)) : ok(stdout),
    );
  });

describe(`data plane with ${REPLICAS} replicas: one executor, followers forward (real processes)`, function () {
  this.timeout(180_000);
  let ns: string;
  let appNs: string;
  let admin: KubeClient;
  let repo: TestRepo;
  let source: string;
  const engines: EngineProcess[] = [];
  const balancers: Balancer[] = [];
  let pods: V1Pod[];
  let podIndex = 0;
  let ca: string;
  let caPath: string;
  let reader: string;
  let dashboardToken: string;
  const policyName = (): string => `${ns}-hp`;

  const dataPlaneUrl = async (e: EngineProcess): Promise<string> => {
    const started = (await e.logLines()).find((l) => l.msg === 'engine started');
    return started!.dataPlaneUrl as string;
  };
  const holder = async (): Promise<string | undefined> =>
    (
      await admin.request<{ spec?: { holderIdentity?: string } }>({
        method: 'GET',
        path: `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/bulkhead-engine`,
      })
    ).spec?.holderIdentity;
  const live = (): EngineProcess[] => engines.filter((e) => !killed.has(e));
  const killed = new Set<EngineProcess>();
  const leaderNow = async (): Promise<EngineProcess> => {
    const h = await holder();
    const l = live().find((e) => e.name === h);
    assert.ok(l, `a live replica holds the Lease (holder ${h})`);
    return l;
  };
  const followersNow = async (): Promise<EngineProcess[]> => {
    const l = await leaderNow();
    return live().filter((e) => e !== l);
  };
  const quarantineOf = async (uid: string): Promise<Quarantine[]> =>
    (
      await admin.request<{ items: Quarantine[] }>({
        method: 'GET',
        path: `/apis/bulkhead.dev/v1alpha1/namespaces/${appNs}/quarantines`,
      })
    ).items.filter((q) => q.spec.pod.uid === uid);
  /** Waits until the pod is quarantined and its record committed; exactly one Quarantine. */
  const quarantinedAndRecorded = async (pod: V1Pod): Promise<Quarantine> => {
    const core = getCluster().kubeConfig().makeApiClient(CoreV1Api);
    return eventually(
      async () => {
        const p = await core.readNamespacedPod({ namespace: appNs, name: pod.metadata!.name! });
        assert.equal(p.metadata?.labels?.[LABEL.quarantined], 'true', 'pod labelled quarantined');
        const qs = await quarantineOf(pod.metadata!.uid!);
        assert.equal(qs.length, 1, 'one Quarantine');
        assert.equal(qs[0]!.spec.mode, 'Enforce');
        assert.equal(qs[0]!.status?.audit?.state, 'Committed', 'record committed');
        return qs[0]!;
      },
      { what: `${pod.metadata!.name} quarantined and recorded`, timeoutMs: 90_000 },
    );
  };
  /** Commits on main that added the pod's record: exactly one each. */
  const recordCommits = async (q: Quarantine): Promise<number> =>
    (await git(repo.bareDir, 'log', '--diff-filter=A', '--format=%H', 'main', '--', q.spec.recordPath!))
      .split('\n')
      .filter(Boolean).length;
  /** A failing app + a real sidecar whose first connection lands on replica `first`. */
  const failingPod = async (first: EngineProcess, label: string): Promise<{ pod: V1Pod; balancer: Balancer }> => {
    const pod = pods[podIndex++]!;
    const urls = await Promise.all(engines.map(dataPlaneUrl));
    const k = engines.indexOf(first);
    const rotated = [...urls.slice(k), ...urls.slice(0, k)].map((u) => ({
      host: '127.0.0.1',
      port: Number(new URL(u).port),
    }));
    const balancer = await startRoundRobinBalancer(rotated);
    balancers.push(balancer);
    const app = await startApp(`dp-${label}`);
    // Failing from the first probe: the first report (the one a follower refuses) carries failures.
    await app.setMode('fail');
    const ref = { namespace: appNs, name: pod.metadata!.name!, uid: pod.metadata!.uid! };
    await startSidecar(
      ref,
      await podToken(ref),
      {
        ...quickSidecarEnv(app.port, `https://127.0.0.1:${balancer.port}/api/v1/reports`, caPath),
        BULKHEAD_POLICY: policyName(),
      },
      `dp-${label}-sidecar`,
    );
    return { pod, balancer };
  };

  before(async () => {
    admin = new KubeClient(getCluster().kubeConfig());
    ns = await newNamespace('dp-replicas');
    appNs = await newNamespace('dp-replicas-app');
    const { kubeconfigPath } = await installEngineRbac(ns);
    reader = await readerToken(appNs);
    // The pods run as `reporter`, so a pod-bound token can be minted for them.
    await getCluster()
      .kubeConfig()
      .makeApiClient(CoreV1Api)
      .createNamespacedServiceAccount({ namespace: appNs, body: { metadata: { name: 'reporter' } } });
    // The policy comes from git, and the records go back to the same repository.
    repo = await createTestRepo();
    source = `${ns}-src`;
    await repo.commit({ 'policies/hp.yaml': policyYaml(policyName(), appNs, 3) });
    await createSource(admin, source, { url: repo.url, ref: { branch: 'main' }, interval: '1h' });
    const dir = await mkdtemp(join(tmpdir(), 'bulkhead-dp-replicas-'));
    // The files deploy/ mounts: the push-webhook secret and the dashboard token.
    await writeFile(join(dir, 'webhook-secret'), WEBHOOK_SECRET);
    dashboardToken = randomBytes(24).toString('hex');
    await writeFile(join(dir, 'dashboard-token'), dashboardToken);
    // The apiserver calls the webhooks through a balancer over every replica, as through the
    // Service deploy/ installs (a killed replica is skipped as an endpoint that is gone).
    const ports = await freePorts(REPLICAS);
    const service = await startRoundRobinBalancer(ports.map((port) => ({ host: '127.0.0.1', port })));
    balancers.push(service);
    const args = (i: number): string[] => [
      '--https',
      `127.0.0.1:${ports[i]}`,
      '--webhook-url',
      `https://127.0.0.1:${service.port}`,
      '--dashboard-token-file',
      join(dir, 'dashboard-token'),
    ];
    const env = { BULKHEAD_WEBHOOK_SECRET_FILE: join(dir, 'webhook-secret') };
    // The first one started takes the Lease; the others then follow.
    const first = await startEngineProcess({ name: `${ns}-a`, kubeconfigPath, namespace: ns, args: args(0), env });
    engines.push(first);
    await eventually(async () => assert.equal(await holder(), first.name), { what: 'first engine leads' });
    for (const [i, id] of ['b', 'c'].entries())
      engines.push(
        await startEngineProcess({ name: `${ns}-${id}`, kubeconfigPath, namespace: ns, args: args(i + 1), env }),
      );
    await eventually(
      async () => assert.equal((await getSource(admin, source)).status?.lastAppliedRevision, await repo.head()),
      { what: 'policy synced by the leader', timeoutMs: 30_000 },
    );
    const tls = await admin.request<{ data: Record<string, string> }>({
      method: 'GET',
      path: `/api/v1/namespaces/${ns}/secrets/bulkhead-webhook-tls`,
    });
    ca = Buffer.from(tls.data['ca.crt']!, 'base64').toString('utf8');
    caPath = join(dir, 'ca.crt');
    await writeFile(caPath, ca);
    // 12 pods, maxUnavailable 8: every quarantine below is within budget.
    pods = await runDeployment(getCluster().kubeConfig(), appNs, 'shop', 12, { app: 'shop' }, 'reporter');
  });
  after(async () => {
    await killAll();
    for (const b of balancers) await b.close();
    for (const e of engines) await e.stop();
    // The replicas registered the (cluster-scoped, fail-closed) webhook configurations.
    // Whichever path the engine registered (ADR 1700: auto takes the admission policies here).
    await deleteWebhookConfigs(getCluster().kubeConfig(), WEBHOOK_NAMES);
    // Only now: with the guard gone, the synced objects can be deleted.
    await deleteQuietly(admin, `${PS}/${source}`);
    await deleteQuietly(admin, `${HP}/${policyName()}`);
    await repo?.remove();
    admin?.close();
  });

  it('a push hook sent to a follower is forwarded: the leader syncs the new commit', async () => {
    const follower = (await followersNow())[0]!;
    const head = await repo.commit({ 'policies/hp.yaml': policyYaml(policyName(), appNs, 4) });
    const body = JSON.stringify({ ref: 'refs/heads/main', after: head });
    // To the follower's HTTP port, where a git host is pointed.
    const res = await fetch(`${follower.url}/hooks/git/${source}`, {
      method: 'POST',
      body,
      headers: {
        'content-type': 'application/json',
        'x-hub-signature-256': `sha256=${hmacSha256Hex(WEBHOOK_SECRET, body)}`,
      },
    });
    const leader = await leaderNow();
    assert.equal(res.status, 202, await res.clone().text());
    assert.equal(((await res.json()) as { queued: boolean }).queued, true);
    assert.equal(res.headers.get(SERVED_BY_HEADER), leader.name);
    await eventually(async () => assert.equal((await getSource(admin, source)).status?.lastAppliedRevision, head), {
      what: 'the hook-triggered sync (polling is 1h)',
      timeoutMs: 20_000,
    });
  });

  it('a verdict sent to a follower is forwarded and carried out by the leader', async () => {
    const kc = getCluster().kubeConfig();
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
    const pod = pods[podIndex++]!;
    const follower = (await followersNow())[1]!;
    const res = await eventually(
      async () => {
        const r = await httpsCall(`${await dataPlaneUrl(follower)}/api/v1/verdicts`, {
          ca,
          method: 'POST',
          token,
          body: JSON.stringify({
            namespace: appNs,
            pod: pod.metadata!.name,
            reason: 'AnomalousEgress',
            policy: policyName(),
          }),
        });
        assert.equal(r.status, 202, r.body);
        return r;
      },
      { what: 'verdict accepted once the binding is effective' },
    );
    assert.equal(res.json<{ action: string }>().action, 'Quarantine');
    const q = await quarantinedAndRecorded(pod);
    assert.equal(q.spec.reason, 'External');
    assert.equal(await recordCommits(q), 1);
    assert.ok((await (await leaderNow()).log()).includes('external verdict accepted'), 'the leader accepted it');
    assert.ok(!(await follower.log()).includes('external verdict accepted'), 'the follower only relayed it');
  });

  it(`pods whose sidecars first connect to each of the ${REPLICAS} replicas fail: every one is quarantined, within budget, one record each`, async () => {
    const started = await Promise.all(engines.map((e, i) => failingPod(e, `first-${i}`)));
    for (const { pod, balancer } of started) {
      const q = await quarantinedAndRecorded(pod);
      assert.equal(await recordCommits(q), 1, `one record for ${pod.metadata!.name}`);
      assert.equal(balancer.picks[0], 0, 'its first connection went to the chosen replica');
    }
    const leader = await leaderNow();
    for (const f of await followersNow()) {
      assert.ok(!(await f.log()).includes('verdict carried out'), `${f.name} carried out nothing`);
      assert.ok(!(await f.log()).includes('verdict left to the leader'), `${f.name} dropped nothing`);
    }
    assert.ok((await leader.log()).includes('verdict carried out'), 'the leader carried it out');
  });

  it('the health read API and the dashboard show the same data whichever replica answers', async () => {
    const leader = await leaderNow();
    const read = async (e: EngineProcess) => {
      const r = await httpsCall(`${await dataPlaneUrl(e)}/api/v1/health?namespace=${appNs}`, { ca, token: reader });
      assert.equal(r.status, 200, r.body);
      return r.json<{ items: { uid: string }[] }>().items;
    };
    const onLeader = await read(leader);
    assert.ok(onLeader.length >= REPLICAS, 'the leader holds every reporting pod');
    for (const f of await followersNow()) {
      const items = await read(f);
      assert.deepEqual(
        items.map((i) => i.uid),
        onLeader.map((i) => i.uid),
        `${f.name}: the same pods`,
      );
    }
    const snapshot = async (e: EngineProcess) => {
      const r = await httpsCall(`${await dataPlaneUrl(e)}/dashboard/api/snapshot?namespace=${appNs}&pageSize=100`, {
        ca,
        token: dashboardToken,
      });
      assert.equal(r.status, 200, r.body);
      const s = r.json<{ pods: { items: { uid: string }[] }; quarantines: { items?: unknown[] } | unknown[] }>();
      return { pods: s.pods.items.map((p) => p.uid).sort(), served: r };
    };
    const base = await snapshot(leader);
    for (const f of await followersNow()) assert.deepEqual((await snapshot(f)).pods, base.pods, `${f.name}: same pods`);
  });

  it('kubectl tells the truth: the policy READY with its MATCHED pods, `kubectl wait` passes, describe shows the Events of the policy and the Quarantine; only the leader writes the status', async () => {
    const name = policyName();
    const leader = await leaderNow();
    const followers = await followersNow();
    const shopPods = async (): Promise<number> =>
      (
        await admin.request<{ items: { metadata: { deletionTimestamp?: string } }[] }>({
          method: 'GET',
          path: `/api/v1/namespaces/${appNs}/pods`,
          query: { labelSelector: 'app=shop' },
        })
      ).items.filter((p) => !p.metadata.deletionTimestamp).length;
    // NAME ACTION MODE READY MATCHED REVISION AGE: MODE defaulted, READY and MATCHED filled.
    await eventually(
      async () => {
        const out = await kubectl(['get', 'healthpolicies', name]);
        assert.match(out, /NAME\s+ACTION\s+MODE\s+READY\s+MATCHED\s+REVISION\s+AGE/);
        const m = new RegExp(`^${name}\\s+Quarantine\\s+Enforce\\s+True\\s+(\\d+)\\s`, 'm').exec(out);
        assert.ok(m, out);
        assert.equal(Number(m[1]), await shopPods(), 'MATCHED counts the pods the policy selects');
      },
      { what: 'kubectl get healthpolicies READY True, MATCHED', timeoutMs: 60_000 },
    );
    await kubectl(['wait', '--for=condition=Ready', `healthpolicy/${name}`, '--timeout=60s']);
    const hp = await admin.request<{
      metadata: { generation: number };
      status: {
        observedGeneration: number;
        conditions: { type: string; observedGeneration?: number }[];
        lastAction?: { type: string };
      };
    }>({ method: 'GET', path: `/apis/bulkhead.dev/v1alpha1/healthpolicies/${name}` });
    assert.equal(hp.status.observedGeneration, hp.metadata.generation, 'kstatus: observedGeneration current');
    assert.equal(hp.status.conditions.find((c) => c.type === 'Ready')?.observedGeneration, hp.metadata.generation);
    assert.equal(hp.status.lastAction?.type, 'Quarantine', 'the last action, from the quarantine above');
    // Events where people look: the incident on the policy, the action on the Quarantine.
    const described = await eventually(
      async () => {
        const out = await kubectl(['describe', 'healthpolicy', name]);
        assert.match(out, /Events:[\s\S]*Incident[\s\S]*quarantine /, out);
        return out;
      },
      { what: 'kubectl describe healthpolicy shows the incident Event' },
    );
    assert.doesNotMatch(described, /Events:\s+<none>/);
    const q = await admin.request<{ items: { metadata: { name: string } }[] }>({
      method: 'GET',
      path: `/apis/bulkhead.dev/v1alpha1/namespaces/${appNs}/quarantines`,
    });
    assert.ok(q.items.length >= 1, 'a Quarantine to describe');
    const dq = await kubectl(['describe', 'quarantine', '-n', appNs, q.items[0]!.metadata.name]);
    assert.match(dq, /Events:[\s\S]*Quarantined/, dq);
    // Leader-only: the follower never wrote a HealthPolicy status.
    assert.ok((await leader.log()).includes('HealthPolicy status written'), 'the leader wrote the status');
    for (const f of followers) assert.ok(!(await f.log()).includes('HealthPolicy status written'), f.name);
  });

  it('SIGKILL the leader mid-incident: another replica takes over, finishes exactly once, and new failures are quarantined', async () => {
    const old = await leaderNow();
    const failing = await Promise.all([failingPod(engines[0]!, 'kill-1'), failingPod(engines[1]!, 'kill-2')]);
    // Mid-incident: the first of the two Quarantines exists (the other may not yet, or half-done).
    await eventually(
      async () => {
        const n = (await Promise.all(failing.map(({ pod }) => quarantineOf(pod.metadata!.uid!)))).flat().length;
        // A message: without one, a failing assert.ok re-parses this file for its text each time.
        assert.ok(n >= 1, `${n} Quarantines so far`);
      },
      { what: 'the incident under way', timeoutMs: 60_000, intervalMs: 50 },
    );
    old.kill('SIGKILL');
    killed.add(old);
    await old.exited;
    await eventually(
      async () => {
        const h = await holder();
        assert.ok(h && h !== old.name && live().some((e) => e.name === h), `new holder ${h}`);
      },
      { what: 'another replica takes the Lease', timeoutMs: 30_000 },
    );
    for (const { pod } of failing) {
      const q = await quarantinedAndRecorded(pod);
      assert.equal(await recordCommits(q), 1, `exactly one record for ${pod.metadata!.name}`);
    }
    // A new failure after the takeover, first connected to the dead replica's slot: quarantined too.
    const next = live()[0]!;
    const after = await failingPod(next, 'after-takeover');
    const q = await quarantinedAndRecorded(after.pod);
    assert.equal(await recordCommits(q), 1);
    assert.ok((await (await leaderNow()).log()).includes('verdict carried out'), 'the new leader carried it out');
  });
});

function policyYaml(name: string, namespace: string, threshold: number): string {
  return [
    'apiVersion: bulkhead.dev/v1alpha1',
    'kind: HealthPolicy',
    'metadata:',
    `  name: ${name}`,
    'spec:',
    '  match:',
    `    namespaces: [${namespace}]`,
    '    selector:',
    '      matchLabels: { app: shop }',
    '  probe:',
    '    http: { path: /health, port: 8080 }',
    '  detect:',
    '    rules:',
    `      - { type: ConsecutiveFailures, threshold: ${threshold} }`,
    '  action:',
    '    type: Quarantine',
    '    budget: { maxUnavailable: 8, maxPerNamespacePerHour: 100 }',
    '',
  ].join('\n');
}
