// Issue 13 point 4, the engine side of the sidecars' trust: the CA bundle reaches a namespace a
// policy selects as soon as the namespace appears (its watch event, not the next periodic
// pass: the timers here are an hour), and through a forced CA rotation with two replicas
// (only the leader rotates) every bundle a sidecar may still hold verifies what every replica
// serves: the one published before each step verifies the certs served after it.
import { strict as assert } from 'node:assert';
import { connect } from 'node:tls';
import { CoreV1Api } from '@kubernetes/client-node';
import type { InjectablePolicy } from '../../engine/src/admission/inject/policy.js';
import { splitPem } from '../../engine/src/admission/tls/material.js';
import { ROTATE_CA_ANNOTATION } from '../../engine/src/admission/tls/secret-store.js';
import { eventually, getCluster, newNamespace } from '../harness/index.js';
import { startTestAdmission, type TestAdmission } from './support/admission-harness.js';

const core = (): CoreV1Api => getCluster().kubeConfig().makeApiClient(CoreV1Api);

const caConfigMap = async (namespace: string): Promise<string | undefined> => {
  try {
    return (await core().readNamespacedConfigMap({ namespace, name: 'bulkhead-ca' })).data?.['ca.crt'];
  } catch (e) {
    if ((e as { code?: number }).code === 404) return undefined;
    throw e;
  }
};

/** Whether a client trusting exactly `bundle` completes a verified TLS handshake with the replica on `port`. */
function verifies(port: number, bundle: string): Promise<string | true> {
  return new Promise((ok) => {
    const sock = connect({ host: '127.0.0.1', port, ca: bundle }, () => {
      sock.end();
      ok(true);
    });
    sock.on('error', (err: NodeJS.ErrnoException) => ok(err.code ?? err.message));
  });
}

describe('admission: the CA bundle for sidecars, published on namespace events and overlapped through a rotation', () => {
  let engineNs: string;
  let a: TestAdmission;
  let b: TestAdmission;
  const label = `ca-publish-${Date.now().toString(36)}`;

  before(async () => {
    engineNs = await newNamespace('bh-ca-engine');
    const policies: InjectablePolicy[] = [
      {
        metadata: { name: 'by-label' },
        spec: {
          match: { namespaceSelector: { matchLabels: { 'bulkhead-test': label } } },
          probe: { tcp: { port: 8080 } },
        },
      },
    ];
    // Neither replica ticks by itself within the test (an hour): only events and forced ticks act.
    // The webhooks are registered (by A) but select only namespaces carrying this run's label.
    a = await startTestAdmission({
      engineNamespace: engineNs,
      policies,
      tls: { intervalMs: 3_600_000, caOverlapMs: 2_000 },
      isLeader: () => true,
    });
    b = await startTestAdmission({
      engineNamespace: engineNs,
      policies,
      names: a.names,
      register: false,
      tls: { intervalMs: 3_600_000, caOverlapMs: 2_000 },
      isLeader: () => false,
    });
  });
  after(async () => {
    await b?.stop();
    // Deletes the webhook configurations A registered: nothing cluster-scoped is left behind.
    await a?.cleanup();
  });

  it('a namespace created with a selected label, or labelled later, gets bulkhead-ca at once; others never', async () => {
    const t0 = Date.now();
    const created = await newNamespace('ca-new', { 'bulkhead-test': label });
    await eventually(async () => assert.equal(await caConfigMap(created), a.rt.tls.material!.bundle), {
      what: 'bulkhead-ca in the new namespace',
      timeoutMs: 10_000,
      intervalMs: 100,
    });
    const createdMs = Date.now() - t0;

    const later = await newNamespace('ca-later');
    const plain = await newNamespace('ca-plain');
    await core().patchNamespace({
      name: later,
      body: [{ op: 'add', path: '/metadata/labels/bulkhead-test', value: label }],
    });
    await eventually(async () => assert.equal(await caConfigMap(later), a.rt.tls.material!.bundle), {
      what: 'bulkhead-ca in the namespace labelled into the selector',
      timeoutMs: 10_000,
      intervalMs: 100,
    });
    assert.equal(await caConfigMap(plain), undefined, 'a namespace no policy selects gets nothing');
    assert.ok(createdMs < 10_000, `published ${createdMs} ms after the namespace was created (timers: 1 h)`);
  });

  it('a rotation forced by the Secret annotation: each published bundle verifies what both replicas serve next', async () => {
    const ns = await newNamespace('ca-rotate', { 'bulkhead-test': label });
    await eventually(async () => assert.ok(await caConfigMap(ns)), { what: 'bulkhead-ca published' });
    // What a sidecar may hold at each moment: the bundle published before and after each step.
    const held: string[] = [(await caConfigMap(ns))!];
    const bothVerify = async (bundle: string, what: string): Promise<void> => {
      for (const [name, r] of [
        ['A', a],
        ['B', b],
      ] as const)
        assert.equal(await verifies(r.rt.port, bundle), true, `${what}: replica ${name}`);
    };
    const step = async (what: string, expectCerts: number): Promise<void> => {
      await b.rt.tls.tick();
      const published = await eventually(
        async () => {
          const cm = await caConfigMap(ns);
          assert.equal(cm, a.rt.tls.material!.bundle, 'ConfigMap is the leader bundle');
          return cm!;
        },
        { what: `${what}: bundle published` },
      );
      assert.equal(splitPem(published).length, expectCerts, what);
      // A sidecar that has not re-read yet holds the previous bundle; one that has, this one.
      await bothVerify(held.at(-1)!, `${what}, previous bundle`);
      await bothVerify(published, `${what}, this bundle`);
      held.push(published);
    };

    await bothVerify(held[0]!, 'before');
    const secretName = 'bulkhead-webhook-tls';
    await core().patchNamespacedSecret({
      namespace: engineNs,
      name: secretName,
      body: [{ op: 'add', path: '/metadata/annotations', value: { [ROTATE_CA_ANNOTATION]: 'now' } }],
    });
    // The follower does not act on the request; the leader does, and its write acknowledges it.
    await b.rt.tls.tick();
    assert.equal(b.rt.tls.material!.next, undefined);
    await a.rt.tls.tick();
    assert.ok(a.rt.tls.material!.next, 'CA staged by the leader');
    const secret = await core().readNamespacedSecret({ namespace: engineNs, name: secretName });
    assert.equal(secret.metadata?.annotations?.[ROTATE_CA_ANNOTATION], undefined, 'request acknowledged');
    await step('staged', 2);

    await new Promise((ok) => setTimeout(ok, 2_100)); // the overlap
    await a.rt.tls.tick();
    assert.equal(a.rt.tls.material!.next, undefined, 'promoted');
    assert.ok(a.rt.tls.material!.retiring);
    // B still serves the old CA's cert until its tick inside step(): both bundles cover both.
    await step('promoted', 2);

    await new Promise((ok) => setTimeout(ok, 2_100));
    await a.rt.tls.tick();
    assert.equal(a.rt.tls.material!.retiring, undefined, 'old CA retired');
    await step('retired', 1);
    assert.notEqual(await verifies(a.rt.port, held[0]!), true, 'the original CA alone is no longer enough');
    assert.equal(a.rt.tls.rotations, 3);
    assert.equal(b.rt.tls.rotations, 0);
  });
});
