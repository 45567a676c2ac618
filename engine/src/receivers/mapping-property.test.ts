import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { validateVerdict } from '../quarantine/verdict-api.js';
import { mapAlertmanagerNotification } from './alertmanager-payload.js';
import { mapFalcoEvent } from './falco-event.js';

// Whatever another tool sends, a mapping never throws, and every verdict it makes is one the
// verdict API itself would accept (so the receivers cannot hand the intake a body the API refuses).
const name = fc.oneof(fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?$/), fc.string({ maxLength: 300 }));
const labels = fc.record(
  {
    alertname: fc.string({ maxLength: 80 }),
    namespace: name,
    pod: name,
    bulkhead_action: fc.string(),
    bulkhead_policy: fc.string({ maxLength: 300 }),
  },
  { requiredKeys: [] },
);
const alert = fc.record(
  {
    status: fc.oneof(fc.constant('firing'), fc.constant('resolved'), fc.anything()),
    labels: fc.oneof(labels, fc.anything()),
    annotations: fc.oneof(fc.record({ summary: fc.string({ maxLength: 3000 }) }), fc.anything()),
    startsAt: fc.oneof(
      fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
      fc.string(),
    ),
    generatorURL: fc.string({ maxLength: 3000 }),
    fingerprint: fc.string(),
  },
  { requiredKeys: [] },
);

describe('receiver mappings (property)', () => {
  it('Alertmanager: never throws; every verdict passes the verdict API validation', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.record({ version: fc.constant('4'), alerts: fc.array(alert, { maxLength: 8 }) }), fc.anything()),
        (body) => {
          const r = mapAlertmanagerNotification(body);
          if (!r.ok) return;
          for (const m of r.alerts)
            if ('verdict' in m) assert.ok(validateVerdict(m.verdict).ok, JSON.stringify(validateVerdict(m.verdict)));
        },
      ),
      { numRuns: 500 },
    );
  });
  it('Falcosidekick: never throws; every verdict passes the verdict API validation', () => {
    const event = fc.record(
      {
        rule: fc.string({ maxLength: 200 }),
        priority: fc.oneof(fc.constantFrom('Critical', 'Warning', 'Debug'), fc.string()),
        output: fc.string({ maxLength: 3000 }),
        time: fc.string(),
        output_fields: fc.oneof(fc.record({ 'k8s.ns.name': name, 'k8s.pod.name': name }), fc.anything()),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof(event, fc.anything()), (body) => {
        const r = mapFalcoEvent(body);
        if (r.ok && 'verdict' in r.mapped)
          assert.ok(validateVerdict(r.mapped.verdict).ok, JSON.stringify(r.mapped.verdict));
      }),
      { numRuns: 500 },
    );
  });
});
