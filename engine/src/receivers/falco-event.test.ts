import { strict as assert } from 'node:assert';
import { mapFalcoEvent } from './falco-event.js';

const event = (extra: Record<string, unknown> = {}) => ({
  uuid: '2d6f3c1e-0000-4000-8000-000000000000',
  output: '12:00:00.000: Critical A shell was spawned in a container (user=root k8s.ns=shop k8s.pod=api-1)',
  priority: 'Critical',
  rule: 'Terminal shell in container',
  time: '2026-12-02T12:00:00.000000000Z',
  source: 'syscall',
  hostname: 'node-1',
  tags: ['container', 'shell'],
  output_fields: { 'k8s.ns.name': 'shop', 'k8s.pod.name': 'api-1', 'proc.cmdline': 'sh -i' },
  ...extra,
});

describe('Falcosidekick event → verdict', () => {
  it('maps an event naming a pod to a threat verdict about it, reason from the rule', () => {
    const r = mapFalcoEvent(event());
    assert.ok(r.ok && 'verdict' in r.mapped);
    const { verdict, threat } = r.mapped;
    assert.equal(threat, true);
    assert.equal(verdict.namespace, 'shop');
    assert.equal(verdict.pod, 'api-1');
    assert.equal(verdict.reason, 'TerminalShellInContainer');
    assert.equal(verdict.action, undefined, 'Critical: the policy action');
    assert.match(verdict.message ?? '', /Falco critical: Terminal shell in container/);
    assert.match(verdict.evidence?.[0]?.detail ?? '', /A shell was spawned/);
    assert.equal(verdict.evidence?.[0]?.time, '2026-12-02T12:00:00.000000000Z');
  });

  it('below Error priority asks for Alert only; an unknown priority too', () => {
    for (const priority of ['Warning', 'Notice', 'Informational', 'Debug', 'Bogus']) {
      const r = mapFalcoEvent(event({ priority }));
      assert.ok(r.ok && 'verdict' in r.mapped);
      assert.equal(r.mapped.verdict.action, 'Alert', priority);
    }
    for (const priority of ['Emergency', 'Alert', 'Critical', 'Error']) {
      const r = mapFalcoEvent(event({ priority }));
      assert.ok(r.ok && 'verdict' in r.mapped);
      assert.equal(r.mapped.verdict.action, undefined, priority);
    }
  });

  it('an event naming no pod (host event, bad names) is skipped, not refused', () => {
    for (const output_fields of [{}, { 'k8s.ns.name': 'shop' }, { 'k8s.ns.name': 'Shop', 'k8s.pod.name': 'x' }]) {
      const r = mapFalcoEvent(event({ output_fields }));
      assert.ok(r.ok && 'skipped' in r.mapped, JSON.stringify(output_fields));
    }
  });

  it('refuses a body that is not an event', () => {
    assert.equal(mapFalcoEvent(null).ok, false);
    assert.equal(mapFalcoEvent([]).ok, false);
    assert.equal(mapFalcoEvent({ output: 'x' }).ok, false);
  });
});
