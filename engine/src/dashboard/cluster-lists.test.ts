import { strict as assert } from 'node:assert';
import { KubeApiError } from '../core/kube/client.js';
import { describeListError, Memo } from './cluster-lists.js';

describe('dashboard cluster reads', () => {
  it('one load shared by every caller within the ttl; reloaded after it', async () => {
    let t = 0;
    let loads = 0;
    const m = new Memo(
      async () => ++loads,
      1000,
      () => t,
    );
    assert.deepEqual(await Promise.all([m.get(), m.get(), m.get()]), [1, 1, 1]);
    t = 999;
    assert.equal(await m.get(), 1);
    t = 1000;
    assert.equal(await m.get(), 2);
  });

  it('a load still running is joined even past the ttl (a hung apiserver never piles up reads)', async () => {
    let t = 0;
    let loads = 0;
    let release: (v: number) => void = () => undefined;
    const m = new Memo(
      () => {
        loads++;
        return new Promise<number>((ok) => (release = ok));
      },
      1000,
      () => t,
    );
    const first = m.get();
    t = 60_000;
    const second = m.get();
    assert.equal(loads, 1);
    release(7);
    assert.deepEqual(await Promise.all([first, second]), [7, 7]);
    assert.equal(await m.get(), 7, 'settled at t=60 s: fresh for another ttl');
    assert.equal(loads, 1);
  });

  it('a failed load is not cached', async () => {
    let fail = true;
    const m = new Memo(
      async () => {
        if (fail) throw new Error('down');
        return 'ok';
      },
      60_000,
      () => 0,
    );
    await assert.rejects(m.get(), /down/);
    fail = false;
    assert.equal(await m.get(), 'ok');
  });

  it('adaptive ttl: an expensive load is redone at most every factor × its cost', async () => {
    const m = new Memo(
      async () => {
        const until = performance.now() + 20;
        while (performance.now() < until) {
          /* 20 ms of work */
        }
        return 1;
      },
      10,
      () => 0,
      10,
    );
    await m.get();
    assert.ok(m.ttl >= 200, `ttl ${m.ttl}`);
  });

  it('explains a failed list in words an operator can act on', () => {
    assert.match(
      describeListError('quarantines', new KubeApiError(403, { message: 'no' }, 'GET', '/x')),
      /may not list quarantines\.bulkhead\.dev \(RBAC\)/,
    );
    assert.match(
      describeListError('policysources', new KubeApiError(404, {}, 'GET', '/x')),
      /not served \(CRD not installed\?\)/,
    );
    assert.match(
      describeListError('healthpolicies', new Error('ECONNREFUSED')),
      /listing healthpolicies: ECONNREFUSED/,
    );
  });
});
