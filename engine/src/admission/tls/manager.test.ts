import { strict as assert } from 'node:assert';
import { Registry } from 'prom-client';
import { silentLogger } from '../../core/logger.js';
import { TlsManager } from './manager.js';
import { fingerprint, type TlsMaterial, type TlsSettings } from './material.js';
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
): TlsManager {
  return new TlsManager({
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
