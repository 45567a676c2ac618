// Issue 17, the differential test that keeps both admission paths honest: one corpus of pods is
// created through the real apiserver once per path (the engine's webhook, then the generated
// MutatingAdmissionPolicy), in the same namespace under the same HealthPolicies, and the stored
// pods must be equal field by field. Only what the apiserver stamps per object (uid,
// resourceVersion, creation and managedFields times) and the annotation naming the path differ.
// The admission warning a matched but uninjectable pod gets (kubectl prints it) must say the same
// on both paths too: the policy path's comes from a Warn-only ValidatingAdmissionPolicy.
import { strict as assert } from 'node:assert';
import { CoreV1Api, type V1Container, type V1Pod } from '@kubernetes/client-node';
import type { InjectablePolicy } from '../../engine/src/admission/inject/policy.js';
import { eventually, getCluster, newNamespace } from '../harness/index.js';
import { MODES, startTestAdmission, type TestAdmission } from './support/admission-harness.js';

const PATH_ANNOTATION = 'bulkhead.dev/admission-path';
// Never scheduled: the stored pod is what admission produced, and it deletes at once.
const UNSCHEDULED = 'bulkhead-test-unscheduled';

const app = (extra: Partial<V1Container> = {}): V1Container => ({
  name: 'app',
  image: 'registry.invalid/web:1',
  ports: [{ name: 'http', containerPort: 8080 }],
  ...extra,
});
const pod = (
  name: string,
  labels: Record<string, string>,
  spec: Partial<V1Pod['spec']> = {},
  annotations?: Record<string, string>,
): V1Pod => ({
  metadata: { name, labels, ...(annotations ? { annotations } : {}) },
  spec: { schedulerName: UNSCHEDULED, containers: [app()], ...spec },
});

/** The corpus: one pod per behaviour the two paths must agree on. */
function corpus(): V1Pod[] {
  return [
    pod('plain', { app: 'web' }),
    pod('no-labels', {}),
    // The named port is declared by another container than the probed one.
    pod(
      'named-port-elsewhere',
      { app: 'web' },
      { containers: [app({ ports: [] }), app({ name: 'metrics', ports: [{ name: 'http', containerPort: 9090 }] })] },
    ),
    // Several policies match: the most specific wins, the choice is explained.
    pod('several', { app: 'api' }),
    pod(
      'several-skip',
      { probe: 'from-pod' },
      { containers: [app({ readinessProbe: { exec: { command: ['true'] } } })] },
    ),
    // Two policies match and neither resolves (an exec probe; no port named http): left alone, told why.
    pod(
      'none-resolves',
      { probe: 'from-pod' },
      { containers: [app({ ports: [], readinessProbe: { exec: { command: ['true'] } } })] },
    ),
    pod('opted-out', { app: 'web' }, {}, { 'bulkhead.dev/inject': 'false' }),
    pod('already-injected', { app: 'web' }, {}, { 'bulkhead.dev/injected': '{"policy":"other","sidecar":"0.0.9"}' }),
    pod(
      'sidecar-present',
      { app: 'web' },
      { initContainers: [{ name: 'bulkhead-sidecar', image: 'registry.invalid/old:1' }] },
    ),
    pod('init-containers', { app: 'web' }, { initContainers: [{ name: 'setup', image: 'registry.invalid/setup:1' }] }),
    pod(
      'volumes-and-annotations',
      { app: 'web' },
      { volumes: [{ name: 'data', emptyDir: {} }] },
      { 'team.example/owner': 'shop' },
    ),
    pod('volume-taken', { app: 'web' }, { volumes: [{ name: 'bulkhead-identity', emptyDir: {} }] }),
    pod('service-account', { app: 'web' }, { serviceAccountName: 'custom' }),
    pod(
      'from-pod-http',
      { probe: 'from-pod' },
      {
        containers: [
          app({
            readinessProbe: {
              httpGet: {
                path: '/ready',
                port: 'http',
                scheme: 'HTTPS',
                host: 'localhost',
                httpHeaders: [{ name: 'X-Probe', value: 'a "quoted" \\ value' }],
              },
              periodSeconds: 7,
              timeoutSeconds: 3,
            },
          }),
        ],
      },
    ),
    pod(
      'from-pod-tcp',
      { probe: 'from-pod' },
      { containers: [app({ readinessProbe: { tcpSocket: { port: 8080 } } })] },
    ),
    pod(
      'from-pod-grpc',
      { probe: 'from-pod' },
      { containers: [app({ readinessProbe: { grpc: { port: 9000, service: 'health' } } })] },
    ),
    pod('from-pod-none', { probe: 'from-pod' }),
    pod('named-port-missing', { app: 'web' }, { containers: [app({ ports: [{ name: 'web', containerPort: 8080 }] })] }),
    pod(
      'container-named',
      { app: 'team' },
      { containers: [app(), app({ name: 'side', ports: [{ name: 'metrics', containerPort: 9100 }] })] },
    ),
    pod('container-missing', { app: 'team' }),
    pod(
      'health-port-declared',
      { app: 'web' },
      {
        containers: [
          app({
            ports: [
              { name: 'http', containerPort: 9901 },
              { containerPort: 9902, hostPort: 9903 },
            ],
            livenessProbe: { httpGet: { port: 9904, path: '/' } },
          }),
        ],
      },
    ),
    pod('health-port-asked', { app: 'web' }, {}, { 'bulkhead.dev/sidecar-health-port': '12345' }),
    pod('health-port-off', { app: 'web' }, {}, { 'bulkhead.dev/sidecar-health-port': '0' }),
    pod('health-port-not-a-number', { app: 'web' }, {}, { 'bulkhead.dev/sidecar-health-port': '0x10' }),
    pod('host-network', { app: 'web' }, { hostNetwork: true }),
    pod('expressions', { app: 'cache', tier: 'web' }),
    pod('expressions-excluded', { app: 'cache', tier: 'db' }),
  ];
}

/**
 * Bulkhead's admission warnings in a response's Warning header (`299 - "text"`, comma-joined),
 * from "bulkhead:" on: the apiserver prefixes a policy's warning with the policy's name.
 */
function bulkheadWarnings(header: string | undefined): string[] {
  const texts = [...(header ?? '').matchAll(/299 - "((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!.replace(/\\(.)/g, '$1'));
  return texts.filter((t) => t.includes('bulkhead: ')).map((t) => t.slice(t.indexOf('bulkhead: ')));
}

/** What differs between two creations of one pod by design: the apiserver's per-object stamps, and the path. */
function comparable(p: V1Pod): unknown {
  const copy = structuredClone(p) as V1Pod;
  const m = copy.metadata!;
  delete m.uid;
  delete m.resourceVersion;
  delete m.creationTimestamp;
  for (const f of m.managedFields ?? []) delete f.time;
  if (m.annotations) delete m.annotations[PATH_ANNOTATION];
  return JSON.parse(JSON.stringify(copy));
}

describe('admission: the webhook and the admission policy store the same pods (differential)', () => {
  const stored: Record<string, Map<string, V1Pod>> = {};
  const warned: Record<string, Map<string, string[]>> = {};
  let ns: string;
  const core = (): CoreV1Api => getCluster().kubeConfig().makeApiClient(CoreV1Api);

  before(async () => {
    const team = `diff-${Date.now().toString(36)}`;
    ns = await newNamespace('diff', { team });
    const engineNs = await newNamespace('bh-engine');
    const policies: InjectablePolicy[] = [
      {
        metadata: { name: 'web' },
        spec: {
          match: { namespaces: [ns] },
          probe: { http: { path: '/healthz', port: 'http' }, interval: '5s', expectStatus: [200, 204] },
        },
      },
      {
        metadata: { name: 'api' },
        spec: {
          match: { namespaces: [ns], selector: { matchLabels: { app: 'api' } } },
          probe: { tcp: { port: 8080 } },
        },
      },
      {
        metadata: { name: 'ready' },
        spec: {
          match: {
            namespaces: [ns],
            selector: { matchExpressions: [{ key: 'probe', operator: 'In', values: ['from-pod'] }] },
          },
          probe: { fromPod: true },
        },
      },
      {
        metadata: { name: 'team' },
        spec: {
          match: { namespaceSelector: { matchLabels: { team } }, selector: { matchLabels: { app: 'team' } } },
          probe: { http: { path: '/metrics', port: 'metrics' }, container: 'side', timeout: '3s' },
        },
      },
      {
        metadata: { name: 'cache' },
        spec: {
          match: {
            namespaces: [ns],
            selector: {
              matchExpressions: [
                { key: 'tier', operator: 'NotIn', values: ['db'] },
                { key: 'app', operator: 'Exists' },
                { key: 'legacy', operator: 'DoesNotExist' },
              ],
            },
          },
          probe: { tcp: { port: '6379' } },
        },
      },
      // Policies of other namespaces: enough that the policy path reads its data from several lists.
      ...Array.from({ length: 40 }, (_, i): InjectablePolicy => ({
        metadata: { name: `elsewhere-${i}` },
        spec: { match: { namespaces: [`elsewhere-${i}`] }, probe: { tcp: { port: 8080 } } },
      })),
    ];
    for (const mode of MODES) {
      const hook: TestAdmission = await startTestAdmission({ engineNamespace: engineNs, policies, mode });
      try {
        await warmUp(ns);
        const out = new Map<string, V1Pod>();
        const warnings = new Map<string, string[]>();
        // The create response is the stored object as admission left it (nothing schedules these pods).
        for (const body of corpus()) {
          const res = await core().createNamespacedPodWithHttpInfo({ namespace: ns, body });
          out.set(body.metadata!.name!, res.data);
          warnings.set(body.metadata!.name!, bulkheadWarnings(res.headers.warning));
        }
        stored[mode] = out;
        warned[mode] = warnings;
        await core().deleteCollectionNamespacedPod({ namespace: ns, gracePeriodSeconds: 0 });
        await eventually(
          async () => assert.equal((await core().listNamespacedPod({ namespace: ns })).items.length, 0),
          {
            what: 'corpus pods deleted',
          },
        );
      } finally {
        await hook.cleanup();
      }
    }
  });

  async function warmUp(namespace: string): Promise<void> {
    // Admission configuration reaches the apiserver asynchronously: wait until a pod comes back injected.
    let n = 0;
    await eventually(
      async () => {
        const p = await core().createNamespacedPod({ namespace, body: pod(`warmup-${n++}`, { app: 'web' }) });
        assert.ok(p.metadata?.annotations?.['bulkhead.dev/injected'], 'not injected yet');
      },
      { what: `admission injecting in ${namespace}`, timeoutMs: 30_000, intervalMs: 200 },
    );
    // On the policy path the warnings come from their own (Warn-only) validating policy, which
    // the apiserver picks up on its own 1 s refresh: wait until a pod left alone is warned too.
    const taken = corpus().find((b) => b.metadata?.name === 'volume-taken')!;
    await eventually(
      async () => {
        const res = await core().createNamespacedPodWithHttpInfo({ namespace, body: taken, dryRun: 'All' });
        assert.ok(bulkheadWarnings(res.headers.warning).length > 0, 'no admission warning yet');
      },
      { what: `admission warnings in ${namespace}`, timeoutMs: 30_000, intervalMs: 200 },
    );
  }

  for (const body of corpus()) {
    const name = body.metadata!.name!;
    it(`${name}: the same stored pod on both paths`, () => {
      const [webhook, policy] = MODES.map((m) => stored[m]!.get(name)!);
      assert.deepEqual(comparable(policy!), comparable(webhook!));
      // The one designed difference: each path names itself on the pods it injects.
      const injected = webhook!.metadata?.annotations?.[PATH_ANNOTATION] !== undefined;
      assert.equal(policy!.metadata?.annotations?.[PATH_ANNOTATION], injected ? 'policy' : undefined);
      if (injected) assert.equal(webhook!.metadata?.annotations?.[PATH_ANNOTATION], 'webhook');
      assert.deepEqual(warned.policy!.get(name), warned.webhook!.get(name), 'the same admission warning');
    });
  }

  it('the corpus exercises both outcomes: injected pods and pods left alone', () => {
    const injected = [...stored.webhook!.values()].filter((p) => p.metadata?.annotations?.[PATH_ANNOTATION]);
    assert.ok(injected.length >= 15, `${injected.length} injected`);
    assert.ok(injected.length < corpus().length, 'some pods are left alone');
    // Pods a policy matches but cannot inject are told why, on both paths (checked equal above).
    const told = [...warned.webhook!.entries()].filter(([, w]) => w.length > 0).map(([n]) => n);
    assert.deepEqual(told.sort(), ['none-resolves', 'volume-taken']);
    assert.match(
      warned.policy!.get('none-resolves')!.join(),
      /^bulkhead: no sidecar injected: no matching policy injects this pod: ready: .*; web: /,
    );
    const explained = injected.filter((p) => p.metadata?.annotations?.['bulkhead.dev/injection-decision']);
    assert.ok(
      explained.some((p) =>
        /skipped ready: probe fromPod/.test(p.metadata!.annotations!['bulkhead.dev/injection-decision']!),
      ),
    );
  });
});
