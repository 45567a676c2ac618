import assert from 'node:assert/strict';
import { validateAgainstSchema } from './schema-validator.js';

const VALID = {
  apiVersion: 'bulkhead.dev/v1alpha1',
  kind: 'HealthPolicy',
  metadata: { name: 'web' },
  spec: {
    match: {},
    probe: { http: { path: '/healthz', port: 8080 } },
    detect: { rules: [{ type: 'CrashLoop' }] },
    action: { type: 'Alert' },
  },
};
const withSpec = (patch: Record<string, unknown>): unknown => ({ ...VALID, spec: { ...VALID.spec, ...patch } });
const issues = (doc: unknown): string[] =>
  validateAgainstSchema('healthpolicy', doc)
    .map((i) => `${i.code} ${i.pointer} ${i.at}: ${i.message}${i.hint ? ` | ${i.hint}` : ''}`)
    .sort();

describe('validateAgainstSchema', () => {
  it('accepts a minimal valid policy', () => assert.deepEqual(issues(VALID), []));

  it('points an unknown field at its key, suggesting the near miss', () => {
    assert.deepEqual(issues(withSpec({ detcet: {} })), [
      'BH_UNKNOWN_FIELD /spec/detcet key: unknown field "detcet" in spec | did you mean "detect"?',
    ]);
  });

  it('says where a mis-indented field belongs', () => {
    const [issue] = issues(withSpec({ match: { matchLabels: { app: 'web' } } }));
    assert.match(
      issue!,
      /belongs under spec\.match\.namespaceSelector or spec\.match\.selector: check its indentation/,
    );
  });

  it('treats an unknown field named like an Object.prototype member as just unknown', () => {
    for (const field of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      const doc = withSpec({});
      Object.defineProperty((doc as { spec: object }).spec, field, { value: 1, enumerable: true });
      const [issue] = issues(doc);
      assert.match(
        issue!,
        new RegExp(`^BH_UNKNOWN_FIELD .*unknown field "${field}" in spec \\| allowed here: match, probe`),
      );
    }
  });

  it('reports one message for an int-or-string field, not one per branch', () => {
    assert.deepEqual(issues(withSpec({ probe: { http: { path: '/', port: true } } })), [
      'BH_WRONG_TYPE /spec/probe/http/port value: spec.probe.http.port must be an integer or a string, not boolean true',
    ]);
  });

  it('names the alternatives of an exactly-one-of group', () => {
    assert.deepEqual(issues(withSpec({ probe: { interval: '5s' } })), [
      'BH_EXCLUSIVE_FIELDS /spec/probe key: spec.probe needs exactly one of http, tcp, fromPod',
    ]);
  });

  it('reports a malformed duration as BH_DURATION with the accepted forms', () => {
    assert.deepEqual(issues(withSpec({ probe: { tcp: { port: 1 }, timeout: '2 s' } })), [
      'BH_DURATION /spec/probe/timeout value: spec.probe.timeout: "2 s" is not a duration | write a number with a unit: 500ms, 10s, 5m, 1h30m',
    ]);
  });

  it('validates bulkhead.yaml against its own schema', () => {
    assert.deepEqual(
      validateAgainstSchema('repo-settings', {
        apiVersion: 'bulkhead.dev/v1alpha1',
        kind: 'RepoSettings',
        defaults: { mode: 'DryRun' },
      }),
      [],
    );
    assert.equal(
      validateAgainstSchema('repo-settings', { apiVersion: 'bulkhead.dev/v1alpha1', kind: 'RepoSettings', extra: 1 })[0]
        ?.code,
      'BH_UNKNOWN_FIELD',
    );
  });
});
