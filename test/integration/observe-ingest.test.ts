// Report ingest against the real apiserver: pod-bound TokenRequest tokens reviewed by
// TokenReview, the bound pod as the only pod a token may report about, the refusals and their
// metrics, and the pod watch feeding lifecycle events into the same windows.
import { strict as assert } from 'node:assert';
import { AuthenticationV1Api, CoreV1Api } from '@kubernetes/client-node';
import { eventually, getCluster, newNamespace } from '../harness/index.js';
import {
  createPod,
  expiredCopy,
  httpsCall,
  killAll,
  metric,
  podToken,
  readerToken,
  readHealth,
  startIngest,
  type Ingest,
  type TestPod,
} from './support/observe-processes.js';

const report = (
  pod: TestPod,
  samples: { seq: number; ok: boolean; status?: number }[],
  extra: Record<string, unknown> = {},
): string =>
  JSON.stringify({
    apiVersion: 'bulkhead.dev/v1alpha1',
    kind: 'HealthReport',
    pod: { namespace: pod.namespace, name: pod.name, uid: pod.uid },
    sidecar: { version: '0.1.0', instance: 'test-instance', startedAt: new Date().toISOString() },
    dropped: 0,
    samples: samples.map((s) => ({
      seq: s.seq,
      time: new Date().toISOString(),
      probe: {
        type: 'http',
        ok: s.ok,
        latencyMs: 1.5,
        ...(s.status ? { status: s.status } : {}),
        ...(s.ok ? {} : { error: 'UnexpectedStatus' }),
      },
    })),
    ...extra,
  });

describe('observe: authenticated report ingest (real apiserver, real ingest process)', () => {
  let ns: string;
  let ingest: Ingest;
  let podA: TestPod;
  let podB: TestPod;
  let reader: string;
  const post = (body: string, token?: string): ReturnType<typeof httpsCall> =>
    httpsCall(`${ingest.url}/api/v1/reports`, {
      ca: ingest.tls.ca.cert,
      method: 'POST',
      body,
      ...(token ? { token } : {}),
    });

  before(async () => {
    ns = await newNamespace('observe');
    ingest = await startIngest(['--watch-namespace', ns, '--rate', '0.5', '--burst', '6', '--body-limit', '65536']);
    [podA, podB] = await Promise.all([createPod(ns, 'pod-a'), createPod(ns, 'pod-b')]);
    reader = await readerToken(ns);
  });
  after(async () => {
    await ingest?.stop();
    await killAll();
  });

  it('TokenReview of a pod-bound token names the pod in its extra fields', async () => {
    const token = await podToken(podA);
    const review = await getCluster()
      .kubeConfig()
      .makeApiClient(AuthenticationV1Api)
      .createTokenReview({
        body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, audiences: ['bulkhead'] } },
      });
    assert.equal(review.status?.authenticated, true);
    assert.deepEqual(review.status?.user?.extra?.['authentication.kubernetes.io/pod-name'], ['pod-a']);
    assert.deepEqual(review.status?.user?.extra?.['authentication.kubernetes.io/pod-uid'], [podA.uid]);
  });

  it('accepts a report from the pod it describes and serves it back (JSON and NDJSON)', async () => {
    const token = await podToken(podA);
    const res = await post(
      report(podA, [
        { seq: 1, ok: true, status: 200 },
        { seq: 2, ok: false, status: 500 },
      ]),
      token,
    );
    assert.equal(res.status, 202, res.body);
    assert.deepEqual(res.json(), { accepted: 2, duplicates: 0 });
    const [h] = await readHealth(ingest, reader, { namespace: ns, pod: 'pod-a' });
    assert.ok(h);
    assert.equal(h.uid, podA.uid);
    assert.deepEqual(
      h.samples.map((s) => [s.seq, s.probe.ok, s.probe.status]),
      [
        [1, true, 200],
        [2, false, 500],
      ],
    );
    const nd = await httpsCall(`${ingest.url}/api/v1/health?namespace=${ns}&pod=pod-a`, {
      ca: ingest.tls.ca.cert,
      token: reader,
      headers: { accept: 'application/x-ndjson' },
    });
    assert.equal(nd.status, 200);
    const lines = nd.body
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { kind: string; pod: string; seq: number });
    assert.deepEqual(
      lines.filter((l) => l.kind === 'sample').map((l) => [l.pod, l.seq]),
      [
        ['pod-a', 1],
        ['pod-a', 2],
      ],
    );
    // A retried batch (the ack was lost) is not stored twice.
    const again = await post(report(podA, [{ seq: 2, ok: false, status: 500 }]), token);
    assert.deepEqual(again.json(), { accepted: 0, duplicates: 1 });
    assert.ok(
      (await metric(ingest, 'bulkhead_observe_auth_cache_total', { result: 'hit' })) >= 1,
      'the second request used the cached review',
    );
  });

  it('refuses a token of pod A reporting about pod B with 403, and counts it', async () => {
    const tokenA = await podToken(podA);
    const before = await metric(ingest, 'bulkhead_observe_forbidden_total', { reason: 'pod_mismatch' });
    const res = await post(report(podB, [{ seq: 1, ok: false, status: 500 }]), tokenA);
    assert.equal(res.status, 403, res.body);
    assert.match(res.json<{ message: string }>().message, /pod-a/);
    // A uid mismatch (same name, another incarnation) is refused too.
    const res2 = await post(report({ ...podA, uid: podB.uid }, [{ seq: 1, ok: true }]), tokenA);
    assert.equal(res2.status, 403);
    assert.equal(await metric(ingest, 'bulkhead_observe_forbidden_total', { reason: 'pod_mismatch' }), before + 2);
    const [b] = await readHealth(ingest, reader, { namespace: ns, pod: 'pod-b' }).then((l) =>
      l.filter((p) => p.samples.length > 0),
    );
    assert.equal(b, undefined, 'nothing was stored for pod B');
  });

  it('refuses a token that is not bound to a pod with 403', async () => {
    const res = await post(report(podA, [{ seq: 1, ok: true }]), reader);
    assert.equal(res.status, 403);
    assert.equal(await metric(ingest, 'bulkhead_observe_forbidden_total', { reason: 'not_pod_bound' }), 1);
  });

  it('answers 401 to no token, an expired token and a wrong audience, each counted by reason', async () => {
    const good = await podToken(podA);
    const expired = await expiredCopy(good);
    // The apiserver itself refuses the expired copy: it is signed right, only too old.
    const review = await getCluster()
      .kubeConfig()
      .makeApiClient(AuthenticationV1Api)
      .createTokenReview({
        body: {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'TokenReview',
          spec: { token: expired, audiences: ['bulkhead'] },
        },
      });
    assert.notEqual(review.status?.authenticated, true);
    const wrongAudience = await podToken(podA, { audiences: ['someone-else'] });
    const cases: [string, string | undefined, string][] = [
      ['no token', undefined, 'missing'],
      ['expired', expired, 'expired'],
      ['wrong audience', wrongAudience, 'wrong_audience'],
      ['garbage', 'not-a-jwt', 'rejected'],
    ];
    for (const [what, token, reason] of cases) {
      const before = await metric(ingest, 'bulkhead_observe_auth_failures_total', { reason });
      const res = await post(report(podA, [{ seq: 100, ok: true }]), token);
      assert.equal(res.status, 401, `${what}: ${res.body}`);
      assert.equal(
        await metric(ingest, 'bulkhead_observe_auth_failures_total', { reason }),
        before + 1,
        `${what} counted as ${reason}`,
      );
    }
    assert.ok((await metric(ingest, 'bulkhead_observe_requests_total', { route: 'reports', code: '401' })) >= 4);
  });

  it('answers 422 with JSON pointers, 413 past the body limit, and 429 past the per-pod rate', async () => {
    const pod = await createPod(ns, 'pod-c');
    const token = await podToken(pod);
    const bad = JSON.parse(report(pod, [{ seq: 1, ok: true }])) as { samples: { probe: Record<string, unknown> }[] };
    bad.samples[0]!.probe.latencyMs = -1;
    delete bad.samples[0]!.probe.type;
    const res = await post(JSON.stringify(bad), token);
    assert.equal(res.status, 422, res.body);
    const pointers = res.json<{ errors: { pointer: string }[] }>().errors.map((e) => e.pointer);
    assert.ok(
      pointers.includes('/samples/0/probe/type') || pointers.includes('/samples/0/probe/latencyMs'),
      pointers.join(),
    );
    const big = report(pod, [{ seq: 1, ok: true }], { policy: 'x'.repeat(70_000) });
    assert.equal((await post(big, token)).status, 413);
    let limited = 0;
    for (let i = 0; i < 10 && limited === 0; i++)
      if ((await post(report(pod, [{ seq: 10 + i, ok: true }]), token)).status === 429) limited++;
    assert.equal(limited, 1, 'the burst of 6 ran out');
    assert.ok((await metric(ingest, 'bulkhead_observe_requests_total', { route: 'reports', code: '429' })) >= 1);
  });

  it('refuses health reads without RBAC get pods in the namespace', async () => {
    const other = await podToken(podA);
    const res = await httpsCall(`${ingest.url}/api/v1/health?namespace=${ns}`, {
      ca: ingest.tls.ca.cert,
      token: other,
    });
    assert.equal(res.status, 403, res.body);
    assert.equal(
      (await httpsCall(`${ingest.url}/api/v1/health?namespace=${ns}`, { ca: ingest.tls.ca.cert })).status,
      401,
    );
  });

  it('feeds restarts, OOM kills and readiness from the pod watch into the same window', async () => {
    const core = getCluster().kubeConfig().makeApiClient(CoreV1Api);
    const running = await eventually(
      async () => {
        const p = await core.readNamespacedPod({ name: 'pod-a', namespace: ns });
        assert.equal(p.status?.phase, 'Running');
        assert.ok(p.status?.containerStatuses?.[0]);
        return p;
      },
      { what: 'pod-a Running', timeoutMs: 30_000 },
    );
    const cs = running.status!.containerStatuses![0]!;
    await core.replaceNamespacedPodStatus({
      name: 'pod-a',
      namespace: ns,
      body: {
        ...running,
        status: {
          ...running.status,
          conditions: (running.status?.conditions ?? []).map((c) =>
            c.type === 'Ready' ? { ...c, status: 'False' } : c,
          ),
          containerStatuses: [
            {
              ...cs,
              ready: false,
              restartCount: cs.restartCount + 1,
              lastState: {
                terminated: { exitCode: 137, reason: 'OOMKilled', startedAt: new Date(), finishedAt: new Date() },
              },
            },
          ],
        },
      },
    });
    await eventually(
      async () => {
        const [h] = await readHealth(ingest, reader, { namespace: ns, pod: 'pod-a' });
        const types = (h?.events ?? []).map((e) => e.type);
        assert.ok(types.includes('OOMKilled'), `events: ${types.join()}`);
        assert.ok(types.includes('NotReady'), `events: ${types.join()}`);
        assert.ok((h?.samples.length ?? 0) > 0, 'the sidecar samples are in the same window');
      },
      { what: 'OOMKilled and NotReady in the health window', timeoutMs: 20_000 },
    );
    assert.ok((await metric(ingest, 'bulkhead_observe_pod_events_total', { type: 'OOMKilled' })) >= 1);
  });
});
