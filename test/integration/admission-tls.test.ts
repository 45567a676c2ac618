// Issue 5, self-managed TLS: the serving cert and the CA rotate while the apiserver streams pod
// creations through the webhook, with no failed admission; two replicas share one Secret and
// both serve whatever it holds, reloaded without a restart.
import { strict as assert } from 'node:assert';
import { X509Certificate } from 'node:crypto';
import { request } from 'node:https';
import { connect } from 'node:tls';
import { AdmissionregistrationV1Api, CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import type { InjectablePolicy } from '../../engine/src/admission/inject/policy.js';
import { splitPem } from '../../engine/src/admission/tls/material.js';
import { eventually, getCluster, newNamespace } from '../harness/index.js';
import {
  hasSidecar,
  simplePod,
  startTestAdmission,
  waitUntilInjecting,
  type TestAdmission,
} from './support/admission-harness.js';

/** The certificate a replica presents on a fresh TLS connection. */
function servedFingerprint(port: number): Promise<string> {
  return new Promise((ok, fail) => {
    const sock = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      const fp = sock.getPeerCertificate().fingerprint256;
      sock.end();
      ok(fp);
    });
    sock.on('error', fail);
  });
}

const fp = (pem: string): string => new X509Certificate(pem).fingerprint256;

/** The apiserver's own count of webhook calls that failed open (series exist only after a failure). */
async function apiserverFailOpen(webhookNames: string[]): Promise<number> {
  const kc = getCluster().kubeConfig();
  const url = new URL('/metrics', getCluster().server);
  const opts: Parameters<typeof request>[1] = {
    method: 'GET',
    hostname: url.hostname,
    port: url.port,
    path: url.pathname,
  };
  await kc.applyToHTTPSOptions(opts);
  const text = await new Promise<string>((ok, fail) => {
    const req = request(opts, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => ok(body));
    });
    req.on('error', fail);
    req.end();
  });
  return text
    .split('\n')
    .filter(
      (l) =>
        l.startsWith('apiserver_admission_webhook_fail_open_count') &&
        webhookNames.some((n) => l.includes(`name="${n}"`)),
    )
    .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
}

describe('admission: TLS rotation under load, two replicas sharing the Secret', () => {
  let engineNs: string;
  let shop: string;
  let a: TestAdmission;
  let b: TestAdmission;

  before(async () => {
    engineNs = await newNamespace('bh-engine');
    shop = await newNamespace('tls-shop');
    const policies: InjectablePolicy[] = [
      { metadata: { name: 'shop' }, spec: { match: { namespaces: [shop] }, probe: { tcp: { port: 8080 } } } },
    ];
    // Replica A serves the apiserver and leads: it rotates (its timer is slow; ticks are forced).
    a = await startTestAdmission({
      engineNamespace: engineNs,
      policies,
      tls: { intervalMs: 3_600_000, caOverlapMs: 3_000 },
      isLeader: () => true,
    });
    // Replica B follows: it shares the Secret and re-reads it every 300 ms.
    b = await startTestAdmission({
      engineNamespace: engineNs,
      policies,
      names: a.names,
      register: false,
      tls: { intervalMs: 300, caOverlapMs: 3_000 },
      isLeader: () => false,
    });
    await waitUntilInjecting(getCluster().kubeConfig().makeApiClient(CoreV1Api), shop);
  });
  after(async () => {
    await b?.stop();
    await a?.cleanup();
  });

  it('both replicas serve the one cert from the shared Secret', async () => {
    assert.equal(fp(a.rt.tls.material!.serving.cert), fp(b.rt.tls.material!.serving.cert));
    assert.equal(await servedFingerprint(a.rt.port), await servedFingerprint(b.rt.port));
    const secret = await getCluster()
      .kubeConfig()
      .makeApiClient(CoreV1Api)
      .readNamespacedSecret({ namespace: engineNs, name: 'bulkhead-webhook-tls' });
    assert.equal(secret.type, 'kubernetes.io/tls');
    const san = new X509Certificate(Buffer.from(secret.data!['tls.crt']!, 'base64')).subjectAltName ?? '';
    assert.match(san, /DNS:bulkhead\./);
    assert.match(san, /IP Address:127\.0\.0\.1/);
  });

  it('rotates the serving cert, then the CA, during a stream of pod creations with no failed admission', async () => {
    const core = getCluster().kubeConfig().makeApiClient(CoreV1Api);
    const pods: V1Pod[] = [];
    const errors: unknown[] = [];
    let streaming = true;
    const worker = async (): Promise<void> => {
      while (streaming) {
        try {
          pods.push(
            await core.createNamespacedPod({
              namespace: shop,
              body: { ...simplePod('x'), metadata: { generateName: 'stream-' } },
            }),
          );
        } catch (err) {
          errors.push(err);
        }
      }
    };
    const webhookNames = (
      (
        await getCluster()
          .kubeConfig()
          .makeApiClient(AdmissionregistrationV1Api)
          .readMutatingWebhookConfiguration({ name: a.names.mutating })
      ).webhooks ?? []
    ).map((w) => w.name);
    const failOpenBefore = await apiserverFailOpen(webhookNames);
    const workers = [worker(), worker()];
    const atLeast = (n: number): Promise<void> =>
      eventually(() => assert.ok(pods.length >= n, `${pods.length} pods`), {
        what: `${n} pods streamed`,
        timeoutMs: 30_000,
      });
    const caBundle = async (): Promise<string> =>
      Buffer.from(
        (
          await getCluster()
            .kubeConfig()
            .makeApiClient(AdmissionregistrationV1Api)
            .readMutatingWebhookConfiguration({ name: a.names.mutating })
        ).webhooks![0]!.clientConfig.caBundle!,
        'base64',
      ).toString();

    try {
      await atLeast(10);
      const original = a.rt.tls.material!;

      // 1. Serving cert re-issued from the same CA: A reloads at once, B on its next read.
      await a.rt.tls.tick({ serving: true });
      const reissued = a.rt.tls.material!;
      assert.notEqual(fp(reissued.serving.cert), fp(original.serving.cert));
      assert.equal(
        await servedFingerprint(a.rt.port),
        fp(reissued.serving.cert),
        'A serves the new cert without a restart',
      );
      await eventually(async () => assert.equal(await servedFingerprint(b.rt.port), fp(reissued.serving.cert)), {
        what: 'B reloaded',
      });
      const mark1 = pods.length;
      await atLeast(mark1 + 10);

      // 2. New CA staged: trusted first (caBundle has both), still serving the old cert.
      await a.rt.tls.tick({ ca: true });
      const staged = a.rt.tls.material!;
      assert.ok(staged.next, 'next CA staged');
      // B may publish the bundle it read just before the write once more; its next pass corrects it.
      await eventually(async () => assert.equal(splitPem(await caBundle()).length, 2), {
        what: 'caBundle trusts both CAs',
      });
      assert.equal(await servedFingerprint(a.rt.port), fp(reissued.serving.cert));
      await eventually(
        async () => {
          const cm = await core.readNamespacedConfigMap({ namespace: shop, name: 'bulkhead-ca' });
          assert.equal(splitPem(cm.data!['ca.crt']!).length, 2);
        },
        { what: 'sidecars see the staged CA in bulkhead-ca' },
      );
      const mark2 = pods.length;
      await atLeast(mark2 + 10);

      // 3. After the overlap the new CA signs; the apiserver already trusts it.
      await eventually(
        async () => {
          await a.rt.tls.tick();
          assert.equal(a.rt.tls.material!.next, undefined, 'promoted');
        },
        { what: 'CA promoted after the overlap', timeoutMs: 15_000, intervalMs: 500 },
      );
      const promoted = a.rt.tls.material!;
      assert.equal(fp(promoted.ca.cert), fp(staged.next!.ca.cert));
      assert.ok(new X509Certificate(promoted.serving.cert).verify(new X509Certificate(promoted.ca.cert).publicKey));
      assert.equal(await servedFingerprint(a.rt.port), fp(promoted.serving.cert));
      await eventually(async () => assert.equal(await servedFingerprint(b.rt.port), fp(promoted.serving.cert)), {
        what: 'B serves the promoted cert',
      });
      const mark3 = pods.length;
      await atLeast(mark3 + 10);
    } finally {
      streaming = false;
      await Promise.all(workers);
    }

    assert.deepEqual(errors, [], 'every pod create succeeded');
    const missing = pods.filter((p) => !hasSidecar(p)).map((p) => p.metadata!.name);
    assert.deepEqual(
      missing,
      [],
      `all ${pods.length} pods were admitted by the webhook (failurePolicy Ignore would hide a failure; the sidecar shows none happened)`,
    );
    // Three rotation steps in all, each written by the leader; the follower only loaded them.
    assert.equal(a.rt.tls.rotations, 3);
    assert.equal(b.rt.tls.rotations, 0);
    assert.equal(
      (await apiserverFailOpen(webhookNames)) - failOpenBefore,
      0,
      'the apiserver recorded no failed call of this webhook',
    );
    const outcomes = a.logs.filter((l) => l.msg === 'admission').map((l) => l.outcome);
    assert.ok(!outcomes.includes('error'));
  });
});
