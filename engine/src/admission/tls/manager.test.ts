import { strict as assert } from 'node:assert';
import { Registry } from 'prom-client';
import { createLogger, silentLogger } from '../../core/logger.js';
import { TlsManager } from './manager.js';
import { fingerprint, splitPem, type TlsMaterial, type TlsSettings } from './material.js';
import type { SecretStore, StoredMaterial } from './secret-store.js';

/** A Secret with resourceVersion semantics, in memory. */
class MemoryStore implements SecretStore {
  value: StoredMaterial | undefined;
  writes = 0;
  private v = 0;
  async read() {
    return this.value;
  }
  async create(m: TlsMaterial) {
    if (this.value) return undefined;
    this.writes++;
    return (this.value = { material: m, version: String(++this.v) });
  }
  async replace(m: TlsMaterial, version: string) {
    if (this.value?.version !== version) return undefined;
    this.writes++;
    return (this.value = { material: m, version: String(++this.v) });
  }
}

const settings: TlsSettings = {
  dnsNames: ['bulkhead.ns.svc'],
  ipAddresses: ['127.0.0.1'],
  caValidityMs: 3_600_000,
  servingValidityMs: 1_800_000,
  caOverlapMs: 1_000,
};

function replica(
  store: SecretStore,
  published: string[],
  loaded: string[],
  clock?: () => Date,
  registry?: Registry,
  isLeader?: () => boolean,
): TlsManager {
  return new TlsManager({
    ...(isLeader ? { isLeader } : {}),
    store,
    settings,
    logger: silentLogger(),
    onMaterial: (m) => loaded.push(fingerprint(m.serving.cert)),
    publishBundle: async (b) => void published.push(b),
    intervalMs: 3_600_000,
    ...(clock ? { clock } : {}),
    ...(registry ? { registry } : {}),
  });
}

describe('TlsManager', () => {
  it('two replicas: the first creates the Secret, the second loads the same cert', async () => {
    const store = new MemoryStore();
    const la: string[] = [];
    const lb: string[] = [];
    const a = replica(store, [], la);
    const b = replica(store, [], lb);
    await Promise.all([a.start(), b.start()]);
    a.stop();
    b.stop();
    assert.equal(store.writes, 1);
    assert.deepEqual(la, lb);
    assert.equal(la.length, 1);
  });

  it('a rotation by one replica reaches the other on its next pass; racing rotations make one write', async () => {
    const store = new MemoryStore();
    const la: string[] = [];
    const lb: string[] = [];
    const a = replica(store, [], la);
    const b = replica(store, [], lb);
    await a.start();
    await b.start();
    const writes = store.writes;
    await Promise.all([a.tick({ serving: true }), b.tick({ serving: true })]);
    await Promise.all([a.tick(), b.tick()]);
    assert.equal(store.writes - writes, 1, 'one replica won, the other re-read');
    assert.equal(a.material!.serving.cert, b.material!.serving.cert);
    assert.equal(la.at(-1), lb.at(-1));
    a.stop();
    b.stop();
  });

  it('publishes the bundle with the new CA before the Secret says to sign with it', async () => {
    const store = new MemoryStore();
    const published: string[] = [];
    let now = new Date();
    const registry = new Registry();
    const a = replica(store, published, [], () => now, registry);
    await a.start();
    await a.tick({ ca: true });
    const staged = a.material!;
    assert.ok(staged.next);
    assert.ok(published.includes(staged.bundle), 'staged bundle published');
    now = new Date(now.getTime() + 2_000);
    await a.tick();
    assert.equal(a.material!.ca.cert, staged.next.ca.cert, 'promoted after the overlap');
    const metrics = await registry.getSingleMetricAsString('bulkhead_admission_tls_rotations_total');
    assert.match(metrics, /step="ca-staged"} 1/);
    assert.match(metrics, /step="ca-promoted"} 1/);
    assert.match(await registry.getSingleMetricAsString('bulkhead_admission_tls_not_after_seconds'), /cert="serving"/);
    a.stop();
  });

  it('only the leader writes rotation steps; a follower loads them and publishes what the Secret holds', async () => {
    const store = new MemoryStore();
    const fromB: string[] = [];
    const lb: string[] = [];
    const a = replica(store, [], [], undefined, undefined, () => true);
    const b = replica(store, fromB, lb, undefined, undefined, () => false);
    await a.start();
    await b.start();
    const writes = store.writes;
    await b.tick({ serving: true, ca: true });
    assert.equal(store.writes, writes, 'the follower wrote nothing');
    await a.tick({ ca: true });
    await b.tick();
    assert.equal(b.material!.bundle, a.material!.bundle);
    assert.equal(fromB.at(-1), a.material!.bundle, 'the follower publishes the staged bundle it read');
    a.stop();
    b.stop();
  });

  it('a rotation requested on the Secret (the operator annotation) is staged by the leader and acknowledged by its write', async () => {
    const store = new MemoryStore();
    const a = replica(store, [], [], undefined, undefined, () => true);
    const b = replica(store, [], [], undefined, undefined, () => false);
    await a.start();
    await b.start();
    store.value = { ...store.value!, version: 'annotated', rotateCaRequested: true };
    await b.tick();
    assert.equal(store.value.material.next, undefined, 'a follower does not act on it');
    await a.tick();
    assert.ok(store.value.material.next, 'CA staged');
    assert.equal(store.value.rotateCaRequested, undefined, 'the write dropped the request');
    const staged = store.value.material.next;
    await a.tick();
    assert.equal(store.value.material.next, staged, 'one request, one rotation');
    a.stop();
    b.stop();
  });

  it('a requested step is judged, stored with the rotation, and kept by a leader elected mid-rotation', async () => {
    const store = new MemoryStore();
    let now = Date.now();
    const clock = (): Date => new Date(now);
    let leader: 'a' | 'b' = 'a';
    const lines: string[] = [];
    const logger = createLogger({ level: 'warn', destination: { write: (l: string) => void lines.push(l) } });
    const make = (name: 'a' | 'b'): TlsManager =>
      new TlsManager({
        store,
        settings: { ...settings, caOverlapMs: 600_000 },
        logger,
        isLeader: () => leader === name,
        onMaterial: () => {},
        publishBundle: async () => {},
        intervalMs: 3_600_000,
        clock,
      });
    const a = make('a');
    const b = make('b');
    await a.start();
    await b.start();
    // Asked for 10 s: below what propagation needs, so 90 s, and the log says why.
    store.value = { ...store.value!, version: 'annotated', rotateCaRequested: true, rotateCaStep: '10s' };
    await a.tick();
    const staged = store.value.material.next;
    assert.ok(staged, 'CA staged');
    assert.equal(store.value.material.stepMs, 90_000);
    assert.equal(store.value.rotateCaStep, undefined, 'the write dropped the step request too');
    assert.match(lines.join(''), /rotate-ca-step=10s is below the 90s floor/);

    now += 89_000;
    await a.tick();
    assert.equal(store.value.material.next, staged, 'not before the step');
    leader = 'b'; // failover: B never saw the annotation, only the Secret
    now += 2_000;
    await b.tick();
    assert.equal(store.value.material.next, undefined, 'promoted by the new leader at the stored step');
    assert.equal(store.value.material.ca.cert, staged.ca.cert);
    now += 91_000;
    await b.tick();
    assert.equal(store.value.material.retiring, undefined, 'retired one step later');
    assert.equal(store.value.material.stepMs, undefined);
    a.stop();
    b.stop();
  });

  it('a Secret deleted under running replicas is re-created by the leader from what it serves, with a new CA staged', async () => {
    const store = new MemoryStore();
    const la: string[] = [];
    const a = replica(store, [], la, undefined, undefined, () => true);
    const b = replica(store, [], [], undefined, undefined, () => false);
    await a.start();
    await b.start();
    const before = a.material!;
    store.value = undefined;
    await b.tick();
    assert.equal(store.value, undefined, 'the follower waits for the leader');
    assert.equal(b.material, before, 'and keeps serving');
    await a.tick();
    const now = store.value!.material;
    assert.equal(now.serving.cert, before.serving.cert, 'still serving the same cert: nothing loses trust');
    assert.equal(now.ca.cert, before.ca.cert);
    assert.ok(now.next, 'a new CA staged');
    assert.deepEqual(splitPem(now.bundle), [...splitPem(before.bundle), ...splitPem(now.next.ca.cert)]);
    assert.equal(la.length, 1, 'no reload');
    await b.tick();
    assert.equal(b.material!.bundle, now.bundle);
    a.stop();
    b.stop();
  });

  it('refresh() re-reads the Secret without rotating or publishing', async () => {
    const store = new MemoryStore();
    const published: string[] = [];
    const a = replica(store, [], [], undefined, undefined, () => true);
    const b = replica(store, published, [], undefined, undefined, () => false);
    await a.start();
    await b.start();
    const count = published.length;
    await a.tick({ ca: true });
    assert.equal((await b.refresh())!.bundle, a.material!.bundle);
    assert.equal(published.length, count);
    a.stop();
    b.stop();
  });

  it('keeps serving the loaded cert when the store fails, and counts the error', async () => {
    const store = new MemoryStore();
    const registry = new Registry();
    const a = replica(store, [], [], undefined, registry);
    const first = await a.start();
    store.read = async () => {
      throw new Error('apiserver down');
    };
    await a.tick({ serving: true });
    assert.equal(a.material, first);
    assert.match(await registry.getSingleMetricAsString('bulkhead_admission_tls_reconcile_errors_total'), / 1$/m);
    a.stop();
  });
});
