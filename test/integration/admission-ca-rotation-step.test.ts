// ADR 1020, the operator-chosen step of a forced CA rotation (`bulkhead.dev/rotate-ca-step`),
// against a real apiserver with two replicas sharing the Secret: the leader reads the step with
// the request, stores it with the rotation, and a leader elected mid-rotation (which never saw
// the annotation) promotes and retires on that step, not the 10 min default. A step below the
// floor is clamped to it, and the leader's log says why. Both replicas share one clock the test
// moves (the step is minutes; the test takes seconds); no replica ticks by itself (an hour).
import { strict as assert } from 'node:assert';
import { CoreV1Api } from '@kubernetes/client-node';
import { DEFAULT_TLS_TIMING } from '../../engine/src/admission/tls/material.js';
import { MIN_CA_STEP_MS, ROTATE_CA_STEP_ANNOTATION } from '../../engine/src/admission/tls/rotation-step.js';
import { ROTATE_CA_ANNOTATION } from '../../engine/src/admission/tls/secret-store.js';
import { getCluster, newNamespace } from '../harness/index.js';
import { startTestAdmission, type TestAdmission } from './support/admission-harness.js';

const SECRET = 'bulkhead-webhook-tls';
const core = (): CoreV1Api => getCluster().kubeConfig().makeApiClient(CoreV1Api);

describe('admission: a forced CA rotation at the step the operator chose, with two replicas and a failover', () => {
  let engineNs: string;
  let a: TestAdmission;
  let b: TestAdmission;
  let leader: 'a' | 'b' = 'a';
  let offsetMs = 0;
  const clock = (): Date => new Date(Date.now() + offsetMs);

  const request = async (step: string): Promise<void> => {
    await core().patchNamespacedSecret({
      namespace: engineNs,
      name: SECRET,
      body: [
        {
          op: 'add',
          path: '/metadata/annotations',
          value: { [ROTATE_CA_ANNOTATION]: 'now', [ROTATE_CA_STEP_ANNOTATION]: step },
        },
      ],
    });
  };
  const stored = async (): Promise<{ annotations: Record<string, string>; data: Record<string, string> }> => {
    const s = await core().readNamespacedSecret({ namespace: engineNs, name: SECRET });
    return { annotations: s.metadata?.annotations ?? {}, data: s.data ?? {} };
  };
  const stepInSecret = async (): Promise<string | undefined> => {
    const v = (await stored()).data['ca-rotation-step.ms'];
    return v === undefined ? undefined : Buffer.from(v, 'base64').toString('utf8');
  };
  const ticks = async (): Promise<void> => {
    // The leader first, then the follower, as their passes would interleave.
    for (const r of leader === 'a' ? [a, b] : [b, a]) await r.rt.tls.tick();
  };

  before(async () => {
    engineNs = await newNamespace('bh-ca-step');
    // The default overlap as shipped (10 min): a rotation that ends in minutes ran on the step.
    const tls = { intervalMs: 3_600_000, caOverlapMs: DEFAULT_TLS_TIMING.caOverlapMs, clock };
    // Neither registers webhooks: their certs are issued on the moved clock (not yet valid for
    // the apiserver), and nothing cluster-scoped is needed to show the rotation's timing.
    a = await startTestAdmission({
      engineNamespace: engineNs,
      policies: [],
      register: false,
      tls,
      isLeader: () => leader === 'a',
    });
    b = await startTestAdmission({
      engineNamespace: engineNs,
      policies: [],
      names: a.names,
      register: false,
      tls,
      isLeader: () => leader === 'b',
    });
  });
  after(async () => {
    await b?.stop();
    await a?.stop();
  });

  it('rotate-ca-step=2m: staged with the step, promoted and retired 2 min apart by whichever replica leads', async () => {
    const original = a.rt.tls.material!.ca.cert;
    await request('2m');
    await ticks();
    const staged = a.rt.tls.material!.next;
    assert.ok(staged, 'CA staged by the leader');
    const s = await stored();
    assert.equal(s.annotations[ROTATE_CA_ANNOTATION], undefined, 'request acknowledged');
    assert.equal(s.annotations[ROTATE_CA_STEP_ANNOTATION], undefined, 'step request acknowledged');
    assert.equal(await stepInSecret(), '120000', 'the step is stored with the rotation');
    assert.equal(b.rt.tls.material!.stepMs, 120_000, 'the follower holds it too');

    offsetMs += 119_000;
    await ticks();
    assert.equal(a.rt.tls.material!.ca.cert, original, 'not promoted before the step');

    // Failover mid-rotation: B leads now; it knows the step only from the Secret.
    leader = 'b';
    offsetMs += 2_000;
    await ticks();
    assert.equal(b.rt.tls.material!.ca.cert, staged.ca.cert, 'promoted by the new leader at the stored step');
    assert.equal(a.rt.tls.material!.ca.cert, staged.ca.cert, 'the old leader follows');
    assert.ok(b.rt.tls.material!.retiring);

    offsetMs += 121_000;
    await ticks();
    assert.equal(b.rt.tls.material!.retiring, undefined, 'old CA retired one step after the promotion');
    assert.equal(await stepInSecret(), undefined, 'the step ends with the rotation');
    assert.ok(!b.rt.tls.material!.bundle.includes(original.trim()), 'the original CA is no longer trusted');
    assert.equal(a.rt.tls.material!.bundle, b.rt.tls.material!.bundle);
    assert.equal(a.rt.tls.rotations, 1, 'A staged');
    assert.equal(b.rt.tls.rotations, 2, 'B promoted and retired');
  });

  it('rotate-ca-step=10s: clamped to the floor, and the leader says why', async () => {
    const before = b.rt.tls.material!.ca.cert;
    await request('10s');
    await ticks();
    assert.ok(b.rt.tls.material!.next, 'staged');
    assert.equal(await stepInSecret(), String(MIN_CA_STEP_MS));
    const warning = b.logs.find((l) => l.msg.includes(`${ROTATE_CA_STEP_ANNOTATION}=10s is below the 90s floor`));
    assert.ok(warning, 'the clamp is logged');
    assert.equal(warning.level, 40);

    offsetMs += 11_000;
    await ticks();
    assert.equal(b.rt.tls.material!.ca.cert, before, 'not promoted at the 10 s asked for');
    offsetMs += MIN_CA_STEP_MS;
    await ticks();
    assert.notEqual(b.rt.tls.material!.ca.cert, before, 'promoted at the floor');
    // Finish the rotation so the Secret is left in its resting state.
    offsetMs += MIN_CA_STEP_MS + 1_000;
    await ticks();
    assert.equal(b.rt.tls.material!.retiring, undefined);
  });
});
