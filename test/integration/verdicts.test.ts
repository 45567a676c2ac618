// External verdicts: an independent analytics tool asks for a quarantine through the engine's
// HTTPS API. Identity comes from its ServiceAccount token (TokenReview), permission from RBAC
// (SubjectAccessReview on quarantines.bulkhead.dev); accepted verdicts are quarantined and
// audited like any other.
import { strict as assert } from 'node:assert';
import { createServer, request, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { CoreV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import Koa from 'koa';
import { Evaluator } from '../../engine/src/analytics/index.js';
import { flushOutbox } from '../../engine/src/audit/outbox.js';
import { recordUid } from '../../engine/src/audit/record-document.js';
import { RecordsRepo } from '../../engine/src/audit/records-repo.js';
import type { HealthPolicy } from '../../engine/src/core/api/index.js';
import { KubeClient } from '../../engine/src/core/kube/client.js';
import { EventRecorder } from '../../engine/src/core/kube/events.js';
import { ResourceResolver } from '../../engine/src/core/kube/resources.js';
import { silentLogger } from '../../engine/src/core/logger.js';
import { createCertificateAuthority, issueCertificate } from '../../engine/src/core/pki.js';
import { mintServiceAccountToken } from '../../tools/local-cluster/index.js';
import { TokenAuthenticator } from '../../engine/src/observe/index.js';
import { tokenReviewer } from '../../engine/src/observe/create-observe.js';
import {
  createVerdictRouter,
  executeVerdict,
  listQuarantines,
  type QuarantineDeps,
} from '../../engine/src/quarantine/index.js';
import { createTestRepo, git, HERMETIC_GIT_ENV, type TestRepo } from '../harness/git-repo.js';
import { eventually, getCluster, newNamespace } from '../harness/index.js';
import { runDeployment } from './support/quarantine-fixtures.js';

const policy: HealthPolicy = {
  apiVersion: 'bulkhead.dev/v1alpha1',
  kind: 'HealthPolicy',
  metadata: { name: 'verdicts-api' },
  spec: {
    match: {},
    probe: { http: { path: '/healthz', port: 8080 } },
    detect: { rules: [{ type: 'ConsecutiveFailures' }] },
    action: { type: 'Quarantine', budget: { maxUnavailable: 1 } },
  },
};

describe('external verdicts API', () => {
  let server: Server;
  let url: string;
  let caCert: string;
  let evaluator: Evaluator;
  let repo: TestRepo;
  let qdeps: QuarantineDeps;
  let ns: string;
  let podName: string;

  before(async () => {
    const kc = getCluster().kubeConfig();
    ns = await newNamespace('verdict');
    const pods = await runDeployment(kc, ns, 'svc', 3);
    podName = pods[0]!.metadata!.name!;
    const client = new KubeClient(kc);
    const logger = silentLogger();
    const resolver = new ResourceResolver(client);
    qdeps = {
      client,
      resolver,
      events: new EventRecorder(client, { component: 'bulkhead', instance: 'test', logger }),
      logger,
      now: () => new Date(),
      cluster: 'verdicts',
      protectedNamespaces: new Set(),
    };
    evaluator = new Evaluator({
      health: () => undefined,
      peers: () => [],
      facts: async () => undefined,
      policyFor: () => undefined,
      onVerdict: async (v) => {
        await executeVerdict(qdeps, v);
      },
      logger,
      groupWindowMs: 50,
    });
    const authenticator = new TokenAuthenticator({ review: tokenReviewer(kc), audience: 'bulkhead' });
    const app = new Koa();
    const router = createVerdictRouter({
      authenticator,
      client,
      submit: (p, s, pol) => evaluator.submit(p, s, pol),
      policy: (n) => (n === policy.metadata.name ? policy : undefined),
      excludedNamespaces: new Set(['kube-system', 'kube-public', 'bulkhead-system']),
      logger,
    });
    app.use(router.routes()).use(router.allowedMethods());
    const ca = await createCertificateAuthority('verdict-test', 1);
    caCert = ca.cert;
    const serving = await issueCertificate(ca, {
      commonName: '127.0.0.1',
      ipAddresses: ['127.0.0.1'],
      usage: 'server',
      validForDays: 1,
    });
    server = createServer({ cert: serving.cert, key: serving.key }, app.callback());
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/verdicts`;
    repo = await createTestRepo('bh-verdict-');
    await repo.commit({ 'README.md': 'policy repo\n' }, 'initial');
  });
  after(async () => {
    evaluator.stop();
    await new Promise((ok) => server.close(ok));
    await repo.remove();
  });

  const post = (body: unknown, token?: string): Promise<{ status: number; body: Record<string, unknown> }> =>
    new Promise((ok, fail) => {
      const req = request(
        url,
        {
          method: 'POST',
          ca: caCert,
          headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        },
        (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString()));
          res.on('end', () =>
            ok({ status: res.statusCode ?? 0, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} }),
          );
        },
      );
      req.on('error', fail);
      req.end(JSON.stringify(body));
    });

  const verdict = () => ({
    namespace: ns,
    pod: podName,
    reason: 'AnomalousEgress',
    message: 'egress to 203.0.113.9:4444',
    policy: policy.metadata.name,
    evidence: [{ detail: '1.2 GB to an unknown host', value: 1.2e9 }],
  });

  it('no token → 401; a token without the audience → 401', async () => {
    assert.equal((await post(verdict())).status, 401);
    const wrongAudience = await mintServiceAccountToken(getCluster().kubeConfig(), ns, 'analyzer', {
      audiences: ['not-bulkhead'],
    });
    assert.equal((await post(verdict(), wrongAudience)).status, 401);
  });

  it('an identity without RBAC permission → 403, nothing happens', async () => {
    const token = await mintServiceAccountToken(getCluster().kubeConfig(), ns, 'analyzer', { audiences: ['bulkhead'] });
    const r = await post(verdict(), token);
    assert.equal(r.status, 403);
    assert.match(String(r.body.error), /may not create quarantines\.bulkhead\.dev/);
    assert.equal((await listQuarantines(qdeps.client, qdeps.resolver, ns)).length, 0);
  });

  it('a malformed verdict → 422 with JSON pointers', async () => {
    const token = await mintServiceAccountToken(getCluster().kubeConfig(), ns, 'analyzer', { audiences: ['bulkhead'] });
    const r = await post({ namespace: ns, pod: podName, reason: 'lower case', extra: 1 }, token);
    // 403 comes first only for a valid body; here the body is checked before RBAC.
    assert.equal(r.status, 422);
    assert.deepEqual((r.body.problems as { pointer: string }[]).map((p) => p.pointer).sort(), ['/extra', '/reason']);
  });

  it('with create on quarantines.bulkhead.dev → the pod is quarantined and audited like any other', async () => {
    const kc = getCluster().kubeConfig();
    const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({
      namespace: ns,
      body: {
        metadata: { name: 'verdicts' },
        rules: [{ apiGroups: ['bulkhead.dev'], resources: ['quarantines'], verbs: ['create'] }],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: ns,
      body: {
        metadata: { name: 'verdicts' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'verdicts' },
        subjects: [{ kind: 'ServiceAccount', name: 'analyzer', namespace: ns }],
      },
    });
    const token = await mintServiceAccountToken(kc, ns, 'analyzer', { audiences: ['bulkhead'] });
    const r = await eventually(
      async () => {
        const res = await post(verdict(), token);
        assert.equal(res.status, 202, JSON.stringify(res.body));
        return res;
      },
      { what: 'verdict accepted once the binding is effective' },
    );
    assert.equal(r.body.action, 'Quarantine');
    const q = await eventually(async () => {
      const [found] = await listQuarantines(qdeps.client, qdeps.resolver, ns);
      assert.equal(found?.status?.phase, 'Isolated');
      return found!;
    });
    assert.equal(q.metadata.name, r.body.quarantine);
    assert.equal(q.spec.reason, 'External');
    assert.match(q.spec.message ?? '', new RegExp(`verdict from system:serviceaccount:${ns}:analyzer`));
    assert.ok(q.spec.evidence?.some((e) => /1\.2 GB/.test(e.detail ?? '')));
    const stored = await kc.makeApiClient(CoreV1Api).readNamespacedPod({ name: podName, namespace: ns });
    assert.equal(stored.metadata?.labels?.['bulkhead.dev/quarantined'], 'true');

    const records = new RecordsRepo({
      url: repo.url,
      branch: 'main',
      cacheDir: join(repo.bareDir, '..', 'cache'),
      env: { path: HERMETIC_GIT_ENV.PATH!, home: HERMETIC_GIT_ENV.HOME! },
      author: { name: 'bulkhead', email: 'bulkhead@noreply.invalid' },
      logger: silentLogger(),
    });
    const flushed = await flushOutbox({ ...qdeps, repo: records, cluster: 'verdicts' });
    assert.equal(flushed.committed, 1);
    assert.equal(recordUid(await git(repo.bareDir, 'show', `main:${q.spec.recordPath}`)), q.metadata.uid);
  });

  it('a caller may ask for a milder action than the policy’s (harsher is capped: unit-tested)', async () => {
    const kc = getCluster().kubeConfig();
    const token = await mintServiceAccountToken(kc, ns, 'analyzer', { audiences: ['bulkhead'] });
    const other = (
      await kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: ns, labelSelector: 'app=svc' })
    ).items.find((p) => p.metadata?.name !== podName)!;
    const r = await post({ ...verdict(), pod: other.metadata!.name!, action: 'Alert' }, token);
    assert.equal(r.status, 202);
    assert.equal(r.body.action, 'Alert');
  });
});
