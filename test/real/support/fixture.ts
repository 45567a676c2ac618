// Mocha global fixture for the real-node tier: one local cluster with two real nodes
// (containerd + kubelet + kube-proxy + kube-router in their own namespaces, CoreDNS), the
// project's images built without Docker and imported into each node. Real nodes need root on
// Linux: this tier fails loudly elsewhere rather than skipping.
import type { Context } from 'mocha';
import { startLocalCluster } from '../../../tools/local-cluster/index.js';
import { buildProjectImages } from './images.js';
import { getRealCluster, setRealCluster } from './state.js';
import { dumpRealCluster } from './dump.js';
import { stopInstalledEngine } from './installed-engine.js';

export async function mochaGlobalSetup(): Promise<void> {
  const say = (l: string) => process.stderr.write(`  [real nodes] ${l}\n`);
  const images = await buildProjectImages(say);
  const cluster = await startLocalCluster({ workloads: true, realNodes: 2, images, onProgress: say });
  setRealCluster(cluster);
  process.env.BULKHEAD_TEST_KUBECONFIG = cluster.kubeconfigPath;
}

export async function mochaGlobalTeardown(): Promise<void> {
  try {
    await stopInstalledEngine();
    await getRealCluster().stop();
  } finally {
    setRealCluster(undefined);
  }
}

export const mochaHooks = {
  async afterEach(this: Context): Promise<void> {
    const test = this.currentTest;
    if (test?.state !== 'failed') return;
    try {
      process.stderr.write(`    failure dump: ${await dumpRealCluster(getRealCluster(), test.fullTitle())}\n`);
    } catch (err) {
      process.stderr.write(`    failure dump failed: ${err instanceof Error ? err.message : String(err)}\n`);
    }
  },
};
