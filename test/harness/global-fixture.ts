// Mocha global fixture and root hooks for the integration tier: one real control plane per
// run (etcd, kube-apiserver, controller-manager, scheduler, kwok), shared by every test file.
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Context, Suite } from 'mocha';
import { startLocalCluster } from '../../tools/local-cluster/index.js';
import { installCrds } from './crds.js';
import { dumpOnFailure } from './failure-dump.js';
import { getCluster, setCluster } from './state.js';
import { errorMessage } from '../../engine/src/core/errors.js';
import { leftoverWebhookCheck } from './leftover-webhooks.js';

const webhooks = leftoverWebhookCheck(
  () => getCluster().kubeConfig(),
  (l) => process.stderr.write(`  [webhooks] ${l}\n`),
);

export async function mochaGlobalSetup(): Promise<void> {
  const cluster = await startLocalCluster({
    workloads: true,
    nodes: 3,
    ...(process.env.BULKHEAD_BIN_DIR ? { binDir: process.env.BULKHEAD_BIN_DIR } : {}),
    onProgress: (l) => process.stderr.write(`  [control plane] ${l}\n`),
  });
  setCluster(cluster);
  // Child processes of the tests (engines, sidecars, CLIs) find the cluster through this.
  process.env.BULKHEAD_TEST_KUBECONFIG = cluster.kubeconfigPath;
  const crds = await installCrds(cluster.kubeConfig(), resolve('deploy/crds'));
  if (crds.length > 0) process.stderr.write(`  [control plane] installed CRDs: ${crds.join(', ')}\n`);
  // Lets a test that runs this fixture in a child process find what it started.
  if (process.env.BULKHEAD_TEST_STATE_OUT) {
    await writeFile(
      process.env.BULKHEAD_TEST_STATE_OUT,
      JSON.stringify({ runDir: cluster.runDir, pids: cluster.processes.map((p) => p.pid) }),
    );
  }
}

export async function mochaGlobalTeardown(): Promise<void> {
  try {
    await webhooks.atEnd();
  } finally {
    await stopCluster();
  }
}

async function stopCluster(): Promise<void> {
  try {
    await getCluster().stop();
  } finally {
    setCluster(undefined);
  }
}

export const mochaHooks = {
  /**
   * Before any file runs: gives each file's last top-level suite a final after() hook (added
   * last, so it runs after the file's own), where whatever admission objects exist are that
   * file's leak, caught before the next file's before() hooks meet them.
   */
  beforeAll(this: Context): void {
    const root = this.test?.parent;
    const lastSuiteOf = new Map<string, Suite>();
    for (const suite of root?.suites ?? []) if (suite.file) lastSuiteOf.set(suite.file, suite);
    for (const [file, suite] of lastSuiteOf) {
      suite.afterAll('admission objects left behind by this file', () => webhooks.afterFile(file));
    }
  },
  async afterEach(this: Context): Promise<void> {
    const test = this.currentTest;
    if (test?.state !== 'failed') return;
    try {
      const path = await dumpOnFailure(getCluster(), test.fullTitle());
      process.stderr.write(`    failure dump: ${path}\n`);
    } catch (err) {
      process.stderr.write(`    failure dump failed: ${errorMessage(err)}\n`);
    }
  },
};
