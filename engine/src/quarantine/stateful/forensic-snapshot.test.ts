import { strict as assert } from 'node:assert';
import {
  forensicSnapshot,
  logRequests,
  snapshotSecretName,
  SNAPSHOT_LOG_BUDGET_BYTES,
  SNAPSHOT_LOG_MAX_BYTES,
  SNAPSHOT_MANIFEST_MAX_BYTES,
  SNAPSHOT_MAX_LOGS,
} from './forensic-snapshot.js';

const pod = (containers: string[], restarted: string[] = [], init: string[] = []) => ({
  metadata: { name: 'web-0', namespace: 'shop', uid: 'u-1', managedFields: [{ manager: 'kubelet' }] },
  spec: { initContainers: init.map((name) => ({ name })), containers: containers.map((name) => ({ name })) },
  status: { containerStatuses: containers.map((name) => ({ name, restartCount: restarted.includes(name) ? 2 : 0 })) },
});

describe('forensic snapshot of a StatefulSet pod', () => {
  it('reads every container (init and sidecars too) and the previous log of one that restarted', () => {
    const { requests, dropped } = logRequests(pod(['app'], ['app'], ['bulkhead-sidecar']));
    assert.deepEqual(
      requests.map((r) => [r.container, r.previous]),
      [
        ['bulkhead-sidecar', false],
        ['app', false],
        ['app', true],
      ],
    );
    assert.deepEqual(dropped, []);
    assert.ok(requests.every((r) => r.limitBytes === SNAPSHOT_LOG_MAX_BYTES));
  });

  it('stays within its budget however many containers there are, and names what it dropped', () => {
    const many = Array.from({ length: 12 }, (_, i) => `c${i}`);
    const { requests, dropped } = logRequests(pod(many, many));
    assert.equal(requests.length, SNAPSHOT_MAX_LOGS);
    assert.equal(dropped.length, 24 - SNAPSHOT_MAX_LOGS);
    assert.ok(requests.reduce((n, r) => n + r.limitBytes, 0) <= SNAPSHOT_LOG_BUDGET_BYTES);
    assert.equal(dropped[0], `log.c${SNAPSHOT_MAX_LOGS - 12}.previous.txt`);
  });

  it('is a Secret owned by the Quarantine, without managedFields, noting what could not be read', () => {
    const s = forensicSnapshot({
      pod: pod(['app']),
      quarantine: { name: 'web-0-abcd1234', uid: 'q-uid' },
      logs: new Map([['log.app.txt', 'hello\n']]),
      missing: new Map([['log.app.previous.txt', '400 previous terminated container not found']]),
      dropped: [],
      takenAt: new Date('2026-12-02T00:00:00Z'),
    });
    assert.equal(s.kind, 'Secret');
    assert.equal(s.metadata.name, 'bulkhead-forensics-web-0-abcd1234');
    assert.deepEqual(s.metadata.ownerReferences[0], {
      apiVersion: 'bulkhead.dev/v1alpha1',
      kind: 'Quarantine',
      name: 'web-0-abcd1234',
      uid: 'q-uid',
    });
    const manifest = JSON.parse(s.stringData['pod.json']!) as { metadata: Record<string, unknown> };
    assert.equal(manifest.metadata.managedFields, undefined);
    assert.equal(manifest.metadata.uid, 'u-1');
    assert.equal(s.stringData['log.app.txt'], 'hello\n');
    assert.match(s.stringData['NOTES.txt']!, /log.app.previous.txt: not read \(400/);
  });

  it('cuts a huge manifest and says so; names stay valid', () => {
    const big = pod(['app']);
    (big.spec as Record<string, unknown>).env = 'x'.repeat(SNAPSHOT_MANIFEST_MAX_BYTES);
    const s = forensicSnapshot({
      pod: big,
      quarantine: { name: 'q', uid: 'u' },
      logs: new Map(),
      missing: new Map(),
      dropped: [],
      takenAt: new Date(),
    });
    assert.equal(s.stringData['pod.json']!.length, SNAPSHOT_MANIFEST_MAX_BYTES);
    assert.match(s.stringData['NOTES.txt']!, /pod.json: cut/);
    assert.ok(snapshotSecretName('a'.repeat(300)).length <= 253);
  });
});
