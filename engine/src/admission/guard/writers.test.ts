import { strict as assert } from 'node:assert';
import { describeSources } from './default-source.js';
import { DEFAULT_CLEANUP_USERNAMES, guardMatchConditions, parseIdentities, writersSentence } from './writers.js';

describe('guard writers', () => {
  const w = {
    engineUsernames: ['system:serviceaccount:bulkhead-system:bulkhead-engine'],
    gitopsWriters: ['system:serviceaccount:flux-system:kustomize-controller'],
    breakGlassGroups: ['bulkhead:break-glass'],
  };

  it('excludes every identity that may write from the webhook call (matchConditions)', () => {
    const mc = guardMatchConditions(w);
    assert.deepEqual(
      mc.map((m) => m.name),
      ['not-the-engine', 'not-a-gitops-writer', 'not-the-break-glass-group', 'not-a-cleanup-delete'],
    );
    const byName = Object.fromEntries(mc.map((m) => [m.name, m.expression]));
    assert.equal(
      byName['not-the-engine'],
      "!(has(request.userInfo.username) && request.userInfo.username in ['system:serviceaccount:bulkhead-system:bulkhead-engine'])",
    );
    // Writers: only git-managed kinds, only the object itself (status and Quarantines still reach the guard).
    assert.equal(
      byName['not-a-gitops-writer'],
      "!(has(request.userInfo.username) && request.userInfo.username in ['system:serviceaccount:flux-system:kustomize-controller'] && request.resource.resource in ['healthpolicies', 'policysources'] && (!has(request.subResource) || request.subResource == ''))",
    );
    assert.match(byName['not-the-break-glass-group']!, /groups\.exists\(g, g in \['bulkhead:break-glass'\]\)/);
    assert.match(
      byName['not-a-cleanup-delete']!,
      new RegExp(`request.operation == 'DELETE'.*${DEFAULT_CLEANUP_USERNAMES[0]}`),
    );
  });

  it('leaves a condition out when its list is empty (no writers: no writer condition)', () => {
    const mc = guardMatchConditions({ engineUsernames: ['e'], breakGlassGroups: [], cleanupUsernames: [] });
    assert.deepEqual(
      mc.map((m) => m.name),
      ['not-the-engine'],
    );
  });

  it('refuses an identity it could not quote safely into CEL', () => {
    assert.throws(
      () => guardMatchConditions({ ...w, gitopsWriters: ["x'] || true || ['"] }),
      /not a Kubernetes username/,
    );
  });

  it('parses a flag or comma/space separated env, deduplicated, with a clear error for a bad name', () => {
    assert.deepEqual(parseIdentities('--gitops-writers', ['a:b', 'c:d,e:f']), ['a:b', 'c:d', 'e:f']);
    assert.deepEqual(parseIdentities('$BULKHEAD_GITOPS_WRITERS', ' a:b , a:b  c '), ['a:b', 'c']);
    assert.deepEqual(parseIdentities('x', undefined), []);
    assert.throws(
      () => parseIdentities('--gitops-writers', ['ok', "bad'quote"]),
      /--gitops-writers: "bad'quote" is not/,
    );
  });

  it('says who may write, Quarantines being the engine alone', () => {
    assert.equal(
      writersSentence(w, 'HealthPolicy'),
      'may write it: the engine (system:serviceaccount:bulkhead-system:bulkhead-engine); GitOps writers system:serviceaccount:flux-system:kustomize-controller; break-glass group bulkhead:break-glass',
    );
    assert.equal(
      writersSentence(w, 'Quarantine'),
      'may write it: the engine (system:serviceaccount:bulkhead-system:bulkhead-engine)',
    );
    assert.match(
      writersSentence({ ...w, gitopsWriters: ['a', 'b', 'c', 'd', 'e'] }, 'PolicySource'),
      /GitOps writers a, b, c and 2 more/,
    );
  });

  it('describes the cluster PolicySources as the default location', () => {
    assert.equal(describeSources([]), undefined);
    assert.deepEqual(describeSources([{ metadata: { name: 's' }, spec: { url: 'https://g/x.git', path: 'team' } }]), {
      repo: 'https://g/x.git',
      path: 'team/policies/',
    });
    assert.deepEqual(
      describeSources([
        { metadata: { name: 'b' }, spec: { url: 'https://g/b.git' } },
        { metadata: { name: 'a' }, spec: { url: 'https://g/a.git' } },
      ]),
      { repo: 'https://g/a.git or https://g/b.git', path: 'policies/' },
    );
  });
});
