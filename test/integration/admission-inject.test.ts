// Issue 5, injection: the real kube-apiserver calls the engine's mutating webhook over TLS.
// Pods in matching namespaces are stored with the sidecar; others are untouched; the
// excluded namespaces never reach the webhook; with the engine stopped, pods still get created.
// Issue 17: the same file runs once per admission path against the same control plane; on the
// policy path the apiserver injects by the generated MutatingAdmissionPolicy, never calls the
// engine, and keeps injecting with the engine stopped or hung.
import { strict as assert } from 'node:assert';
import { createServer as createNetServer, type Socket } from 'node:net';
import { AdmissionregistrationV1Api, AppsV1Api, CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import type { InjectablePolicy } from '../../engine/src/admission/inject/policy.js';
import { eventually, getCluster, newNamespace } from '../harness/index.js';
import {
  hasSidecar,
  MODES,
  podUser,
  readAdmissionObject,
  SIDECAR,
  simplePod,
  startTestAdmission,
  waitUntilInjecting,
  type TestAdmission,
} from './support/admission-harness.js';

for (const mode of MODES)
  describe(`admission: sidecar injection through the real apiserver (${mode} path)`, () => {
    let engineNs: string;
    let shop: string;
    let pay: string;
    let plain: string;
    let hook: TestAdmission;
    let dev: CoreV1Api;
    const admin = (): CoreV1Api => getCluster().kubeConfig().makeApiClient(CoreV1Api);

    before(async () => {
      engineNs = await newNamespace('bh-engine');
      shop = await newNamespace('shop');
      pay = await newNamespace('pay', { team: 'payments' });
      plain = await newNamespace('plain');
      const policies: InjectablePolicy[] = [
        {
          metadata: { name: 'shop-web' },
          spec: { match: { namespaces: [shop] }, probe: { http: { path: '/healthz', port: 'http' }, interval: '5s' } },
        },
        {
          metadata: { name: 'shop-api' },
          spec: {
            match: { namespaces: [shop], selector: { matchLabels: { app: 'api' } } },
            probe: { tcp: { port: 8080 } },
          },
        },
        {
          metadata: { name: 'payments' },
          spec: { match: { namespaceSelector: { matchLabels: { team: 'payments' } } }, probe: { fromPod: true } },
        },
        // Asks for the excluded namespaces: the generator and the injector both refuse.
        {
          metadata: { name: 'greedy' },
          spec: { match: { namespaces: ['kube-system', 'kube-public', engineNs] }, probe: { tcp: { port: 1 } } },
        },
      ];
      hook = await startTestAdmission({ engineNamespace: engineNs, policies, mode });
      dev = await podUser(shop);
      await waitUntilInjecting(admin(), shop);
    });
    after(async () => {
      await hook?.cleanup();
    });

    it('stores a pod created by a plain user in a matching namespace with the sidecar', async () => {
      const created = await dev.createNamespacedPod({ namespace: shop, body: simplePod('web-1', { app: 'web' }) });
      const stored = await dev.readNamespacedPod({ namespace: shop, name: 'web-1' });
      for (const p of [created, stored]) {
        assert.deepEqual(
          p.spec!.containers.map((c) => c.name),
          ['app'],
        );
        // The apiserver stores the native sidecar as sent: an init container that keeps running.
        assert.deepEqual(
          p.spec!.initContainers!.map((c) => [c.name, c.restartPolicy]),
          [['bulkhead-sidecar', 'Always']],
        );
      }
      const sc = stored.spec!.initContainers![0]!;
      assert.equal(sc.image, SIDECAR.image);
      assert.deepEqual(sc.resources!.requests, sc.resources!.limits, 'requests = limits');
      assert.equal(sc.securityContext!.seccompProfile!.type, 'RuntimeDefault');
      assert.equal(sc.livenessProbe!.httpGet!.path, '/healthz');
      const env = Object.fromEntries((sc.env ?? []).map((e) => [e.name, e.value ?? e.valueFrom?.fieldRef?.fieldPath]));
      assert.equal(env.BULKHEAD_POLICY, 'shop-web');
      assert.equal(env.BULKHEAD_PROBE_PORT, '8080');
      assert.equal(env.BULKHEAD_PROBE_PATH, '/healthz');
      assert.equal(env.BULKHEAD_POD_UID, 'metadata.uid');
      assert.equal(env.BULKHEAD_REPORT_URL, SIDECAR.reportUrl);
      const vol = stored.spec!.volumes!.find((v) => v.name === 'bulkhead-identity')!;
      assert.equal(vol.projected!.sources![0]!.serviceAccountToken!.audience, 'bulkhead');
      assert.deepEqual(JSON.parse(stored.metadata!.annotations!['bulkhead.dev/injected']!), {
        policy: 'shop-web',
        sidecar: '0.1.0',
      });
      assert.equal(stored.metadata!.annotations!['bulkhead.dev/admission-path'], mode);
      const calledFor = hook.reviewsIn(shop).filter((l) => l.user === `system:serviceaccount:${shop}:dev`);
      if (mode === 'webhook')
        assert.ok(
          calledFor.some((l) => l.outcome === 'patched'),
          'the apiserver really called the webhook for this pod',
        );
      else assert.deepEqual(calledFor, [], 'the apiserver injected it itself: no call to the engine');
    });

    it('two policies matching one pod: one sidecar, the choice explained', async () => {
      const p = await dev.createNamespacedPod({ namespace: shop, body: simplePod('api-1', { app: 'api' }) });
      assert.equal(p.spec!.initContainers!.filter((c) => c.name === 'bulkhead-sidecar').length, 1);
      assert.equal(p.spec!.initContainers![0]!.env!.find((e) => e.name === 'BULKHEAD_POLICY')!.value, 'shop-api');
      assert.match(
        p.metadata!.annotations!['bulkhead.dev/injection-decision']!,
        /matched shop-api, shop-web; injected shop-api/,
      );
    });

    it('respects the opt-out annotation', async () => {
      const p = await dev.createNamespacedPod({
        namespace: shop,
        body: simplePod('opted-out', { app: 'web' }, { 'bulkhead.dev/inject': 'false' }),
      });
      assert.equal(hasSidecar(p), false);
      assert.equal(p.metadata!.annotations!['bulkhead.dev/injected'], undefined);
    });

    it('selects namespaces by label and takes the probe from the pod (fromPod)', async () => {
      const body = simplePod('ready-1');
      body.spec!.containers[0]!.readinessProbe = { httpGet: { path: '/ready', port: 'http' }, periodSeconds: 7 };
      const p = await eventually(
        async () => {
          const created = await admin().createNamespacedPod({
            namespace: pay,
            body: { ...body, metadata: { generateName: 'ready-' } },
          });
          assert.ok(hasSidecar(created), 'injected');
          return created;
        },
        { what: 'label-selected namespace injected' },
      );
      const env = Object.fromEntries(p.spec!.initContainers![0]!.env!.map((e) => [e.name, e.value]));
      assert.equal(env.BULKHEAD_POLICY, 'payments');
      assert.equal(env.BULKHEAD_PROBE_PATH, '/ready');
      assert.equal(env.BULKHEAD_PROBE_INTERVAL, '7s');
    });

    it('leaves a pod in a non-matching namespace unchanged, and the webhook is not even called', async () => {
      const p = await admin().createNamespacedPod({ namespace: plain, body: simplePod('plain-1', { app: 'web' }) });
      assert.equal(hasSidecar(p), false);
      assert.equal(hook.reviewsIn(plain).length, 0, 'namespaceSelector kept the apiserver from calling');
    });

    it('never receives kube-system, kube-public or engine-namespace pods, even when a policy names them', async () => {
      const api = admin();
      for (const ns of ['kube-system', 'kube-public', engineNs]) {
        const p = await api.createNamespacedPod({ namespace: ns, body: simplePod(`excluded-${Date.now()}`) });
        assert.equal(hasSidecar(p), false, ns);
        await api.deleteNamespacedPod({ namespace: ns, name: p.metadata!.name! });
      }
      // A pod created after them in a matching namespace is served, so the webhook was live throughout.
      assert.equal(
        hasSidecar(await dev.createNamespacedPod({ namespace: shop, body: simplePod('after-excluded') })),
        true,
      );
      for (const ns of ['kube-system', 'kube-public', engineNs])
        assert.equal(hook.reviewsIn(ns).length, 0, `requests for ${ns}`);
      const admission = getCluster().kubeConfig().makeApiClient(AdmissionregistrationV1Api);
      if (mode === 'webhook') {
        const cfg = await admission.readMutatingWebhookConfiguration({ name: hook.names.mutating });
        for (const w of cfg.webhooks ?? []) {
          assert.equal(w.failurePolicy, 'Ignore');
          assert.equal(w.timeoutSeconds, 5);
          assert.equal(w.sideEffects, 'None');
          assert.equal(w.reinvocationPolicy, 'IfNeeded');
        }
      } else {
        const policy = (await readAdmissionObject('MutatingAdmissionPolicy', hook.names.mutating)) as {
          spec: {
            failurePolicy: string;
            reinvocationPolicy: string;
            matchConstraints: { namespaceSelector: { matchExpressions: unknown[] } };
          };
        };
        assert.equal(policy.spec.failurePolicy, 'Ignore');
        assert.equal(policy.spec.reinvocationPolicy, 'IfNeeded');
        assert.deepEqual(policy.spec.matchConstraints.namespaceSelector.matchExpressions, [
          {
            key: 'kubernetes.io/metadata.name',
            operator: 'NotIn',
            values: ['kube-public', 'kube-system', engineNs].sort(),
          },
        ]);
        // Only one path is registered: no webhook configuration is left to call.
        await assert.rejects(
          admission.readMutatingWebhookConfiguration({ name: hook.names.mutating }),
          (e: unknown) => (e as { code?: number }).code === 404,
        );
      }
    });

    it('publishes the CA bundle (BULKHEAD_CA_PATH) as ConfigMap bulkhead-ca in selected namespaces only', async () => {
      const bundle = hook.rt.tls.material!.bundle;
      for (const ns of [shop, pay]) {
        const cm = await eventually(() => admin().readNamespacedConfigMap({ namespace: ns, name: 'bulkhead-ca' }), {
          what: `bulkhead-ca in ${ns}`,
        });
        assert.equal(cm.data?.['ca.crt'], bundle);
      }
      for (const ns of [plain, 'kube-system', engineNs]) {
        await assert.rejects(
          admin().readNamespacedConfigMap({ namespace: ns, name: 'bulkhead-ca' }),
          (e: unknown) => (e as { code?: number }).code === 404,
          ns,
        );
      }
    });

    it('injects pods a Deployment creates (the controller as the requester)', async () => {
      const labels = { app: 'web-deploy' };
      await getCluster()
        .kubeConfig()
        .makeApiClient(AppsV1Api)
        .createNamespacedDeployment({
          namespace: shop,
          body: {
            metadata: { name: 'web' },
            spec: {
              replicas: 2,
              selector: { matchLabels: labels },
              template: { metadata: { labels }, spec: simplePod('x').spec! },
            },
          },
        });
      await eventually(
        async () => {
          const pods = (await admin().listNamespacedPod({ namespace: shop, labelSelector: 'app=web-deploy' })).items;
          assert.equal(pods.length, 2);
          assert.ok(pods.every(hasSidecar), 'every replica injected');
        },
        { what: 'Deployment pods injected', timeoutMs: 30_000 },
      );
    });

    it(
      mode === 'webhook'
        ? 'fails open: with the engine stopped, pods are still created promptly (without the sidecar)'
        : 'with the engine stopped, pods are still created and still injected',
      async () => {
        await hook.stop();
        const p = await dev.createNamespacedPod({ namespace: shop, body: simplePod('while-down', { app: 'web' }) });
        const api = getCluster().kubeConfig().makeApiClient(AdmissionregistrationV1Api);
        if (mode === 'webhook') {
          assert.equal(hasSidecar(p), false);
          // The configuration is still registered (stopping never deletes it), and what bounds
          // the wait is its own: fail open (Ignore) after timeoutSeconds 5. How long the
          // apiserver takes is the bench's business, not an assertion here.
          const cfg = await api.readMutatingWebhookConfiguration({ name: hook.names.mutating });
          assert.ok((cfg.webhooks ?? []).length > 0);
          for (const w of cfg.webhooks ?? []) {
            assert.equal(w.failurePolicy, 'Ignore', w.name);
            assert.equal(w.timeoutSeconds, 5, w.name);
          }
        } else {
          assert.equal(hasSidecar(p), true, 'injected by the apiserver with no engine running');
          assert.equal(sidecarPolicy(p), 'shop-web');
          // Stopping never deletes the policy either.
          await readAdmissionObject('MutatingAdmissionPolicyBinding', hook.names.mutating);
        }
      },
    );

    it(
      mode === 'webhook'
        ? 'a hung engine delays pod creation by at most timeoutSeconds, then lets the pod through'
        : 'a hung engine is never asked: the pod is injected',
      async () => {
        // Something accepts connections on the webhook's port and never answers.
        const sockets: Socket[] = [];
        const hung = createNetServer((sock) => sockets.push(sock));
        await new Promise<void>((ok, fail) => {
          hung.once('error', fail);
          hung.listen(hook.rt.port, '127.0.0.1', ok);
        });
        try {
          const p = await dev.createNamespacedPod({ namespace: shop, body: simplePod('while-hung', { app: 'web' }) });
          if (mode === 'webhook') {
            // Called, never answered, and the pod was still created: the apiserver gave up on
            // the webhook (its timeoutSeconds, checked above) and let the pod through.
            assert.equal(hasSidecar(p), false);
            assert.ok(sockets.length > 0, 'the apiserver did call the hung webhook');
          } else {
            assert.equal(hasSidecar(p), true, 'injected without asking the engine');
            assert.equal(sockets.length, 0, 'the apiserver never connected to the engine');
          }
        } finally {
          for (const s of sockets) s.destroy();
          await new Promise((ok) => hung.close(ok));
        }
      },
    );
  });

const sidecarPolicy = (p: V1Pod): string | undefined =>
  p.spec?.initContainers?.find((c) => c.name === 'bulkhead-sidecar')?.env?.find((e) => e.name === 'BULKHEAD_POLICY')
    ?.value;
