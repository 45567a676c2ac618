import { strict as assert } from 'node:assert';
// The other side of the contract: the sidecar's own config reader.
import { ENV, readConfig } from '../../../sidecar/src/config.js';
import { SIDECAR_NODE_FLAGS } from '../../../sidecar/src/node-flags.js';
import { applyJsonPatch } from '../../../test/harness/json-patch.js';
import { decideInjection, injectedSidecar, type PodLike } from './inject/patch.js';
import { PolicyIndex } from './inject/policy-index.js';
import type { InjectablePolicy } from './inject/policy.js';
import { SIDECAR_ENV, SIDECAR_NODE_OPTIONS } from './sidecar-env.js';

describe('sidecar env contract', () => {
  it('every name the webhook sets is one the sidecar reads', () => {
    const sidecarNames = new Set<string>(Object.values(ENV));
    for (const name of Object.values(SIDECAR_ENV)) assert.ok(sidecarNames.has(name), `${name} unknown to the sidecar`);
  });

  it('the node flags injection sets are the ones the sidecar bench measures', () => {
    assert.equal(SIDECAR_NODE_OPTIONS, SIDECAR_NODE_FLAGS.join(' '));
  });

  const readiness = {
    httpGet: { path: '/ready', port: 'http', scheme: 'HTTPS', httpHeaders: [{ name: 'Host', value: 'a.example' }] },
  };
  const probes: [string, InjectablePolicy['spec']['probe'], object?][] = [
    ['http', { http: { path: '/healthz', port: 'http' }, expectStatus: [200, 204] }],
    ['tcp', { tcp: { port: 5432 } }],
    ['https from the pod', { fromPod: true }, readiness],
    ['grpc from the pod', { fromPod: true }, { grpc: { port: 9090, service: 'shop' } }],
  ];
  for (const [what, probe, readinessProbe] of probes) {
    it(`the env an injected pod gets is a valid sidecar config (${what})`, () => {
      const pod: PodLike = {
        metadata: { name: 'web-1', namespace: 'shop' },
        spec: {
          containers: [
            {
              name: 'app',
              ports: [{ name: 'http', containerPort: 8080 }],
              ...(readinessProbe ? { readinessProbe } : {}),
            },
          ],
        },
      };
      const index = new PolicyIndex(
        [
          {
            metadata: { name: 'web' },
            spec: { match: { namespaces: ['shop'] }, probe: { ...probe, interval: '5s', timeout: '1s' } },
          },
        ],
        { excludedNamespaces: [] },
      );
      const d = decideInjection(pod, 'shop', {}, index, {
        image: 'x',
        version: '0.1.0',
        reportUrl: 'https://bulkhead.bulkhead-system.svc:8443/v1/reports',
      });
      assert.equal(d.inject, true);
      const injected = applyJsonPatch(pod, d.inject ? d.patch : []);
      const c = injectedSidecar(injected)!;
      // What the kubelet would resolve from the downward API.
      const downward: Record<string, string> = {
        'metadata.name': 'web-1',
        'metadata.namespace': 'shop',
        'metadata.uid': 'uid-1',
        'status.podIP': '10.1.2.3',
      };
      const env = Object.fromEntries(
        (c.env as { name: string; value?: string; valueFrom?: { fieldRef: { fieldPath: string } } }[]).map((e) => [
          e.name,
          e.value ?? downward[e.valueFrom!.fieldRef.fieldPath],
        ]),
      );
      const cfg = readConfig(env);
      assert.deepEqual(cfg.pod, { name: 'web-1', namespace: 'shop', uid: 'uid-1' });
      assert.equal(cfg.policy, 'web');
      assert.equal(cfg.probe.port, probe.tcp ? 5432 : readinessProbe && 'grpc' in readinessProbe ? 9090 : 8080);
      assert.equal(cfg.healthPort, 9901);
      assert.equal(cfg.podIp, '10.1.2.3');
      if (readinessProbe && cfg.probe.type === 'http') {
        assert.equal(cfg.probe.scheme, 'https');
        assert.deepEqual(cfg.probe.headers, [{ name: 'Host', value: 'a.example' }]);
      }
      if (readinessProbe && 'grpc' in readinessProbe)
        assert.deepEqual(cfg.probe, { type: 'grpc', host: '127.0.0.1', port: 9090, service: 'shop' });
      assert.equal(cfg.probe.host, '127.0.0.1');
      assert.equal(cfg.probeIntervalMs, 5000);
      assert.equal(cfg.probeTimeoutMs, 1000);
      assert.equal(cfg.tokenPath, '/var/run/secrets/bulkhead/token');
      assert.equal(cfg.caPath, '/var/run/secrets/bulkhead/ca.crt');
      if (cfg.probe.type === 'http' && probe.http)
        assert.deepEqual(cfg.probe.expectStatus, [
          { min: 200, max: 200 },
          { min: 204, max: 204 },
        ]);
    });
  }
});
