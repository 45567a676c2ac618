// Two real engine processes with leader election, behind a per-connection round-robin TCP
// balancer (as kube-proxy balances a Service), and a real sidecar process reporting through
// it. Only the leader serves the data plane (ADR 1500): the follower answers 421 naming the
// leader, stores nothing, and the sidecar follows it by reconnecting. The balancer sends the
// sidecar's first connection to the follower on purpose.
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdmissionregistrationV1Api, AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { WEBHOOK_NAMES } from '../../engine/src/admission/index.js';
import { LABEL } from '../../engine/src/core/api/index.js';
import { KubeClient } from '../../engine/src/core/kube/client.js';
import { installEngineRbac, startEngineProcess, type EngineProcess } from '../harness/engine-process.js';
import { eventually, getCluster, newNamespace } from '../harness/index.js';
import { startRoundRobinBalancer, type Balancer } from '../harness/round-robin-balancer.js';
import { runningPods } from './support/quarantine-fixtures.js';
import {
  createPod,
  httpsCall,
  killAll,
  podToken,
  quickSidecarEnv,
  readerToken,
  startApp,
  startSidecar,
  type PodHealthView,
} from './support/observe-processes.js';

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

describe('data plane with 2 replicas: the leader is the one executor (real processes)', function () {
  this.timeout(120_000);
  let ns: string;
  let appNs: string;
  let admin: KubeClient;
  const engines: EngineProcess[] = [];
  let leader: EngineProcess;
  let follower: EngineProcess;
  const balancers: Balancer[] = [];
  const followerFirst = async (): Promise<Balancer> => {
    const [l, f] = [new URL(await dataPlaneUrl(leader)), new URL(await dataPlaneUrl(follower))];
    const b = await startRoundRobinBalancer([
      { host: '127.0.0.1', port: Number(f.port) },
      { host: '127.0.0.1', port: Number(l.port) },
    ]);
    balancers.push(b);
    return b;
  };
  const policyName = (): string => `${ns}-hp`;
  let ca: string;
  let caPath: string;
  let reader: string;

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
  const healthOn = async (e: EngineProcess, pod: string): Promise<PodHealthView | undefined> => {
    const r = await httpsCall(`${await dataPlaneUrl(e)}/api/v1/health?namespace=${appNs}&pod=${pod}`, {
      ca,
      token: reader,
    });
    assert.equal(r.status, 200, r.body);
    return r.json<{ items: PodHealthView[] }>().items[0];
  };

  before(async () => {
    admin = new KubeClient(getCluster().kubeConfig());
    ns = await newNamespace('dp-leader');
    appNs = await newNamespace('dp-leader-app');
    const { kubeconfigPath } = await installEngineRbac(ns);
    // Before the engines start: once they run, their GitOps guard refuses a policy not from git.
    await admin.request({
      method: 'POST',
      path: '/apis/bulkhead.dev/v1alpha1/healthpolicies',
      body: {
        apiVersion: 'bulkhead.dev/v1alpha1',
        kind: 'HealthPolicy',
        metadata: { name: policyName() },
        spec: {
          match: { namespaces: [appNs], selector: { matchLabels: { app: 'shop' } } },
          probe: { http: { path: '/health', port: 8080 } },
          detect: { rules: [{ type: 'ConsecutiveFailures', threshold: 3 }] },
          action: { type: 'Quarantine', budget: { maxUnavailable: 1 } },
        },
      },
    });
    // The data plane as deploy/ runs it (--https), webhooks at the listen address (no Service here).
    const args = ['--https', '127.0.0.1:0', '--webhook-url', 'listen'];
    // The first one started takes the Lease; the second then follows.
    const first = await startEngineProcess({ name: `${ns}-a`, kubeconfigPath, namespace: ns, args });
    engines.push(first);
    await eventually(async () => assert.equal(await holder(), first.name), { what: 'first engine leads' });
    engines.push(await startEngineProcess({ name: `${ns}-b`, kubeconfigPath, namespace: ns, args }));
    [leader, follower] = [engines[0]!, engines[1]!];
    const tls = await admin.request<{ data: Record<string, string> }>({
      method: 'GET',
      path: `/api/v1/namespaces/${ns}/secrets/bulkhead-webhook-tls`,
    });
    ca = Buffer.from(tls.data['ca.crt']!, 'base64').toString('utf8');
    caPath = join(await mkdtemp(join(tmpdir(), 'bulkhead-dp-ca-')), 'ca.crt');
    await writeFile(caPath, ca);
    reader = await readerToken(appNs);
  });
  after(async () => {
    await killAll();
    for (const b of balancers) await b.close();
    for (const e of engines) await e.stop();
    // Both replicas registered the (cluster-scoped, fail-closed) webhook configurations.
    const api = getCluster().kubeConfig().makeApiClient(AdmissionregistrationV1Api);
    await api.deleteMutatingWebhookConfiguration({ name: WEBHOOK_NAMES.mutating }).catch(() => {});
    await api.deleteValidatingWebhookConfiguration({ name: WEBHOOK_NAMES.validating }).catch(() => {});
    // Only now: with the guard gone, the policy can be deleted.
    await admin
      ?.request({ method: 'DELETE', path: `/apis/bulkhead.dev/v1alpha1/healthpolicies/${policyName()}` })
      .catch(() => {});
    admin?.close();
  });

  it('a verdict POSTed to the follower answers 421 naming the leader; nothing is accepted', async () => {
    const r = await httpsCall(`${await dataPlaneUrl(follower)}/api/v1/verdicts`, {
      ca,
      method: 'POST',
      body: JSON.stringify({ namespace: appNs, pod: 'any', reason: 'AnomalousEgress' }),
    });
    assert.equal(r.status, 421, r.body);
    const body = r.json<{ reason: string; leader: string }>();
    assert.equal(body.reason, 'NotLeader');
    assert.equal(body.leader, leader.name);
    assert.ok(!(await follower.log()).includes('external verdict accepted'));
  });

  it("a sidecar whose first connection lands on the follower follows the 421: its reports reach the leader's store", async () => {
    // Follower first: the sidecar's first connection goes there.
    const balancer = await followerFirst();
    const app = await startApp('dp-app');
    const pod = await createPod(appNs, 'web-1');
    const sidecar = await startSidecar(
      pod,
      await podToken(pod),
      quickSidecarEnv(app.port, `https://127.0.0.1:${balancer.port}/api/v1/reports`, caPath),
      'dp-sidecar',
    );
    const delivered = await eventually(
      async () => {
        const h = await healthOn(leader, 'web-1');
        assert.ok(h && h.samples.length >= 3, 'samples on the leader');
        return h;
      },
      { what: "reports in the leader's store", timeoutMs: 30_000 },
    );
    assert.equal(delivered.uid, pod.uid);
    assert.equal(balancer.picks[0], 0, 'first connection went to the follower');
    const seqs = delivered.samples.map((s) => s.seq);
    assert.equal(seqs[0], 1, 'the batch refused by the follower was kept and delivered');
    assert.deepEqual(
      seqs,
      seqs.map((_, i) => i + 1),
      'in order, nothing lost',
    );
    const status = (await sidecar.health()) as unknown as { misdirected: number; dropped: number };
    assert.ok(status.misdirected >= 1, 'the sidecar was told 421 at least once');
    assert.equal(status.dropped, 0);
    // The follower stored nothing.
    assert.equal(await healthOn(follower, 'web-1'), undefined);
    // A failing app is seen by the leader too (the sidecar stays on the leader's connection).
    await app.setMode('fail');
    await eventually(
      async () =>
        assert.ok(
          (await healthOn(leader, 'web-1'))?.samples.some((s) => !s.probe.ok),
          'failing sample',
        ),
      { what: 'failing sample on the leader', timeoutMs: 15_000 },
    );
    assert.equal(await sidecar.stop(), 0);
  });

  it("a failing app's pod is quarantined by the leader, though the sidecar's first connection hit the follower", async () => {
    const kc = getCluster().kubeConfig();
    // The pods run as `reporter` (created above), so a pod-bound token can be minted for them.
    await kc.makeApiClient(AppsV1Api).createNamespacedDeployment({
      namespace: appNs,
      body: {
        metadata: { name: 'shop' },
        spec: {
          replicas: 3,
          selector: { matchLabels: { app: 'shop' } },
          template: {
            metadata: { labels: { app: 'shop' } },
            spec: { serviceAccountName: 'reporter', containers: [{ name: 'app', image: 'registry.invalid/shop:1' }] },
          },
        },
      },
    });
    const pods = await runningPods(kc, appNs, 'app=shop', 3);
    await eventually(
      async () =>
        assert.equal(
          (await kc.makeApiClient(AppsV1Api).readNamespacedDeployment({ name: 'shop', namespace: appNs })).status
            ?.availableReplicas,
          3,
        ),
      { what: 'Deployment shop available', timeoutMs: 60_000 },
    );
    const target = pods[0]!;
    const pod = { namespace: appNs, name: target.metadata!.name!, uid: target.metadata!.uid! };
    const balancer = await followerFirst();
    const app = await startApp('dp-shop');
    await startSidecar(
      pod,
      await podToken(pod),
      {
        ...quickSidecarEnv(app.port, `https://127.0.0.1:${balancer.port}/api/v1/reports`, caPath),
        BULKHEAD_POLICY: policyName(),
      },
      'dp-shop-sidecar',
    );
    // Failing from the first probe: the first report (the one the follower refuses) carries the failures.
    await app.setMode('fail');
    const core = kc.makeApiClient(CoreV1Api);
    await eventually(
      async () => {
        const p = await core.readNamespacedPod({ namespace: appNs, name: pod.name });
        assert.equal(p.metadata?.labels?.[LABEL.quarantined], 'true', 'pod labelled quarantined');
      },
      { what: `pod ${pod.name} quarantined`, timeoutMs: 60_000 },
    );
    assert.equal(balancer.picks[0], 0, "the sidecar's first connection went to the follower");
    assert.ok(!(await follower.log()).includes('verdict left to the leader'), 'the follower dropped nothing');
  });

  it('kubectl tells the truth: the policy READY with its MATCHED pods, `kubectl wait` passes, describe shows the Events of the policy and the Quarantine; only the leader writes the status', async () => {
    const name = policyName();
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
    assert.ok(q.items.length >= 1);
    const dq = await kubectl(['describe', 'quarantine', '-n', appNs, q.items[0]!.metadata.name]);
    assert.match(dq, /Events:[\s\S]*Quarantined/, dq);
    // Leader-only: the follower never wrote a HealthPolicy status.
    assert.ok((await leader.log()).includes('HealthPolicy status written'));
    assert.ok(!(await follower.log()).includes('HealthPolicy status written'));
  });
});
