import { strict as assert } from 'node:assert';
import { SIDECAR_CONTAINER_NAME, SIDECAR_ENV, SIDECAR_TOKEN_AUDIENCE } from '../sidecar-env.js';
import { applyJsonPatch } from '../../../../test/harness/json-patch.js';
import { HEALTH_PORT_ANNOTATION } from './health-port.js';
import { ANNOTATIONS, decideInjection, injectedSidecar, type PodLike, type SidecarSettings } from './patch.js';
import { DEFAULT_SIDECAR_RESOURCES } from './sidecar-container.js';
import type { InjectablePolicy } from './policy.js';
import { PolicyIndex } from './policy-index.js';

const sidecar: SidecarSettings = {
  image: 'registry.invalid/bulkhead-sidecar:0.1.0',
  version: '0.1.0',
  reportUrl: 'https://bulkhead.bulkhead-system.svc:8443/v1/reports',
};
const excludedNamespaces = ['kube-system', 'kube-public', 'bulkhead-system'];

const policy = (
  name: string,
  probe: InjectablePolicy['spec']['probe'],
  match: InjectablePolicy['spec']['match'] = { namespaces: ['shop'] },
): InjectablePolicy => ({
  metadata: { name },
  spec: { match, probe },
});

const pod = (extra: Partial<PodLike['metadata']> = {}, spec: Partial<NonNullable<PodLike['spec']>> = {}): PodLike => ({
  metadata: { name: 'web-1', namespace: 'shop', labels: { app: 'web' }, ...extra },
  spec: {
    containers: [{ name: 'app', image: 'registry.invalid/web:1', ports: [{ name: 'http', containerPort: 8080 }] }],
    ...spec,
  },
});

const env = (p: PodLike): Record<string, unknown> => {
  const c = injectedSidecar(p)!;
  return Object.fromEntries(
    (c.env as { name: string; value?: string; valueFrom?: unknown }[]).map((e) => [e.name, e.value ?? e.valueFrom]),
  );
};

function inject(
  p: PodLike,
  policies: InjectablePolicy[],
  ns = 'shop',
): { decision: ReturnType<typeof decideInjection>; result: PodLike } {
  const decision = decideInjection(p, ns, {}, new PolicyIndex(policies, { excludedNamespaces }), sidecar);
  return { decision, result: decision.inject ? applyJsonPatch(p, decision.patch) : p };
}

describe('injection patch', () => {
  const http = policy('web-health', {
    http: { path: '/healthz', port: 'http' },
    interval: '5s',
    timeout: '1s',
    expectStatus: [200, 204],
  });

  it('adds the sidecar with the policy, probe target, report URL and a projected bulkhead token', () => {
    const { decision, result } = inject(pod(), [http]);
    assert.equal(decision.inject, true);
    assert.deepEqual(
      result.spec!.containers!.map((c) => c.name),
      ['app'],
    );
    // A native sidecar: an init container that keeps running (restartPolicy Always).
    assert.deepEqual(
      result.spec!.initContainers!.map((c) => c.name),
      [SIDECAR_CONTAINER_NAME],
    );
    const sc = result.spec!.initContainers![0]!;
    assert.equal(sc.restartPolicy, 'Always');
    assert.equal(sc.image, sidecar.image);
    const e = env(result);
    assert.equal(e[SIDECAR_ENV.policy], 'web-health');
    assert.equal(e[SIDECAR_ENV.probeType], 'http');
    assert.equal(e[SIDECAR_ENV.probePort], '8080', 'named port resolved');
    assert.equal(e[SIDECAR_ENV.probePath], '/healthz');
    assert.equal(e[SIDECAR_ENV.probeExpectStatus], '200,204');
    assert.equal(e[SIDECAR_ENV.probeInterval], '5s');
    assert.equal(e[SIDECAR_ENV.probeTimeout], '1s');
    assert.equal(e[SIDECAR_ENV.reportUrl], sidecar.reportUrl);
    assert.deepEqual(e[SIDECAR_ENV.podUid], { fieldRef: { fieldPath: 'metadata.uid' } });
    const vol = (
      result.spec!.volumes as unknown as {
        name: string;
        projected: { sources: { serviceAccountToken?: { audience: string; path: string } }[] };
      }[]
    )[0]!;
    const token = vol.projected.sources.find((s) => s.serviceAccountToken)!.serviceAccountToken!;
    assert.equal(token.audience, SIDECAR_TOKEN_AUDIENCE);
    assert.equal(e[SIDECAR_ENV.tokenPath], `/var/run/secrets/bulkhead/${token.path}`);
    assert.deepEqual(JSON.parse(result.metadata!.annotations![ANNOTATIONS.injected]!), {
      policy: 'web-health',
      sidecar: '0.1.0',
    });
    assert.equal(result.spec!.serviceAccountName, 'default', 'a projected token needs a ServiceAccount');
    const own = inject(pod({}, { serviceAccountName: 'web' }), [http]).result;
    assert.equal(own.spec!.serviceAccountName, 'web');
  });

  it('appends to existing volumes and annotations instead of replacing them', () => {
    const p = pod({ annotations: { keep: 'me', 'a/b~c': 'x' } }, { volumes: [{ name: 'data' }] });
    const { result } = inject(p, [http]);
    assert.deepEqual(
      result.spec!.volumes!.map((v) => v.name),
      ['data', 'bulkhead-identity'],
    );
    assert.equal(result.metadata!.annotations!.keep, 'me');
    assert.equal(result.metadata!.annotations!['a/b~c'], 'x');
    assert.ok(result.metadata!.annotations![ANNOTATIONS.injected]);
  });

  it('is idempotent: an injected pod (re-invocation) is left alone', () => {
    const { result } = inject(pod(), [http]);
    const again = inject(result, [http]);
    assert.equal(again.decision.inject, false);
    assert.match((again.decision as { reason: string }).reason, /already injected/);
    // Also when only the container is there (annotation stripped by someone).
    const stripped = structuredClone(result);
    delete stripped.metadata!.annotations;
    assert.equal(inject(stripped, [http]).decision.inject, false);
  });

  it('respects the opt-out annotation', () => {
    const { decision } = inject(pod({ annotations: { [ANNOTATIONS.inject]: 'false' } }), [http]);
    assert.equal(decision.inject, false);
    assert.match((decision as { reason: string }).reason, /opted out/);
  });

  it('leaves pods no policy matches untouched, with the reason', () => {
    const sel = policy(
      'api-only',
      { tcp: { port: 9000 } },
      { namespaces: ['shop'], selector: { matchLabels: { app: 'api' } } },
    );
    const { decision } = inject(pod(), [sel]);
    assert.equal(decision.inject, false);
    assert.match((decision as { reason: string }).reason, /none selects the pod's labels/);
    assert.equal(inject(pod(), [http], 'elsewhere').decision.inject, false);
  });

  it('two matching policies: one sidecar, the choice explained in an annotation', () => {
    const specific = policy(
      'web-pods',
      { tcp: { port: 8080 } },
      { namespaces: ['shop'], selector: { matchLabels: { app: 'web' } } },
    );
    const { decision, result } = inject(pod(), [http, specific]);
    assert.equal(decision.inject, true);
    assert.equal(result.spec!.initContainers!.filter((c) => c.name === SIDECAR_CONTAINER_NAME).length, 1);
    assert.equal(env(result)[SIDECAR_ENV.policy], 'web-pods');
    const why = result.metadata!.annotations![ANNOTATIONS.decision]!;
    assert.match(why, /matched web-pods, web-health; injected web-pods/);
  });

  it('probe fromPod takes the main container readinessProbe (port, path, timing)', () => {
    const p = pod(
      {},
      {
        containers: [
          {
            name: 'app',
            ports: [{ name: 'http', containerPort: 8080 }],
            readinessProbe: { httpGet: { path: '/ready', port: 'http' }, periodSeconds: 3, timeoutSeconds: 2 },
          },
        ],
      },
    );
    const { result } = inject(p, [policy('from-pod', { fromPod: true })]);
    const e = env(result);
    assert.equal(e[SIDECAR_ENV.probeType], 'http');
    assert.equal(e[SIDECAR_ENV.probePort], '8080');
    assert.equal(e[SIDECAR_ENV.probePath], '/ready');
    assert.equal(e[SIDECAR_ENV.probeInterval], '3s');
    assert.equal(e[SIDECAR_ENV.probeTimeout], '2s');
    const tcp = inject(pod({}, { containers: [{ name: 'app', readinessProbe: { tcpSocket: { port: 5432 } } }] }), [
      policy('from-pod', { fromPod: true }),
    ]);
    assert.equal(env(tcp.result)[SIDECAR_ENV.probeType], 'tcp');
    assert.equal(env(tcp.result)[SIDECAR_ENV.probePort], '5432');
  });

  it('does not inject when the probe cannot be resolved, and says why', () => {
    const noProbe = inject(pod(), [policy('from-pod', { fromPod: true })]);
    assert.equal(noProbe.decision.inject, false);
    assert.match((noProbe.decision as { reason: string }).reason, /has no readinessProbe/);
    const badPort = inject(pod(), [policy('bad', { http: { path: '/', port: 'metrics' } })]);
    assert.match((badPort.decision as { reason: string }).reason, /named port metrics not found/);
  });

  it('falls back to the next matching policy when the first cannot probe the pod', () => {
    const first = policy(
      'a-from-pod',
      { fromPod: true },
      { namespaces: ['shop'], selector: { matchLabels: { app: 'web' } } },
    );
    const { decision, result } = inject(pod(), [first, http]);
    assert.equal(decision.inject, true);
    assert.equal(env(result)[SIDECAR_ENV.policy], 'web-health');
    assert.match(result.metadata!.annotations![ANNOTATIONS.decision]!, /skipped a-from-pod: probe fromPod/);
  });

  it("goes last among existing init containers, so the pod's own setup runs first and the app after its monitor", () => {
    const p = pod({}, { initContainers: [{ name: 'migrate' }, { name: 'mesh-proxy', restartPolicy: 'Always' }] });
    const { result } = inject(p, [http]);
    assert.deepEqual(
      result.spec!.initContainers!.map((c) => c.name),
      ['migrate', 'mesh-proxy', SIDECAR_CONTAINER_NAME],
    );
    // A pod whose sidecar sits among the init containers counts as injected.
    const stripped = structuredClone(result);
    delete stripped.metadata!.annotations;
    assert.match((inject(stripped, [http]).decision as { reason: string }).reason, /already injected/);
  });

  it('requests equal limits (a Guaranteed pod stays Guaranteed, a quota needs no LimitRange); configurable', () => {
    const sc = injectedSidecar(inject(pod(), [http]).result)!;
    assert.deepEqual(sc.resources, DEFAULT_SIDECAR_RESOURCES);
    const r = DEFAULT_SIDECAR_RESOURCES;
    for (const k of ['cpu', 'memory']) assert.equal(r.requests![k], r.limits![k], k);
    const custom = { requests: { cpu: '10m', memory: '64Mi' }, limits: { cpu: '10m', memory: '64Mi' } };
    const d = decideInjection(pod(), 'shop', {}, new PolicyIndex([http], { excludedNamespaces }), {
      ...sidecar,
      resources: custom,
    });
    assert.deepEqual(injectedSidecar(applyJsonPatch(pod(), d.inject ? d.patch : []))!.resources, custom);
  });

  it('passes Pod Security restricted on the container itself', () => {
    const sc = injectedSidecar(inject(pod(), [http]).result)! as { securityContext?: Record<string, unknown> };
    assert.deepEqual(sc.securityContext, {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      runAsUser: 65532,
      runAsGroup: 65532,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
  });

  it('starts node with the lean flags the sidecar bench measures', () => {
    assert.equal(env(inject(pod(), [http]).result).NODE_OPTIONS, '--jitless --max-semi-space-size=1');
  });

  it('health port: 9901 with a liveness probe on it; a port the pod declares or probes is skipped; the annotation sets it', () => {
    const live = (p: PodLike) =>
      injectedSidecar(p) as { livenessProbe?: { httpGet: { port: number; path: string } }; ports?: unknown[] };
    const plain = inject(pod(), [http]).result;
    assert.equal(env(plain)[SIDECAR_ENV.healthPort], '9901');
    assert.deepEqual(live(plain).livenessProbe!.httpGet, { path: '/healthz', port: 9901 });
    assert.deepEqual(env(plain)[SIDECAR_ENV.podIp], { fieldRef: { fieldPath: 'status.podIP' } });

    const clash = pod(
      {},
      {
        containers: [
          {
            name: 'app',
            ports: [
              { name: 'http', containerPort: 8080 },
              { name: 'admin', containerPort: 9901 },
            ],
            livenessProbe: { httpGet: { path: '/', port: 9902 } },
          },
        ],
        initContainers: [{ name: 'proxy', restartPolicy: 'Always', ports: [{ containerPort: 9903 }] }],
      },
    );
    const moved = inject(clash, [http]).result;
    assert.equal(env(moved)[SIDECAR_ENV.healthPort], '9904');
    assert.equal(live(moved).livenessProbe!.httpGet.port, 9904);

    const asked = inject(pod({ annotations: { [HEALTH_PORT_ANNOTATION]: '12345' } }), [http]).result;
    assert.equal(env(asked)[SIDECAR_ENV.healthPort], '12345');
    const off = inject(pod({ annotations: { [HEALTH_PORT_ANNOTATION]: '0' } }), [http]).result;
    assert.equal(env(off)[SIDECAR_ENV.healthPort], '0');
    assert.equal(live(off).livenessProbe, undefined, 'no health server, no liveness probe');
    assert.equal(live(off).ports, undefined);
    const hostNet = inject(pod({}, { hostNetwork: true }), [http]).result;
    assert.equal(env(hostNet)[SIDECAR_ENV.healthPort], '0', "a hostNetwork pod's port would be the node's");
  });

  it('probe fromPod keeps an HTTPS readiness probe HTTPS, with its host and headers', () => {
    const p = pod(
      {},
      {
        containers: [
          {
            name: 'app',
            readinessProbe: {
              httpGet: {
                path: '/ready',
                port: 8443,
                scheme: 'HTTPS',
                host: '127.0.0.2',
                httpHeaders: [{ name: 'Host', value: 'shop.example' }],
              },
            },
          },
        ],
      },
    );
    const e = env(inject(p, [policy('from-pod', { fromPod: true })]).result);
    assert.equal(e[SIDECAR_ENV.probeType], 'http');
    assert.equal(e[SIDECAR_ENV.probeScheme], 'https');
    assert.equal(e[SIDECAR_ENV.probeHost], '127.0.0.2');
    assert.equal(e[SIDECAR_ENV.probePort], '8443');
    assert.deepEqual(JSON.parse(e[SIDECAR_ENV.probeHeaders] as string), [{ name: 'Host', value: 'shop.example' }]);
  });

  it('probe fromPod: a grpc readiness probe is probed by gRPC health check; exec is refused with the reason', () => {
    const grpc = pod({}, { containers: [{ name: 'app', readinessProbe: { grpc: { port: 9090, service: 'shop' } } }] });
    const e = env(inject(grpc, [policy('from-pod', { fromPod: true })]).result);
    assert.equal(e[SIDECAR_ENV.probeType], 'grpc');
    assert.equal(e[SIDECAR_ENV.probePort], '9090');
    assert.equal(e[SIDECAR_ENV.probeGrpcService], 'shop');
    const exec = pod({}, { containers: [{ name: 'app', readinessProbe: { exec: { command: ['cat', '/ready'] } } }] });
    const d = inject(exec, [policy('from-pod', { fromPod: true })]).decision;
    assert.equal(d.inject, false);
    assert.match((d as { reason: string }).reason, /readinessProbe is exec, which a sidecar cannot run/);
  });
});
