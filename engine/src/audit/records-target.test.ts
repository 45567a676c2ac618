import { strict as assert } from 'node:assert';
import type { PolicySource } from '../core/api/index.js';
import { silentLogger } from '../core/logger.js';
import { recordsRepoFor, recordsSourceOf, type RecordsTarget } from './records-target.js';

const source = (name: string, spec: Partial<PolicySource['spec']> = {}): PolicySource => ({
  apiVersion: 'bulkhead.dev/v1alpha1',
  kind: 'PolicySource',
  metadata: { name },
  spec: { url: `https://git.example/${name}.git`, ref: { branch: 'main' }, ...spec },
});

describe('recordsSourceOf', () => {
  it('takes the first PolicySource by name, whatever order the apiserver lists them in', () => {
    assert.deepEqual(recordsSourceOf([source('team-b'), source('platform'), source('team-a')]), {
      url: 'https://git.example/platform.git',
      branch: 'main',
      source: 'platform',
    });
  });

  it('prefers the recordsBranch, and names the Secret with the credentials', () => {
    assert.deepEqual(
      recordsSourceOf([source('p', { recordsBranch: 'records', secretRef: { name: 'git-credentials' } })]),
      {
        url: 'https://git.example/p.git',
        branch: 'records',
        baseBranch: 'main',
        source: 'p',
        secretName: 'git-credentials',
      },
    );
  });

  it('has no target without a source, or when the first one follows a tag or a commit', () => {
    assert.equal(recordsSourceOf([]), undefined);
    assert.equal(recordsSourceOf([source('a', { ref: { tag: 'v1' } }), source('b')]), undefined);
    assert.equal(recordsSourceOf([source('a', { ref: { commit: 'abc123' } })]), undefined);
  });
});

describe('recordsRepoFor', () => {
  it('keeps one repository per url + branch, and a new one when the target changes', async () => {
    let target: RecordsTarget | undefined = { url: 'https://git.example/a.git', branch: 'main', cacheDir: '/tmp/x' };
    const repo = recordsRepoFor({ target: async () => target, env: { path: '', home: '' }, logger: silentLogger() });
    const first = await repo();
    assert.ok(first);
    assert.equal(await repo(), first);
    target = { ...target, branch: 'records' };
    const second = await repo();
    assert.ok(second && second !== first);
    target = undefined;
    assert.equal(await repo(), undefined);
  });
});
