import { strict as assert } from 'node:assert';
import { X509Certificate } from 'node:crypto';
import { createMaterial, notAfter, rotate, splitPem, type TlsSettings } from './material.js';
import { fromSecretData, toSecretData } from './secret-store.js';

const MIN = 60_000;
const settings: TlsSettings = {
  dnsNames: ['bulkhead.bulkhead-system.svc'],
  ipAddresses: ['127.0.0.1'],
  caValidityMs: 60 * MIN,
  servingValidityMs: 15 * MIN,
  caOverlapMs: 2 * MIN,
};
const at = (t0: Date, minutes: number): Date => new Date(t0.getTime() + minutes * MIN);
const verifies = (cert: string, ca: string): boolean =>
  new X509Certificate(cert).verify(new X509Certificate(ca).publicKey);

describe('webhook TLS material', () => {
  it('creates a CA and a serving cert with the Service names and 127.0.0.1', async () => {
    const m = await createMaterial(settings, new Date());
    const san = new X509Certificate(m.serving.cert).subjectAltName ?? '';
    assert.match(san, /DNS:bulkhead\.bulkhead-system\.svc/);
    assert.match(san, /IP Address:127\.0\.0\.1/);
    assert.ok(verifies(m.serving.cert, m.ca.cert));
    assert.deepEqual(splitPem(m.bundle), [m.ca.cert.endsWith('\n') ? m.ca.cert : `${m.ca.cert}\n`]);
  });

  it('does nothing while nothing is due', async () => {
    const t0 = new Date();
    const m = await createMaterial(settings, t0);
    const r = await rotate(m, settings, at(t0, 1));
    assert.deepEqual(r.steps, []);
    assert.equal(r.material, m);
  });

  it('re-issues the serving cert from the same CA before it expires (caBundle unchanged)', async () => {
    const t0 = new Date();
    const m = await createMaterial(settings, t0);
    const r = await rotate(m, settings, at(t0, 11));
    assert.deepEqual(r.steps, ['serving-reissued']);
    assert.equal(r.material.bundle, m.bundle);
    assert.notEqual(r.material.serving.cert, m.serving.cert);
    assert.ok(verifies(r.material.serving.cert, m.ca.cert));
    assert.ok(notAfter(r.material.serving.cert) > notAfter(m.serving.cert));
  });

  it('rotates the CA in two steps: trust the new one first, sign with it only after the overlap', async () => {
    const t0 = new Date();
    const m = await createMaterial(settings, t0);
    const staged = await rotate(m, settings, at(t0, 41));
    assert.deepEqual(staged.steps, ['ca-staged']);
    const next = staged.material.next!.ca;
    assert.equal(splitPem(staged.material.bundle).length, 2, 'bundle trusts old and new CA');
    assert.equal(staged.material.serving.cert, m.serving.cert, 'still serving the old cert');

    const early = await rotate(staged.material, settings, at(t0, 42));
    assert.ok(!early.steps.includes('ca-promoted'), 'not before the overlap');

    const promoted = await rotate(staged.material, settings, at(t0, 43.5));
    assert.deepEqual(promoted.steps, ['ca-promoted']);
    assert.equal(promoted.material.ca.cert, next.cert);
    assert.ok(verifies(promoted.material.serving.cert, next.cert));
    assert.equal(promoted.material.next, undefined);
    assert.equal(splitPem(promoted.material.bundle).length, 2, 'old CA still trusted: a replica may serve its cert');

    const kept = await rotate(promoted.material, settings, at(t0, 44.5));
    assert.deepEqual(kept.steps, [], 'not retired before another overlap');
    const retired = await rotate(promoted.material, settings, at(t0, 45.6));
    assert.deepEqual(retired.steps, ['ca-retired']);
    assert.deepEqual(splitPem(retired.material.bundle), splitPem(next.cert), 'only the new CA is trusted');
    assert.equal(retired.material.retiring, undefined);
    assert.equal(retired.material.serving.cert, promoted.material.serving.cert);
  });

  it('a CA staged while the previous one is still retiring keeps the signing and the staged CA at retirement', async () => {
    const t0 = new Date();
    const first = await createMaterial(settings, t0);
    const staged = await rotate(first, settings, t0, { ca: true });
    const promoted = await rotate(staged.material, settings, at(t0, 2));
    const again = await rotate(promoted.material, settings, at(t0, 2.5), { ca: true });
    assert.deepEqual(again.steps, ['ca-staged']);
    assert.equal(splitPem(again.material.bundle).length, 3, 'first, current and next');
    // The next due step is the second promotion, which starts a new retirement.
    const second = await rotate(again.material, settings, at(t0, 4.6));
    assert.deepEqual(second.steps, ['ca-promoted']);
    const retired = await rotate(second.material, settings, at(t0, 6.7));
    assert.deepEqual(retired.steps, ['ca-retired']);
    assert.deepEqual(splitPem(retired.material.bundle), splitPem(again.material.next!.ca.cert));
  });

  it('re-issues when the SANs change', async () => {
    const t0 = new Date();
    const m = await createMaterial(settings, t0);
    const r = await rotate(m, { ...settings, ipAddresses: ['127.0.0.1', '10.0.0.5'] }, at(t0, 1));
    assert.deepEqual(r.steps, ['sans-changed']);
  });

  it('round-trips through Secret data, including a staged CA and a retiring one', async () => {
    const t0 = new Date();
    const staged = (await rotate(await createMaterial(settings, t0), settings, t0, { ca: true })).material;
    assert.deepEqual(fromSecretData(toSecretData(staged)), staged);
    const promoted = (await rotate(staged, settings, at(t0, 3))).material;
    assert.ok(promoted.retiring);
    assert.deepEqual(fromSecretData(toSecretData(promoted)), promoted);
    assert.equal(fromSecretData({}), undefined);
  });
  it("a forced rotation's own step (stored with the material) times promotion and retirement, then is dropped", async () => {
    const t0 = new Date();
    // The default overlap here is 2 min; the operator asked for 5 min.
    const staged = await rotate(await createMaterial(settings, t0), settings, t0, { ca: true, caStepMs: 5 * MIN });
    assert.equal(staged.material.stepMs, 5 * MIN);
    assert.deepEqual(fromSecretData(toSecretData(staged.material)), staged.material, 'the step travels in the Secret');
    assert.deepEqual((await rotate(staged.material, settings, at(t0, 4.9))).steps, [], 'not at the default overlap');
    const promoted = await rotate(staged.material, settings, at(t0, 5));
    assert.deepEqual(promoted.steps, ['ca-promoted']);
    assert.equal(promoted.material.stepMs, 5 * MIN, 'kept for the retirement');
    assert.deepEqual((await rotate(promoted.material, settings, at(t0, 9.9))).steps, []);
    const retired = await rotate(promoted.material, settings, at(t0, 10));
    assert.deepEqual(retired.steps, ['ca-retired']);
    assert.equal(retired.material.stepMs, undefined, 'the next rotation uses the default again');
    // A rotation staged on expiry (not forced) never inherits a step.
    const scheduled = await rotate(retired.material, settings, at(t0, 41), { caStepMs: 5 * MIN });
    assert.deepEqual(scheduled.steps, ['ca-staged'], 'the CA nears its expiry');
    assert.equal(scheduled.material.stepMs, undefined);
  });

  it('a step in the Secret outside the bounds (a hand edit) is ignored: the default applies', async () => {
    const m = await createMaterial(settings, new Date());
    for (const bad of ['1000', 'abc', String(25 * 60 * MIN)]) {
      const data = { ...toSecretData(m), 'ca-rotation-step.ms': Buffer.from(bad).toString('base64') };
      assert.equal(fromSecretData(data)?.stepMs, undefined, bad);
    }
  });
});
