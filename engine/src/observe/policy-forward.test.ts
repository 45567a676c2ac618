import { strict as assert } from 'node:assert';
import type { HealthPolicy } from '../core/api/index.js';
import { forwardTargetsOf, PolicyForwarding } from './policy-forward.js';
import type { HealthReport } from './report.js';

const policy = (name: string, forward: NonNullable<HealthPolicy['spec']['forward']>): HealthPolicy =>
  ({
    apiVersion: 'bulkhead.dev/v1alpha1',
    kind: 'HealthPolicy',
    metadata: { name },
    spec: { forward },
  }) as unknown as HealthPolicy;
const secrets: Record<string, string> = { 'analytics/token': 's3cret\n' };
const secret = (ref: { name: string; key?: string }): string | undefined =>
  secrets[`${ref.name}/${ref.key ?? 'token'}`];

describe('observe policy forwarding', () => {
  it('turns spec.forward into forwarder targets: secret as bearer header, maxWait in ms', () => {
    const r = forwardTargetsOf(
      policy('web', [
        {
          url: 'https://a.example/in',
          headers: { 'x-tenant': 'shop' },
          secretRef: { name: 'analytics', key: 'token' },
          batch: { maxReports: 50, maxWait: '2s' },
        },
      ]),
      secret,
    );
    assert.deepEqual(r.problems, []);
    assert.deepEqual(r.targets, [
      {
        url: 'https://a.example/in',
        headers: { 'x-tenant': 'shop', authorization: 'Bearer s3cret' },
        batch: { maxReports: 50, maxWaitMs: 2000 },
      },
    ]);
  });

  it('refuses plain http, missing secrets and bad durations, naming the policy', () => {
    const r = forwardTargetsOf(
      policy('web', [
        { url: 'http://a.example/in' },
        { url: 'https://b.example/in', secretRef: { name: 'missing' } },
        { url: 'https://c.example/in', batch: { maxWait: 'soon' } },
        { url: 'https://d.example/in' },
      ]),
      secret,
    );
    assert.deepEqual(
      r.targets.map((t) => t.url),
      ['https://d.example/in'],
    );
    assert.deepEqual(
      r.problems.map((p) => [p.policy, p.url]),
      [
        ['web', 'http://a.example/in'],
        ['web', 'https://b.example/in'],
        ['web', 'https://c.example/in'],
      ],
    );
  });

  it('routes a report to the targets of its policy only', () => {
    const f = new PolicyForwarding();
    f.update(
      [policy('web', [{ url: 'https://a.example/in' }]), policy('db', [{ url: 'https://b.example/in' }])],
      secret,
    );
    const report = (p?: string): HealthReport => ({ ...(p ? { policy: p } : {}) }) as HealthReport;
    assert.deepEqual(
      f.targetsFor(report('web')).map((t) => t.url),
      ['https://a.example/in'],
    );
    assert.deepEqual(f.targetsFor(report('none')), []);
    assert.deepEqual(f.targetsFor(report()), []);
  });
});
