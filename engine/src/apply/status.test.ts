import { strict as assert } from 'node:assert';
import type { PolicySource } from '../core/api/index.js';
import type { Artifact } from '../source/index.js';
import type { ApplyResult } from './applier.js';
import type { Diagnostic } from '../policy/index.js';
import { summarizeOutcome } from './status.js';

const art = (revision: string): Artifact => ({
  revision,
  pathTree: `t-${revision}`,
  dir: '/x',
  fetchedAt: new Date(0),
});
const t0 = new Date('2026-01-01T00:00:00Z');
const t1 = new Date('2026-01-01T00:05:00Z');
const src = (status?: PolicySource['status']): PolicySource => ({
  apiVersion: 'bulkhead.dev/v1alpha1',
  kind: 'PolicySource',
  metadata: { name: 's', generation: 2, uid: 'u' },
  spec: { url: 'file:///r', ref: { branch: 'main' } },
  ...(status ? { status } : {}),
});
const applied: ApplyResult = {
  created: ['HealthPolicy/a'],
  updated: [],
  pruned: ['HealthPolicy/b'],
  unchanged: 3,
  conflicts: [],
  driftCorrected: [],
  failed: [],
};
const diag = (i: number): Diagnostic => ({
  severity: 'error',
  code: 'BH_INVALID_VALUE',
  message: `problem ${i} ${'x'.repeat(2000)}`,
  file: `policies/p${i}.yaml`,
  line: i + 1,
  column: 3,
});

describe('summarizeOutcome (the PolicySource summarizer, pure)', () => {
  it('Applied: revision in force, Ready=True, Normal Event with what changed', () => {
    const s = summarizeOutcome(
      src(),
      { result: 'Applied', artifact: art('a'.repeat(40)), policies: 4, apply: applied },
      t0,
    );
    assert.equal(s.status.lastAppliedRevision, 'a'.repeat(40));
    assert.equal(s.status.lastAttemptedRevision, 'a'.repeat(40));
    assert.equal(s.status.observedGeneration, 2);
    assert.equal(s.status.policies, 4);
    assert.deepEqual(s.ready, {
      status: 'True',
      reason: 'Applied',
      message: `Applied revision main@${'a'.repeat(12)}: 4 policies`,
    });
    assert.equal(s.event?.type, 'Normal');
    assert.match(s.event?.message ?? '', /1 created, 0 updated, 1 pruned/);
    assert.equal(s.changed, true);
  });

  it('an unchanged resync is no status write and no Event, and keeps transition times', () => {
    const first = summarizeOutcome(src(), { result: 'Applied', artifact: art('r1'), policies: 4, apply: applied }, t0);
    const again = summarizeOutcome(src(first.status), { result: 'NoChange', artifact: art('r1'), policies: 4 }, t1);
    assert.equal(again.changed, false);
    assert.equal(again.event, undefined);
    assert.equal(again.status.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime, '2026-01-01T00:00:00Z');
  });

  it("leaves other loops' conditions alone: the audit's RecordsPushed is neither written nor a change", () => {
    const first = summarizeOutcome(src(), { result: 'Applied', artifact: art('r1'), policies: 4, apply: applied }, t0);
    const withAudit = {
      ...first.status,
      conditions: [
        ...(first.status.conditions ?? []),
        {
          type: 'RecordsPushed',
          status: 'False' as const,
          reason: 'RecordsPushRefused',
          message: 'set spec.recordsBranch',
          lastTransitionTime: '2026-01-01T00:01:00Z',
        },
      ],
    };
    const again = summarizeOutcome(src(withAudit), { result: 'NoChange', artifact: art('r1'), policies: 4 }, t1);
    assert.equal(again.changed, false, 'a foreign condition is no reason to write');
    assert.deepEqual(
      again.status.conditions?.map((c) => c.type),
      ['Ready', 'Reconciling', 'Stalled'],
      'the server-side apply carries only the sync-owned types, so it never takes the audit condition',
    );
  });

  it('a records-only commit updates the revisions but emits no Event', () => {
    const first = summarizeOutcome(src(), { result: 'Applied', artifact: art('r1'), policies: 4, apply: applied }, t0);
    const rec = summarizeOutcome(src(first.status), { result: 'NoChange', artifact: art('r2'), policies: 4 }, t1);
    assert.equal(rec.status.lastAppliedRevision, 'r2');
    assert.equal(rec.event, undefined);
  });

  it('ValidationFailed keeps the last good revision, caps diagnostics at 50 with bounded messages, and warns once', () => {
    const good = summarizeOutcome(src(), { result: 'Applied', artifact: art('good'), policies: 4, apply: applied }, t0);
    const diagnostics = Array.from({ length: 120 }, (_, i) => diag(i));
    const bad = summarizeOutcome(
      src(good.status),
      { result: 'ValidationFailed', artifact: art('bad'), diagnostics },
      t1,
    );
    assert.equal(bad.status.lastAppliedRevision, 'good');
    assert.equal(bad.status.lastAttemptedRevision, 'bad');
    assert.equal(bad.status.validationErrors?.length, 50);
    assert.ok(bad.status.validationErrors!.every((e) => e.message.length <= 1024));
    assert.deepEqual(
      { file: bad.status.validationErrors![0]!.file, line: bad.status.validationErrors![0]!.line },
      { file: 'policies/p0.yaml', line: 1 },
    );
    assert.equal(bad.ready.reason, 'ValidationFailed');
    assert.match(
      bad.ready.message,
      /120 error\(s\) \(first 50 in status\); still serving good: policies\/p0\.yaml:1:3:/,
    );
    assert.ok(bad.ready.message.length < 2000);
    assert.equal(bad.status.conditions?.find((c) => c.type === 'Stalled')?.status, 'True');
    assert.equal(bad.event?.type, 'Warning');
    // The same bad revision polled again: no write, no second Warning.
    const again = summarizeOutcome(
      src(bad.status),
      { result: 'ValidationFailed', artifact: art('bad'), diagnostics },
      new Date('2026-01-01T00:06:00Z'),
    );
    assert.equal(again.changed, false);
    assert.equal(again.event, undefined);
    // Recovery clears the diagnostics.
    const fixed = summarizeOutcome(
      src(bad.status),
      { result: 'Applied', artifact: art('fixed'), policies: 4, apply: applied },
      t1,
    );
    assert.equal(fixed.status.validationErrors, undefined);
    assert.equal(fixed.status.conditions?.find((c) => c.type === 'Stalled')?.status, 'False');
  });

  it('a conflict with another manager says what to do and is Reconciling, not Stalled (the source need not change); a transient failure is Reconciling', () => {
    const conflict = summarizeOutcome(
      src(),
      {
        result: 'ApplyIncomplete',
        artifact: art('r'),
        policies: 1,
        apply: { ...applied, conflicts: [{ name: 'HealthPolicy/a', managers: ['argocd-controller'], message: 'x' }] },
      },
      t0,
    );
    assert.equal(conflict.ready.reason, 'ApplyConflict');
    assert.match(conflict.ready.message, /argocd-controller.*--force-conflicts/);
    assert.match(conflict.ready.message, /stop argocd-controller from applying these objects.*--apply=false/);
    assert.equal(conflict.status.conditions?.find((c) => c.type === 'Stalled')?.status, 'False');
    const rec = conflict.status.conditions?.find((c) => c.type === 'Reconciling');
    assert.equal(rec?.status, 'True');
    assert.equal(rec?.reason, 'WaitingForFieldOwners');
    const net = summarizeOutcome(
      src(),
      { result: 'Failed', kind: 'Transient', reason: 'GitOperationFailed', message: 'connection refused' },
      t0,
    );
    assert.equal(net.ready.reason, 'GitOperationFailed');
    assert.equal(net.status.conditions?.find((c) => c.type === 'Reconciling')?.status, 'True');
    assert.equal(net.status.conditions?.find((c) => c.type === 'Stalled')?.status, 'False');
    assert.equal(net.status.lastAttemptedRevision, undefined);
  });
});
