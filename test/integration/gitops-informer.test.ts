// The informer wrapper restarts client-node's informer after errors (which it does not do
// itself): watching a resource that is not served yet fails, backs off, and picks the objects
// up once its CRD is installed; every step is counted.
import { strict as assert } from 'node:assert';
import { Registry } from 'prom-client';
import { KubeClient } from '../../engine/src/core/kube/client.js';
import { watchResource } from '../../engine/src/core/kube/informer.js';
import { createKubeMetrics } from '../../engine/src/core/kube/metrics.js';
import { silentLogger } from '../../engine/src/core/logger.js';
import { eventually, getCluster, newNamespace, waitEstablished } from '../harness/index.js';

describe('informer wrapper (restart with backoff)', function () {
  this.timeout(60_000);
  it('recovers from a failing list once the resource is served, and counts the restarts', async () => {
    const ns = await newNamespace('informer');
    const group = `${ns}.test.bulkhead.dev`;
    const client = new KubeClient(getCluster().kubeConfig());
    const registry = new Registry();
    const metrics = createKubeMetrics(registry);
    const seen: string[] = [];
    const w = watchResource<{ metadata: { name: string } }>({
      client,
      path: `/apis/${group}/v1/gadgets`,
      resource: 'gadgets',
      logger: silentLogger(),
      metrics,
      backoff: { baseMs: 100, capMs: 500 },
      onEvent: (ev, obj) => seen.push(`${ev}:${obj.metadata.name}`),
    });
    try {
      await eventually(
        async () => {
          const errors =
            (await metrics.watchLifecycle.get()).values.find((v) => v.labels.event === 'error')?.value ?? 0;
          assert.ok(errors >= 2, `errors ${errors}`);
        },
        { what: 'failing lists retried' },
      );
      await client.request({
        method: 'POST',
        path: '/apis/apiextensions.k8s.io/v1/customresourcedefinitions',
        body: {
          apiVersion: 'apiextensions.k8s.io/v1',
          kind: 'CustomResourceDefinition',
          metadata: { name: `gadgets.${group}` },
          spec: {
            group,
            scope: 'Cluster',
            names: { plural: 'gadgets', singular: 'gadget', kind: 'Gadget' },
            versions: [
              {
                name: 'v1',
                served: true,
                storage: true,
                schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
              },
            ],
          },
        },
      });
      await waitEstablished(getCluster().kubeConfig(), `gadgets.${group}`);
      await eventually(
        () =>
          client.request({
            method: 'POST',
            path: `/apis/${group}/v1/gadgets`,
            body: { apiVersion: `${group}/v1`, kind: 'Gadget', metadata: { name: 'g1' } },
          }),
        { what: 'gadget created' },
      );
      await eventually(() => assert.ok(seen.includes('add:g1'), JSON.stringify(seen)), {
        what: 'informer saw the object',
      });
      await w.synced;
      const restarts =
        (await metrics.watchLifecycle.get()).values.find((v) => v.labels.event === 'restart')?.value ?? 0;
      assert.ok(restarts >= 2, `restarts ${restarts}`);
    } finally {
      await w.stop();
      await client
        .request({ method: 'DELETE', path: `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gadgets.${group}` })
        .catch(() => {});
      client.close();
    }
  });
});
