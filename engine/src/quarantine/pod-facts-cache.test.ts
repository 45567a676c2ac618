import { strict as assert } from 'node:assert';
import type { PodObject } from '../analytics/index.js';
import { PodFactsCache, type PodKey } from './pod-facts-cache.js';

const pod = (name: string, uid: string, labels: Record<string, string> = {}): PodObject => ({
  metadata: { name, namespace: 'shop', uid, labels },
  spec: { nodeName: 'n1', containers: [{ image: 'shop:1' }] },
});
const key = (name: string, uid = `${name}-uid`): PodKey => ({ namespace: 'shop', name, uid });

/** A fake cluster: the pods by name, and how many reads each took. */
function cluster(pods: Record<string, PodObject>) {
  const reads = new Map<string, number>();
  return {
    pods,
    reads,
    read: async (p: PodKey) => {
      reads.set(p.name, (reads.get(p.name) ?? 0) + 1);
      return pods[p.name];
    },
  };
}

describe('PodFactsCache', () => {
  it('reads a pod once while its entry is fresh, again once it is older than the TTL', async () => {
    let t = 0;
    const c = cluster({ a: pod('a', 'a-uid', { app: 'shop' }) });
    const cache = new PodFactsCache({ read: c.read, now: () => new Date(t), ttlMs: 1000 });
    assert.deepEqual((await cache.get(key('a')))?.labels, { app: 'shop' });
    t = 999;
    await cache.get(key('a'));
    assert.equal(c.reads.get('a'), 1);
    c.pods.a = pod('a', 'a-uid', { app: 'shop', tier: 'web' });
    t = 1000;
    assert.deepEqual((await cache.get(key('a')))?.labels, { app: 'shop', tier: 'web' });
    assert.equal(c.reads.get('a'), 2);
  });

  it('has no facts for a pod replaced under the same name, nor for a gone one (and caches that too)', async () => {
    const c = cluster({ a: pod('a', 'new-uid') });
    const cache = new PodFactsCache({ read: c.read, now: () => new Date(0) });
    assert.equal(await cache.get(key('a', 'old-uid')), undefined);
    assert.equal(await cache.get(key('gone')), undefined);
    assert.equal(await cache.get(key('gone')), undefined);
    assert.equal(c.reads.get('gone'), 1);
  });

  it('keeps at most maxPods, dropping the entry read longest ago', async () => {
    let t = 0;
    const c = cluster({ a: pod('a', 'a-uid'), b: pod('b', 'b-uid'), d: pod('d', 'd-uid') });
    const cache = new PodFactsCache({ read: c.read, now: () => new Date(t), maxPods: 2, ttlMs: 10 });
    await cache.get(key('a'));
    await cache.get(key('b'));
    t = 20; // a is stale: read again, so it is now the newest entry and b the oldest
    await cache.get(key('a'));
    await cache.get(key('d'));
    assert.equal(cache.size, 2);
    t = 25;
    await cache.get(key('a'));
    await cache.get(key('d'));
    await cache.get(key('b'));
    assert.deepEqual(Object.fromEntries(c.reads), { a: 2, b: 2, d: 1 });
  });
});
