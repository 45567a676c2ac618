// A crash at any point between detection and push never loses or duplicates an audit record
// and never leaves a pod half-quarantined: 20 runs, each SIGKILLing a worker (the engine's
// quarantine + audit path) at a random moment, then restarting it.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { build } from 'esbuild';
import type { HealthPolicy } from '../../engine/src/core/api/index.js';
import { KubeClient } from '../../engine/src/core/kube/client.js';
import { ResourceResolver } from '../../engine/src/core/kube/resources.js';
import { listQuarantines } from '../../engine/src/quarantine/index.js';
import { createTestRepo, git, HERMETIC_GIT_ENV, type TestRepo } from '../harness/git-repo.js';
import { getCluster, newNamespace } from '../harness/index.js';
import { healthOf, runDeployment } from './support/quarantine-fixtures.js';

const RUNS = 20;

/** A small seeded PRNG (mulberry32), so a failing run can be replayed from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const policy: HealthPolicy = {
  apiVersion: 'bulkhead.dev/v1alpha1',
  kind: 'HealthPolicy',
  metadata: { name: 'crash-test' },
  spec: {
    match: {},
    probe: { http: { path: '/', port: 80 } },
    detect: { rules: [{ type: 'ConsecutiveFailures' }] },
    action: { type: 'Quarantine', budget: { maxUnavailable: 2, maxPerNamespacePerHour: 1000 } },
  },
};

function runWorker(
  bundle: string,
  env: NodeJS.ProcessEnv,
  killAfterReadyMs?: number,
): Promise<{ killed: boolean; code: number | null; out: string; workMs: number }> {
  return new Promise((ok, fail) => {
    const child = spawn(process.execPath, [bundle], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let killed = false;
    let readyAt = 0;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (!readyAt && out.includes('ready')) readyAt = performance.now();
      if (killAfterReadyMs !== undefined && out.includes('ready') && !killed) {
        killed = true;
        setTimeout(() => child.kill('SIGKILL'), killAfterReadyMs);
      }
    });
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', fail);
    child.once('exit', (code) =>
      ok({ killed: killed && code === null, code, out, workMs: performance.now() - readyAt }),
    );
  });
}

describe('crash safety of quarantine + audit', () => {
  let repo: TestRepo;
  let work: string;
  let bundle: string;
  before(async () => {
    repo = await createTestRepo('bh-crash-');
    await repo.commit({ 'README.md': 'policy repo\n' }, 'initial');
    work = await mkdtemp(join(tmpdir(), 'bh-crash-work-'));
    // One bundle of the worker, so each spawn starts in a few hundred ms instead of
    // transpiling every module again; node_modules stay external and resolve normally.
    bundle = join(process.cwd(), 'test-artifacts', `crash-worker-${process.pid}.mjs`);
    await build({
      entryPoints: ['test/integration/fixtures/quarantine-worker.ts'],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      outfile: bundle,
      logLevel: 'silent',
    });
  });
  after(async () => {
    await repo.remove();
    await rm(work, { recursive: true, force: true });
    await rm(bundle, { force: true });
  });

  it(`${RUNS} runs killed at random points: each record in git exactly once, no pod half-quarantined`, async function () {
    this.timeout(600_000);
    const kc = getCluster().kubeConfig();
    const ns = await newNamespace('crash');
    // Two pods per run, all workloads up front (kwok runs them in parallel).
    const deployments = await Promise.all(Array.from({ length: RUNS }, (_, i) => runDeployment(kc, ns, `w${i}`, 2)));
    const client = new KubeClient(kc);
    const resolver = new ResourceResolver(client);
    const seed = Number(process.env.CRASH_SEED ?? Date.now() % 100_000);
    const random = prng(seed);
    const env = (i: number, podsFile: string): NodeJS.ProcessEnv => ({
      WORKER_KUBECONFIG: getCluster().kubeconfigPath,
      WORKER_CLUSTER: 'crash',
      WORKER_REPO: repo.url,
      WORKER_CACHE: join(work, 'engine-cache'),
      WORKER_HOME: HERMETIC_GIT_ENV.HOME!,
      WORKER_NAMESPACE: ns,
      WORKER_POLICY: JSON.stringify(policy),
      WORKER_PODS: podsFile,
      ...(i < 0 ? { RESUME: '1' } : {}),
    });
    // Measure one uninterrupted run first: the kill window is [0, its work time after "ready"].
    let windowMs = 0;
    const kills: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const podsFile = join(work, `pods-${i}.json`);
      await writeFile(podsFile, JSON.stringify(deployments[i]!.map((p) => healthOf(p, { node: `crash-node-${i}` }))));
      if (i === 0) {
        const r = await runWorker(bundle, env(i, podsFile));
        windowMs = r.workMs;
        assert.equal(r.code, 0, r.out);
        continue;
      }
      const killAt = Math.floor(random() * windowMs);
      kills.push(killAt);
      const r = await runWorker(bundle, env(i, podsFile), killAt);
      assert.ok(r.killed || r.code === 0, `worker ${i} failed by itself (seed ${seed}): ${r.out}`);
      const resumed = await runWorker(bundle, env(-1, podsFile));
      assert.equal(resumed.code, 0, `resume after run ${i} failed (seed ${seed}): ${resumed.out}`);
    }
    process.stderr.write(
      `      crash seed ${seed}; kill points (ms after ready, window ${windowMs.toFixed(0)}): ${kills.join(', ')}\n`,
    );

    const qs = await listQuarantines(client, resolver, ns);
    assert.ok(qs.length >= 2, 'at least the uninterrupted run quarantined its pods');
    const core = kc.makeApiClient(CoreV1Api);
    for (const q of qs) {
      // Exactly once: one commit added this record, and the CR names it.
      const adds = (await git(repo.bareDir, 'log', '--diff-filter=A', '--format=%H', 'main', '--', q.spec.recordPath!))
        .split('\n')
        .filter(Boolean);
      assert.equal(adds.length, 1, `${q.spec.recordPath} added ${adds.length} times (seed ${seed})`);
      assert.equal(q.status?.audit?.state, 'Committed', `${q.metadata.name} not committed (seed ${seed})`);
      assert.equal(q.status?.audit?.commit, adds[0]);
      assert.equal(q.status?.phase, 'Isolated');
    }
    // No half-quarantine: a pod is either fully quarantined (CR Isolated, marked, detached) or untouched.
    const held = new Set(qs.map((q) => q.spec.pod.uid));
    for (const pods of deployments) {
      for (const p of pods) {
        const now = await core.readNamespacedPod({ name: p.metadata!.name!, namespace: ns });
        const marked = now.metadata?.labels?.['bulkhead.dev/quarantined'] === 'true';
        const detached = now.metadata?.labels?.app === undefined;
        assert.equal(
          marked,
          held.has(p.metadata!.uid!),
          `${p.metadata!.name}: marked=${marked} but CR=${held.has(p.metadata!.uid!)} (seed ${seed})`,
        );
        assert.equal(detached, marked, `${p.metadata!.name}: isolated and detached must go together (seed ${seed})`);
        if (marked) {
          const saved = JSON.parse(now.metadata?.annotations?.['bulkhead.dev/original-labels'] ?? '{}') as Record<
            string,
            string
          >;
          assert.equal(
            saved.app,
            p.metadata!.labels!.app,
            `${p.metadata!.name}: original labels lost, a release could not restore them (seed ${seed})`,
          );
        }
      }
    }
    // Every record file in git belongs to a Quarantine: nothing written that the cluster does not know.
    const files = (await git(repo.bareDir, 'ls-tree', '-r', '--name-only', 'main', '--', `records/crash/${ns}`))
      .split('\n')
      .filter(Boolean);
    assert.deepEqual(files.sort(), qs.map((q) => q.spec.recordPath!).sort());
  });
});
