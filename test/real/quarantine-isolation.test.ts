// Quarantine on real nodes, through the engine as `bulkhead install` ships it: an app with an
// injected sidecar starts failing, its pod is cut off both ways on an enforcing CNI (also
// against a label-selected allow; an allow-all-ingress is reported plainly and shown to be
// true), the replacement runs (a StatefulSet's too), the record is in git, and reverting the
// record releases the pod: labels restored, traffic flows again. ADR 1030, ADR 1031.
import assert from 'node:assert/strict';
import { DEMO_APP_IMAGE } from '../../images/images.js';
import type { Quarantine } from '../../engine/src/core/api/index.js';
import { eventually } from '../harness/eventually.js';
import { installedEngine, type InstalledEngine } from './support/installed-engine.js';
import { fetchFrom, podIp, realNamespace, waitReady } from './support/workloads.js';
import { getRealCluster } from './support/state.js';

interface PodJson {
  metadata: { name: string; uid: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: { nodeName?: string; initContainers?: { name: string }[]; containers: { name: string }[] };
  status?: { phase?: string; podIP?: string };
}

const TEAM = { team: 'rq-shop' };

/** The demo app, as a user's workload would run it: the sidecar is the injector's business. */
function appTemplate(labels: Record<string, string>) {
  return {
    metadata: { labels: { 'bulkhead.dev/test': 'true', ...TEAM, ...labels } },
    spec: {
      terminationGracePeriodSeconds: 2,
      containers: [
        {
          name: 'app',
          image: DEMO_APP_IMAGE.ref,
          imagePullPolicy: 'IfNotPresent',
          ports: [{ name: 'http', containerPort: 8080 }],
          readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 1 },
        },
      ],
    },
  };
}

function policyYaml(name: string, namespaces: string[]): string {
  return [
    'apiVersion: bulkhead.dev/v1alpha1',
    'kind: HealthPolicy',
    `metadata: { name: ${name} }`,
    'spec:',
    `  match: { namespaces: [${namespaces.join(', ')}], selector: { matchLabels: { team: ${TEAM.team} } } }`,
    // 10 × 2s: the sidecar counts failures from its first probe, before the app listens (a
    // start on a loaded node takes seconds); a shorter streak quarantines pods at birth.
    '  probe: { http: { path: /, port: 8080 }, interval: 2s, timeout: 1s }',
    '  detect: { rules: [{ type: ConsecutiveFailures, threshold: 10 }] }',
    '  action:',
    '    type: Quarantine',
    '    mode: Enforce',
    '    budget: { maxUnavailable: 1, maxPerNamespacePerHour: 10 }',
    '',
  ].join('\n');
}

describe('real nodes: quarantine isolates, replaces and releases, through the installed engine', () => {
  let engine: InstalledEngine;
  let ns: string;
  let open: string;
  const k = (args: string[], input?: string) => engine.kubectlOk(args, input === undefined ? {} : { input });
  const applyIn = (namespace: string, ...items: object[]) =>
    k(['apply', '-n', namespace, '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
  const pod = async (namespace: string, name: string) =>
    JSON.parse(await k(['get', 'pod', '-n', namespace, name, '-o', 'json'])) as PodJson;
  const pods = async (namespace: string, selector: string) =>
    (JSON.parse(await k(['get', 'pods', '-n', namespace, '-l', selector, '-o', 'json'])) as { items: PodJson[] }).items;
  const quarantines = async (namespace: string) =>
    (JSON.parse(await k(['get', 'quarantines', '-n', namespace, '-o', 'json'])) as { items: Quarantine[] }).items;
  const answers = async (namespace: string, from: string, ip: string) =>
    (await fetchFrom(getRealCluster(), namespace, from, `http://${ip}:8080/`)).stdout.trim();

  /** Makes one pod's app answer 500 (the demo app's loopback-only fault switch). */
  const fail = (namespace: string, name: string, how: 'fail' | 'recover' = 'fail') =>
    k([
      'exec',
      '-n',
      namespace,
      name,
      '-c',
      'app',
      '--',
      'node',
      '/app/server.mjs',
      'fetch',
      `http://127.0.0.1:8080/__demo/${how}`,
    ]);

  /** Waits until the engine has isolated this pod, and its record is committed to git. */
  async function quarantinedAndRecorded(namespace: string, victim: PodJson): Promise<Quarantine> {
    const q = await eventually(
      async () => {
        const found = (await quarantines(namespace)).find((x) => x.spec.pod.uid === victim.metadata.uid);
        assert.equal(found?.status?.phase, 'Isolated', JSON.stringify(found?.status ?? 'no Quarantine yet'));
        assert.equal(found.status?.audit?.state, 'Committed', JSON.stringify(found.status));
        return found;
      },
      { what: `${victim.metadata.name} quarantined and recorded`, timeoutMs: 90_000, intervalMs: 1000 },
    ).catch(async (err: unknown) => {
      throw new Error(`${String(err)}\n--- engine logs\n${await engine.logs(60)}`);
    });
    const records = await engine.repo.records();
    assert.ok(records[q.spec.recordPath!]?.includes(victim.metadata.uid), `record ${q.spec.recordPath} in git`);
    return q;
  }

  /** Both directions fail: a client cannot reach the pod, the pod cannot reach the client. */
  async function cutOff(namespace: string, victim: string, victimIp: string, clientIp: string, inboundToo = true) {
    await eventually(
      async () => {
        if (inboundToo)
          assert.notEqual(await answers(namespace, 'client', victimIp), '200', 'client → quarantined answered');
        assert.notEqual(await answers(namespace, victim, clientIp), '200', 'quarantined → client answered');
      },
      { what: 'quarantined pod cut off', timeoutMs: 30_000, intervalMs: 500 },
    );
  }

  before(async function () {
    this.timeout(900_000);
    engine = await installedEngine();
    ns = await realNamespace(engine.cluster, 'rq');
    open = await realNamespace(engine.cluster, 'rq-open');
    await engine.repo.waitSynced(
      await engine.repo.push(
        { [`policies/rq-${ns}.yaml`]: policyYaml(`rq-${ns}`, [ns, open]) },
        'rq: quarantine policy',
      ),
    );
    const [n0, n1] = engine.cluster.nodeNames as [string, string];
    for (const namespace of [ns, open])
      await applyIn(namespace, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'client', labels: { 'bulkhead.dev/test': 'true', app: 'client' } },
        spec: { ...appTemplate({}).spec, nodeName: n1 },
      });
    await applyIn(
      ns,
      // A label-selected allow, as an app team writes one: quarantine strips the label it needs.
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'allow-web' },
        spec: {
          podSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['web', 'solo'] }] },
          policyTypes: ['Ingress', 'Egress'],
          ingress: [{}],
          egress: [{}],
        },
      },
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web' },
        spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: appTemplate({ app: 'web' }) },
      },
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'db' },
        spec: { clusterIP: 'None', selector: { app: 'db' } },
      },
      {
        apiVersion: 'apps/v1',
        kind: 'StatefulSet',
        metadata: { name: 'db' },
        spec: {
          replicas: 2,
          serviceName: 'db',
          selector: { matchLabels: { app: 'db' } },
          template: appTemplate({ app: 'db' }),
        },
      },
      // A pod without an owner: nothing replaces or scales it, so its release is seen whole.
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'solo', labels: appTemplate({ app: 'solo' }).metadata.labels },
        spec: { ...appTemplate({}).spec, nodeName: n0 },
      },
    );
    await applyIn(
      open,
      // What many namespaces carry: every pod accepts ingress from anywhere.
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'allow-all-ingress' },
        spec: { podSelector: {}, policyTypes: ['Ingress'], ingress: [{}] },
      },
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web' },
        spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: appTemplate({ app: 'web' }) },
      },
    );
    for (const namespace of [ns, open]) await waitReady(engine.cluster, namespace, 'bulkhead.dev/test=true', 240_000);
    // Injected as shipped (--admission auto: by the apiserver's MutatingAdmissionPolicy on this
    // 1.36 cluster, ADR 1700): the sidecar is in every workload pod, none in the client.
    for (const p of [...(await pods(ns, `team=${TEAM.team}`)), ...(await pods(open, `team=${TEAM.team}`))]) {
      assert.ok(
        [...(p.spec.initContainers ?? []), ...p.spec.containers].some((c) => c.name !== 'app'),
        `${p.metadata.name} has the sidecar`,
      );
      assert.equal(p.metadata.annotations?.['bulkhead.dev/admission-path'], 'policy', p.metadata.name);
    }
  });

  it('a failing Deployment pod is cut off both ways while a sibling serves; its replacement runs; the record is in git', async () => {
    const [victim, sibling] = await pods(ns, 'app=web');
    const clientIp = await podIp(engine.cluster, ns, 'client');
    const victimIp = victim!.status!.podIP!;
    assert.equal(await answers(ns, 'client', victimIp), '200', 'reachable before');
    await fail(ns, victim!.metadata.name);
    const q = await quarantinedAndRecorded(ns, victim!);

    await cutOff(ns, victim!.metadata.name, victimIp, clientIp);
    assert.equal(await answers(ns, 'client', sibling!.status!.podIP!), '200', 'a sibling still serves');
    // allow-web selected it by app: that label is gone, so no allow remains.
    const stored = await pod(ns, victim!.metadata.name);
    assert.equal(stored.metadata.labels?.app, undefined);
    assert.equal(stored.metadata.labels?.['bulkhead.dev/quarantined'], 'true');
    const c = q.status?.conditions?.find((x) => x.type === 'IsolationIncomplete');
    assert.equal(c?.status, 'False', c?.message);

    await eventually(
      async () => {
        const running = (await pods(ns, 'app=web')).filter((p) => p.status?.phase === 'Running');
        assert.equal(running.length, 3);
        assert.ok(!running.some((p) => p.metadata.uid === victim!.metadata.uid));
      },
      { what: 'replacement Running', timeoutMs: 120_000, intervalMs: 1000 },
    );
    await waitReady(engine.cluster, ns, 'app=web');
  });

  it('a failing StatefulSet pod is snapshotted and deleted; the StatefulSet brings db-0 back Running', async () => {
    const old = await pod(ns, 'db-0');
    await fail(ns, 'db-0');
    const q = await quarantinedAndRecorded(ns, old);
    assert.deepEqual(
      q.spec.actions?.map((a) => a.type),
      ['Isolate', 'Snapshot', 'Replace'],
    );
    const secret = JSON.parse(
      await k(['get', 'secret', '-n', ns, `bulkhead-forensics-${q.metadata.name}`, '-o', 'json']),
    ) as { data: Record<string, string> };
    const log = Buffer.from(secret.data['log.app.txt'] ?? '', 'base64').toString('utf8');
    assert.match(log, /db-0 listening on 0.0.0.0:8080/, 'the real container log is kept');
    await eventually(
      async () => {
        const now = await pod(ns, 'db-0');
        assert.notEqual(now.metadata.uid, old.metadata.uid);
        assert.equal(now.status?.phase, 'Running');
      },
      { what: 'db-0 recreated and Running', timeoutMs: 120_000, intervalMs: 1000 },
    );
    await waitReady(engine.cluster, ns, 'app=db');
    assert.equal(await answers(ns, 'client', (await pod(ns, 'db-0')).status!.podIP!), '200', 'the new db-0 serves');
  });

  it('with an allow-all-ingress in the namespace the Quarantine says plainly that isolation is incomplete, and it is true', async () => {
    const [victim, sibling] = await pods(open, 'app=web');
    const clientIp = await podIp(engine.cluster, open, 'client');
    await fail(open, victim!.metadata.name);
    const q = await quarantinedAndRecorded(open, victim!);
    const c = q.status?.conditions?.find((x) => x.type === 'IsolationIncomplete');
    assert.equal(c?.status, 'True');
    assert.match(
      c!.message,
      /allow-all-ingress \(its podSelector \{\} selects every pod in the namespace; admits ingress from anywhere\)/,
    );
    assert.match(c!.message, /DoesNotExist/);
    // What it says holds on the wire: ingress still admitted by that policy, egress cut.
    await cutOff(open, victim!.metadata.name, victim!.status!.podIP!, clientIp, false);
    // The failing app answers 500: reached, as the condition says it can be.
    assert.equal(await answers(open, 'client', victim!.status!.podIP!), '500', 'ingress admitted, as reported');
    assert.equal(await answers(open, 'client', sibling!.status!.podIP!), '200');
  });

  it('reverting the record releases the pod: labels restored, traffic flows again', async () => {
    const solo = await pod(ns, 'solo');
    const clientIp = await podIp(engine.cluster, ns, 'client');
    const soloIp = solo.status!.podIP!;
    await fail(ns, 'solo');
    const q = await quarantinedAndRecorded(ns, solo);
    await cutOff(ns, 'solo', soloIp, clientIp);
    assert.equal((await pod(ns, 'solo')).metadata.labels?.app, undefined, 'allow-web no longer selects it');

    await fail(ns, 'solo', 'recover'); // the forensics are done; the app is fixed
    await engine.repo.push({ [q.spec.recordPath!]: null }, `Revert "quarantine ${ns}/solo"`);
    await eventually(
      async () => {
        const [after] = (await quarantines(ns)).filter((x) => x.metadata.name === q.metadata.name);
        assert.equal(after?.status?.phase, 'Released', JSON.stringify(after?.status));
      },
      { what: 'released from git', timeoutMs: 120_000, intervalMs: 1000 },
    );
    const back = await pod(ns, 'solo');
    assert.equal(back.metadata.uid, solo.metadata.uid, 'the same pod, kept');
    assert.deepEqual(
      Object.fromEntries(Object.entries(back.metadata.labels ?? {}).sort()),
      Object.fromEntries(Object.entries(solo.metadata.labels ?? {}).sort()),
      'labels exactly as before',
    );
    await eventually(
      async () => {
        assert.equal(await answers(ns, 'client', soloIp), '200');
        assert.equal(await answers(ns, 'solo', clientIp), '200');
      },
      { what: 'traffic flows again', timeoutMs: 30_000, intervalMs: 500 },
    );
  });
});
