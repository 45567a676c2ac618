import { strict as assert } from 'node:assert';
// The other side of the contract: the sidecar's own config reader.
import { ENV, readConfig } from '../../../sidecar/src/config.js';
import { applyJsonPatch } from '../../../test/harness/json-patch.js';
import { decideInjection, type PodLike } from './inject/patch.js';
import { PolicyIndex } from './inject/policy-index.js';
import type { InjectablePolicy } from './inject/policy.js';
import { SIDECAR_CONTAINER_NAME, SIDECAR_ENV } from './sidecar-env.js';

describe('sidecar env contract', () => {
  it('every name the webhook sets is one the sidecar reads', () => {
    const sidecarNames = new Set<string>(Object.values(ENV));
    for (const name of Object.values(SIDECAR_ENV)) assert.ok(sidecarNames.has(name), `${name} unknown to the sidecar`);
  });

  const probes: InjectablePolicy['spec']['probe'][] = [
    { http: { path: '/healthz', port: 'http' }, expectStatus: [200, 204] },
    { tcp: { port: 5432 } },
  ];
  for (const probe of probes) {
    it(`the env an injected pod gets is a valid sidecar config (${probe.http ? 'http' : 'tcp'})`, () => {
      const pod: PodLike = {
        metadata: { name: 'web-1', namespace: 'shop' },
        spec: { containers: [{ name: 'app', ports: [{ name: 'http', containerPort: 8080 }] }] },
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
      const c = injected.spec!.containers!.find((x) => x.name === SIDECAR_CONTAINER_NAME)!;
      // What the kubelet would resolve from the downward API.
      const downward: Record<string, string> = {
        'metadata.name': 'web-1',
        'metadata.namespace': 'shop',
        'metadata.uid': 'uid-1',
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
      assert.equal(cfg.probe.port, probe.http ? 8080 : 5432);
      assert.equal(cfg.probe.host, '127.0.0.1');
      assert.equal(cfg.probeIntervalMs, 5000);
      assert.equal(cfg.probeTimeoutMs, 1000);
      assert.equal(cfg.tokenPath, '/var/run/secrets/bulkhead/token');
      assert.equal(cfg.caPath, '/var/run/secrets/bulkhead/ca.crt');
      if (cfg.probe.type === 'http')
        assert.deepEqual(cfg.probe.expectStatus, [
          { min: 200, max: 200 },
          { min: 204, max: 204 },
        ]);
    });
  }
});
