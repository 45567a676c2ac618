import { strict as assert } from 'node:assert';
import { MAX_ALERTS_PER_NOTIFICATION, mapAlertmanagerNotification } from './alertmanager-payload.js';
import { camelReason } from './pod-alert.js';

const alert = (labels: Record<string, string>, extra: Record<string, unknown> = {}) => ({
  status: 'firing',
  labels,
  annotations: { summary: 'container restarted 5 times in 10 minutes' },
  startsAt: '2026-12-02T12:00:00Z',
  generatorURL: 'http://prometheus/graph?g0.expr=x',
  fingerprint: 'abc123',
  ...extra,
});
const notification = (alerts: unknown[]) => ({ version: '4', status: 'firing', receiver: 'bulkhead', alerts });

describe('Alertmanager notification → verdicts', () => {
  it('maps a firing alert with namespace and pod labels to a verdict about that pod', () => {
    const r = mapAlertmanagerNotification(
      notification([alert({ alertname: 'KubePodCrashLooping', namespace: 'shop', pod: 'api-1' })]),
    );
    assert.ok(r.ok);
    const [m] = r.alerts;
    assert.ok(m && 'verdict' in m);
    assert.equal(m.threat, false);
    assert.equal(m.verdict.namespace, 'shop');
    assert.equal(m.verdict.pod, 'api-1');
    assert.equal(m.verdict.reason, 'KubePodCrashLooping');
    assert.match(m.verdict.message ?? '', /KubePodCrashLooping: container restarted 5 times/);
    assert.equal(m.verdict.action, undefined, 'the policy decides unless the alert asks for less');
    assert.equal(m.verdict.evidence?.[0]?.time, '2026-12-02T12:00:00Z');
    assert.match(m.verdict.evidence?.[0]?.detail ?? '', /fingerprint abc123/);
    assert.match(m.verdict.evidence?.[1]?.detail ?? '', /source: http:\/\/prometheus/);
  });

  it('bulkhead_action and bulkhead_policy labels steer the verdict; an unknown action is ignored', () => {
    const r = mapAlertmanagerNotification(
      notification([
        alert({ alertname: 'A', namespace: 'shop', pod: 'p1', bulkhead_action: 'Alert', bulkhead_policy: 'shop-hp' }),
        alert({ alertname: 'A', namespace: 'shop', pod: 'p2', bulkhead_action: 'Nuke' }),
      ]),
    );
    assert.ok(r.ok);
    const [a, b] = r.alerts.map((m) => ('verdict' in m ? m.verdict : undefined));
    assert.equal(a?.action, 'Alert');
    assert.equal(a?.policy, 'shop-hp');
    assert.equal(b?.action, undefined);
  });

  it('skips resolved alerts, alerts naming no pod or a bad name, and a second alert for the same pod, saying why', () => {
    const r = mapAlertmanagerNotification(
      notification([
        alert({ alertname: 'A', namespace: 'shop', pod: 'p1' }, { status: 'resolved' }),
        alert({ alertname: 'NodeDown', instance: 'n1' }),
        alert({ alertname: 'A', namespace: 'Shop!', pod: 'p1' }),
        alert({ alertname: 'A', namespace: 'shop', pod: 'p2' }),
        alert({ alertname: 'B', namespace: 'shop', pod: 'p2' }),
        'not an object',
      ]),
    );
    assert.ok(r.ok);
    const skipped = r.alerts.map((m) => ('skipped' in m ? m.skipped : 'verdict'));
    assert.match(skipped[0]!, /resolved, not firing/);
    assert.match(skipped[1]!, /names no pod/);
    assert.match(skipped[2]!, /names no pod/);
    assert.equal(skipped[3], 'verdict');
    assert.match(skipped[4]!, /already named/);
    assert.match(skipped[5]!, /not firing/);
  });

  it(`turns at most ${MAX_ALERTS_PER_NOTIFICATION} alerts of one notification into verdicts`, () => {
    const many = Array.from({ length: MAX_ALERTS_PER_NOTIFICATION + 5 }, (_, i) =>
      alert({ alertname: 'A', namespace: 'shop', pod: `p${i}` }),
    );
    const r = mapAlertmanagerNotification(notification(many));
    assert.ok(r.ok);
    assert.equal(r.alerts.filter((m) => 'verdict' in m).length, MAX_ALERTS_PER_NOTIFICATION);
    assert.equal(r.alerts.filter((m) => 'skipped' in m && /past the/.test(m.skipped)).length, 5);
  });

  it('refuses what is not a version 4 notification', () => {
    assert.equal(mapAlertmanagerNotification([]).ok, false);
    assert.equal(mapAlertmanagerNotification({ version: '3', alerts: [] }).ok, false);
    assert.equal(mapAlertmanagerNotification({ version: '4', alerts: {} }).ok, false);
  });

  it('camelReason: CamelCase kept, words joined, digits leading dropped, a fallback when nothing is left', () => {
    assert.equal(camelReason('KubePodCrashLooping', 'X'), 'KubePodCrashLooping');
    assert.equal(camelReason('Terminal shell in container', 'X'), 'TerminalShellInContainer');
    assert.equal(camelReason('high_error-rate', 'X'), 'HighErrorRate');
    assert.equal(camelReason('42 things', 'X'), 'Things');
    assert.equal(camelReason('0a', 'X'), 'A', 'found by the property test: digits dropped, then raised');
    assert.equal(camelReason('!!!', 'Fallback'), 'Fallback');
    assert.equal(camelReason(undefined, 'Fallback'), 'Fallback');
    assert.equal(camelReason('a'.repeat(100), 'X').length, 63);
  });
});
