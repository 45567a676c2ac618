import { strict as assert } from 'node:assert';
import { policySourceObject, sameSource } from './install.js';

describe('install: the PolicySource from --repo', () => {
  const url = 'https://git.example/p.git';

  it('carries only what was given; the CRD defaults the rest', () => {
    assert.deepEqual(policySourceObject({ name: 'default', url }).spec, { url });
    assert.deepEqual(
      policySourceObject({ name: 'default', url, branch: 'main', path: 'clusters/a', secret: 'git' }).spec,
      { url, ref: { branch: 'main' }, path: 'clusters/a', secretRef: { name: 'git' } },
    );
  });

  it('is written only when the apply would change url, ref, path or secretRef (the guard refuses even no-op writes)', () => {
    const live = { spec: { url, ref: { branch: 'main' }, path: '.', interval: '1m', secretRef: { name: 'git' } } };
    assert.equal(sameSource(live, { name: 'd', url, branch: 'main', secret: 'git' }), true);
    assert.equal(sameSource(live, { name: 'd', url, branch: 'main', path: '.', secret: 'git' }), true);
    assert.equal(sameSource(live, { name: 'd', url, branch: 'dev', secret: 'git' }), false);
    assert.equal(sameSource(live, { name: 'd', url, secret: 'git' }), false, 'dropping --ref removes the branch');
    assert.equal(
      sameSource(live, { name: 'd', url, branch: 'main' }),
      false,
      'dropping --secret removes the secretRef',
    );
    assert.equal(sameSource(live, { name: 'd', url: `${url}x`, branch: 'main', secret: 'git' }), false);
    assert.equal(sameSource(live, { name: 'd', url, branch: 'main', path: 'x', secret: 'git' }), false);
    // interval: absent means the CRD default (1m), on either side.
    assert.equal(sameSource(live, { name: 'd', url, branch: 'main', secret: 'git', interval: '1m' }), true);
    assert.equal(sameSource(live, { name: 'd', url, branch: 'main', secret: 'git', interval: '5s' }), false);
    assert.equal(
      sameSource(
        { spec: { ...live.spec, interval: '5s' } },
        { name: 'd', url, branch: 'main', secret: 'git', interval: '5s' },
      ),
      true,
    );
    assert.equal(
      sameSource({ spec: { url, ref: { tag: 'v1' } } }, { name: 'd', url }),
      false,
      'a tag someone pinned is not what --repo alone asks for',
    );
    assert.equal(sameSource({ spec: { url } }, { name: 'd', url }), true);
  });
});
