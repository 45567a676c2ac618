// On two real nodes, through the engine installed as shipped (`bulkhead install`, 2 replicas,
// policies from real HTTPS git): one pod of the demo app starts failing; the policy asks for its
// replacement to avoid its node (AntiAffinity) and for pods sharing its image to be isolated.
// The replacement is scheduled on the other node (where the workload's own soft spread would
// not put it), the pods sharing the image (one of its own Deployment, one of another) are
// isolated, all under one incident, with one record in git.
import assert from 'node:assert/strict';
import { DEMO_APP_IMAGE } from '../../images/images.js';
import { eventually } from '../harness/eventually.js';
import { installedEngine, type InstalledEngine } from './support/installed-engine.js';
import { getRealCluster } from './support/state.js';
import { apply, realNamespace, waitReady } from './support/workloads.js';

interface Pod {
  metadata: { name: string; uid: string; labels?: Record<string, string> };
  spec: {
    nodeName?: string;
    affinity?: {
      nodeAffinity?: {
        requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms: { matchFields?: unknown[] }[] };
      };
    };
  };
  status: { phase?: string };
}
interface QuarantineObj {
  metadata: { name: string; labels?: Record<string, string> };
  spec: { pod: { name: string; uid: string }; reason: string; recordPath?: string; node?: string };
  status?: { phase?: string; audit?: { state?: string; commit?: string } };
}

const TEST_LABEL = 'bulkhead.dev/similar-test';

/** A Deployment of the demo app; its pods prefer (softly) not to share a node. */
const deployment = (name: string, replicas: number): object => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name, [TEST_LABEL]: 'true', 'bulkhead.dev/test': 'true' } },
      spec: {
        terminationGracePeriodSeconds: 2,
        affinity: {
          podAntiAffinity: {
            preferredDuringSchedulingIgnoredDuringExecution: [
              {
                weight: 100,
                podAffinityTerm: {
                  labelSelector: { matchLabels: { app: name } },
                  topologyKey: 'kubernetes.io/hostname',
                },
              },
            ],
          },
        },
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
    },
  },
});

const policy = (ns: string): string => `apiVersion: bulkhead.dev/v1alpha1
kind: HealthPolicy
metadata:
  name: real-similar
spec:
  match:
    namespaces: [${ns}]
    selector:
      matchLabels: { ${TEST_LABEL}: "true" }
  probe:
    http: { path: /, port: 8080 }
    interval: 1s
    timeout: 500ms
  detect:
    rules:
      - type: ConsecutiveFailures
        threshold: 3
  action:
    type: Quarantine
    mode: Enforce
    budget: { maxUnavailable: 3 } # the failing pod is already unready: room for it and its sibling
    similar: { sharing: [Image], action: Isolate }
    replacement: { avoidNode: AntiAffinity }
`;

describe('real nodes: similar pods and the replacement starting elsewhere', function () {
  this.timeout(600_000);
  let engine: InstalledEngine;
  let ns: string;

  before(async () => {
    engine = await installedEngine();
    ns = await realNamespace(getRealCluster(), 'rn-similar');
    await engine.repo.waitSynced(
      await engine.repo.push({ 'policies/real-similar.yaml': policy(ns) }, 'add real-similar'),
    );
  });
  after(async () => {
    // The policy must not outlive this file: it would keep acting on its namespace.
    if (engine)
      await engine.repo.waitSynced(
        await engine.repo.push({ 'policies/real-similar.yaml': null }, 'remove real-similar'),
      );
  });

  const pods = async (selector: string): Promise<Pod[]> =>
    (JSON.parse(await engine.kubectlOk(['get', 'pods', '-n', ns, '-l', selector, '-o', 'json'])) as { items: Pod[] })
      .items;

  it('siblings sharing the image are isolated under one incident with one record; the replacement runs on the other node', async () => {
    const [n0, n1] = getRealCluster().nodeNames as [string, string];
    await apply(getRealCluster(), ns, deployment('sim', 2), deployment('twin', 1));
    await waitReady(getRealCluster(), ns, `${TEST_LABEL}=true`, 240_000);
    const before = await pods('app=sim');
    const victim = before.find((p) => p.spec.nodeName === n0) ?? before[0]!;
    const victimNode = victim.spec.nodeName!;
    const otherNode = victimNode === n0 ? n1 : n0;
    const twin = (await pods('app=twin'))[0]!;
    const sibling = before.find((p) => p.metadata.uid !== victim.metadata.uid)!;
    // Only the pod itself can make its app fail (the demo app's local-only switch).
    await engine.kubectlOk([
      'exec',
      '-n',
      ns,
      victim.metadata.name,
      '-c',
      'app',
      '--',
      'node',
      '/app/server.mjs',
      'fetch',
      'http://127.0.0.1:8080/__demo/fail',
      '1500',
    ]);

    const qs = await eventually(
      async () => {
        const list = (
          JSON.parse(await engine.kubectlOk(['get', 'quarantines', '-n', ns, '-o', 'json'])) as {
            items: QuarantineObj[];
          }
        ).items;
        assert.equal(list.length, 3, `${list.length} Quarantines: ${list.map((q) => q.spec.pod.name).join(', ')}`);
        assert.ok(
          list.every((q) => q.status?.audit?.state === 'Committed'),
          JSON.stringify(list.map((q) => q.status)),
        );
        return list;
      },
      {
        what: 'the failing pod and the two pods sharing its image held and recorded',
        timeoutMs: 180_000,
        intervalMs: 2000,
      },
    ).catch(async (err: unknown) => {
      throw new Error(`${String(err)}\n${await engine.logs(80)}`);
    });
    const primary = qs.find((q) => q.spec.pod.uid === victim.metadata.uid);
    assert.ok(primary, 'the failing pod is quarantined');
    assert.equal(primary.metadata.labels?.['bulkhead.dev/action'], 'Quarantine');
    const similar = qs.filter((q) => q !== primary);
    assert.deepEqual(
      new Set(similar.map((q) => q.spec.pod.uid)),
      new Set([sibling.metadata.uid, twin.metadata.uid]),
      'the pods sharing the image, in its own Deployment and another',
    );
    for (const q of similar) {
      assert.equal(q.spec.reason, 'Similar');
      assert.equal(q.metadata.labels?.['bulkhead.dev/action'], 'Isolate', 'the milder action the policy names');
      assert.equal(q.spec.recordPath, primary.spec.recordPath, 'recorded in the failing pod’s record');
    }
    assert.equal(new Set(qs.map((q) => q.metadata.labels?.['bulkhead.dev/incident'])).size, 1, 'one incident');

    // One record in git for this namespace, naming both siblings.
    const records = Object.entries(await engine.repo.records()).filter(([path]) => path.includes(`/${ns}/`));
    assert.deepEqual(
      records.map(([path]) => path),
      [primary.spec.recordPath],
    );
    for (const q of similar) assert.match(records[0]![1], new RegExp(`${ns}/${q.spec.pod.name}: done`));

    // The replacement: scheduled on the other node, kept off the failing one by the webhook.
    const replacement = await eventually(
      async () => {
        const fresh = (await pods('app=sim')).filter(
          (p) => !before.some((b) => b.metadata.uid === p.metadata.uid) && p.status.phase === 'Running',
        );
        assert.equal(fresh.length, 1, `${fresh.length} running replacements`);
        return fresh[0]!;
      },
      { what: 'the replacement Running', timeoutMs: 120_000, intervalMs: 1000 },
    );
    assert.equal(replacement.spec.nodeName, otherNode, 'the replacement starts elsewhere');
    assert.match(
      JSON.stringify(replacement.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution),
      new RegExp(`"metadata.name","operator":"NotIn","values":\\["${victimNode}"\\]`),
    );
  });
});
