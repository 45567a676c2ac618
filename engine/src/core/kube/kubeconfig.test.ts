import { strict as assert } from 'node:assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { isBulkheadError } from '../errors.js';
import { isDefaultFallback, loadKubeConfig } from './kubeconfig.js';

const kubeconfig = (name: string, server: string): string =>
  [
    'apiVersion: v1',
    'kind: Config',
    `clusters: [{ name: ${name}, cluster: { server: '${server}' } }]`,
    `users: [{ name: ${name}, user: { token: t } }]`,
    `contexts: [{ name: ${name}, context: { cluster: ${name}, user: ${name} } }]`,
    `current-context: ${name}`,
    '',
  ].join('\n');

describe('loadKubeConfig', () => {
  let dir: string;
  let saved: string | undefined;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bh-kubeconfig-'));
    saved = process.env.KUBECONFIG;
  });
  afterEach(async () => {
    if (saved === undefined) delete process.env.KUBECONFIG;
    else process.env.KUBECONFIG = saved;
    await rm(dir, { recursive: true, force: true });
  });

  it('reads the --kubeconfig file when given', async () => {
    await writeFile(join(dir, 'a'), kubeconfig('a', 'https://a.invalid:6443'));
    const kc = loadKubeConfig(join(dir, 'a'));
    assert.equal(kc.getCurrentCluster()?.server, 'https://a.invalid:6443');
  });

  it('merges every file of a multi-path $KUBECONFIG (the first names the current context)', async () => {
    await writeFile(join(dir, 'a'), kubeconfig('a', 'https://a.invalid:6443'));
    await writeFile(join(dir, 'b'), kubeconfig('b', 'https://b.invalid:6443'));
    process.env.KUBECONFIG = [join(dir, 'a'), join(dir, 'b')].join(delimiter);
    const kc = loadKubeConfig(undefined);
    assert.equal(kc.getCurrentContext(), 'a');
    assert.deepEqual(
      kc
        .getContexts()
        .map((c) => c.name)
        .sort(),
      ['a', 'b'],
    );
  });

  it('refuses a kubeconfig without a current cluster, with a typed error', async () => {
    await writeFile(join(dir, 'empty'), 'apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n');
    assert.throws(
      () => loadKubeConfig(join(dir, 'empty')),
      (err: unknown) => isBulkheadError(err) && err.code === 'BH_NO_KUBECONFIG' && err.reason === 'NoCluster',
    );
  });
});

describe('isDefaultFallback', () => {
  it("recognises client-node's localhost:8080 last resort, not a real cluster", () => {
    const fallback = new KubeConfig();
    // Exactly what loadFromDefault() does when nothing is configured.
    fallback.loadFromClusterAndUser({ name: 'cluster', server: 'http://localhost:8080' } as never, { name: 'user' });
    assert.equal(isDefaultFallback(fallback), true);
    const real = new KubeConfig();
    real.loadFromClusterAndUser({ name: 'local', server: 'https://127.0.0.1:6443' } as never, { name: 'admin' });
    assert.equal(isDefaultFallback(real), false);
  });
});
