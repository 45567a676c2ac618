// GitOps sync: commit → applied latency (push webhook, and a 1 s poll), 1,000 policies applied
// from scratch (time and apiserver requests), and a no-op resync of 1,000 (must make no
// writes). Real git repos, a real apiserver, the engine wired as `bulkhead run` wires it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startLocalCluster } from '../tools/local-cluster/index.js';
import { startEngine } from '../engine/src/runtime/index.js';
import { silentLogger } from '../engine/src/core/logger.js';
import { KubeClient } from '../engine/src/core/kube/client.js';
import { loadPolicyDir } from '../engine/src/policy/index.js';
import { hmacSha256Hex } from '../engine/src/source/webhook-signature.js';
import type { PolicySource } from '../engine/src/core/api/index.js';
import { installCrds } from '../test/harness/crds.js';
import { eventually } from '../test/harness/eventually.js';
import { createTestRepo, git } from '../test/harness/git-repo.js';
import { percentile, round, timeRuns, withBaseline, median, type Bench, type BenchResult } from './lib.js';

const PS = '/apis/bulkhead.dev/v1alpha1/policysources';
const SECRET = 'bench-hook-secret';

const policy = (name: string, threshold: number): string =>
  `apiVersion: bulkhead.dev/v1alpha1
kind: HealthPolicy
metadata:
  name: ${name}
spec:
  match:
    namespaces: [bench]
  probe:
    http: { path: /healthz, port: 8080 }
  detect:
    rules:
      - type: ConsecutiveFailures
        threshold: ${threshold}
  action:
    type: Alert
`;

async function metrics(url: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const line of (await (await fetch(`${url}/metrics`)).text()).split('\n')) {
    const m = /^(bulkhead_kube_request_duration_seconds_count)\{[^}]*verb="([A-Z]+)"[^}]*\}\s+([0-9.]+)$/.exec(line);
    if (m) out.set(m[2]!, (out.get(m[2]!) ?? 0) + Number(m[3]));
    const r =
      /^bulkhead_source_reconcile_duration_seconds_(count|sum)\{[^}]*source="([^"]+)"[^}]*\}\s+([0-9.e+-]+)$/.exec(
        line,
      );
    if (r) out.set(`${r[1]}:${r[2]}`, (out.get(`${r[1]}:${r[2]}`) ?? 0) + Number(r[3]));
  }
  return out;
}
const delta = (a: Map<string, number>, b: Map<string, number>, k: string): number => (b.get(k) ?? 0) - (a.get(k) ?? 0);

const bench: Bench = async ({ log, quick }) => {
  const results: BenchResult[] = [];
  const cluster = await startLocalCluster({ workloads: false });
  const admin = new KubeClient(cluster.kubeConfig());
  const cache = await mkdtemp(join(tmpdir(), 'bh-gitops-bench-'));
  const repos: { remove(): Promise<void> }[] = [];
  const engine = await (async () => {
    await installCrds(cluster.kubeConfig(), resolve('deploy/crds'));
    return startEngine(
      {
        kubeconfig: cluster.kubeconfigPath,
        namespace: 'default',
        identity: 'bench',
        listen: { host: '127.0.0.1', port: 0 },
        apply: true,
        forceConflicts: false,
        leaderElection: {
          enabled: true,
          leaseName: 'bulkhead-engine',
          leaseDurationMs: 8000,
          renewDeadlineMs: 5000,
          retryPeriodMs: 1000,
        },
        cacheDir: cache,
        webhookSecret: SECRET,
        minIntervalMs: 1000,
        eventNamespace: 'default',
        logLevel: 'silent',
        gitEnv: { path: process.env.PATH ?? '', home: tmpdir() },
      },
      { logger: silentLogger(), loadPolicies: (dir) => loadPolicyDir(dir) },
    );
  })();
  const source = async (name: string, url: string, interval: string): Promise<void> => {
    await admin.request({
      method: 'POST',
      path: PS,
      body: { apiVersion: 'bulkhead.dev/v1alpha1', kind: 'PolicySource', metadata: { name }, spec: { url, interval } },
    });
  };
  const applied = (name: string, rev: string, timeoutMs = 60_000): Promise<void> =>
    eventually(
      async () => {
        const s = await admin.request<PolicySource>({ method: 'GET', path: `${PS}/${name}` });
        if (s.status?.lastAppliedRevision !== rev)
          throw new Error(`at ${s.status?.lastAppliedRevision}: ${JSON.stringify(s.status?.conditions)}`);
      },
      { timeoutMs, intervalMs: 20, what: `${name} at ${rev.slice(0, 8)}` },
    );
  try {
    const n = quick ? 10 : 50;
    // --- commit → applied, push webhook (polling at 1h, so only the webhook syncs)
    const hookRepo = await createTestRepo();
    repos.push(hookRepo);
    await hookRepo.commit({ 'policies/p.yaml': policy('bench-hook', 1) });
    await source('bench-hook', hookRepo.url, '1h');
    await applied('bench-hook', await hookRepo.head());
    const fetchOnly = await timeRuns(quick ? 5 : 20, async () => {
      await git(hookRepo.workDir, 'fetch', '--quiet', '--depth', '1', 'origin', 'main');
    });
    const hook: number[] = [];
    for (let i = 0; i < n; i++) {
      const head = await hookRepo.commit({ 'policies/p.yaml': policy('bench-hook', i + 2) });
      const body = JSON.stringify({ ref: 'refs/heads/main', after: head });
      const t = performance.now();
      const res = await fetch(`${engine.url}/hooks/git/bench-hook`, {
        method: 'POST',
        body,
        headers: { 'x-hub-signature-256': `sha256=${hmacSha256Hex(SECRET, body)}` },
      });
      if (res.status !== 202) throw new Error(`webhook answered ${res.status}`);
      await applied('bench-hook', head);
      hook.push(performance.now() - t);
    }
    log(
      `webhook: p50 ${median(hook).toFixed(0)} ms, p99 ${percentile(hook, 99).toFixed(0)} ms; git fetch alone p50 ${median(fetchOnly).toFixed(0)} ms`,
    );
    const fetchBase = { name: 'git fetch --depth 1 alone (same repo)', value: round(median(fetchOnly), 1) };
    results.push(
      withBaseline({
        name: `commit → applied, push webhook, p50 (${n} commits)`,
        value: round(median(hook), 1),
        unit: 'ms',
        baseline: fetchBase,
      }),
    );
    results.push(
      withBaseline({
        name: `commit → applied, push webhook, p99 (${n} commits)`,
        value: round(percentile(hook, 99), 1),
        unit: 'ms',
        baseline: fetchBase,
        goal: 'under 2 s',
        met: percentile(hook, 99) < 2000,
      }),
    );

    // --- commit → applied, 1 s poll
    const pollRepo = await createTestRepo();
    repos.push(pollRepo);
    await pollRepo.commit({ 'policies/p.yaml': policy('bench-poll', 1) });
    await source('bench-poll', pollRepo.url, '1s');
    await applied('bench-poll', await pollRepo.head());
    const poll: number[] = [];
    for (let i = 0; i < n; i++) {
      // Commit at a random phase of the poll timer (it restarts after each sync), so the
      // figure is what a person pushing at any moment sees, not a best or worst case.
      await new Promise((ok) => setTimeout(ok, Math.random() * 1000));
      const t = performance.now();
      const head = await pollRepo.commit({ 'policies/p.yaml': policy('bench-poll', i + 2) });
      await applied('bench-poll', head);
      poll.push(performance.now() - t);
    }
    log(`poll 1s: p50 ${median(poll).toFixed(0)} ms, p99 ${percentile(poll, 99).toFixed(0)} ms`);
    const hookBase = { name: 'same, push webhook p50', value: round(median(hook), 1) };
    results.push(
      withBaseline({
        name: `commit → applied, 1 s poll, p50 (${n} commits)`,
        value: round(median(poll), 1),
        unit: 'ms',
        baseline: hookBase,
      }),
    );
    results.push(
      withBaseline({
        name: `commit → applied, 1 s poll, p99 (${n} commits)`,
        value: round(percentile(poll, 99), 1),
        unit: 'ms',
        baseline: hookBase,
        goal: 'under interval + 1 s',
        met: percentile(poll, 99) < 2000,
      }),
    );

    // --- 1,000 policies from scratch
    const big = await createTestRepo();
    repos.push(big);
    const files: Record<string, string> = {};
    for (let f = 0; f < 100; f++) {
      files[`policies/team-${f}.yaml`] = Array.from({ length: 10 }, (_, d) => policy(`bench-${f}-${d}`, 3)).join(
        '---\n',
      );
    }
    const head = await big.commit(files);
    // Baseline: the same 1,000 objects created by plain POSTs, 8 at a time, then deleted.
    const plain = async (): Promise<number> => {
      const objs = Array.from({ length: 1000 }, (_, i) => ({
        apiVersion: 'bulkhead.dev/v1alpha1',
        kind: 'HealthPolicy',
        metadata: { name: `plain-${i}` },
        spec: {
          match: { namespaces: ['bench'] },
          probe: { http: { path: '/healthz', port: 8080 } },
          detect: { rules: [{ type: 'ConsecutiveFailures', threshold: 3 }] },
          action: { type: 'Alert' },
        },
      }));
      const t = performance.now();
      let next = 0;
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (next < objs.length)
            await admin.request({
              method: 'POST',
              path: '/apis/bulkhead.dev/v1alpha1/healthpolicies',
              body: objs[next++],
            });
        }),
      );
      const ms = performance.now() - t;
      await admin
        .request({ method: 'DELETE', path: '/apis/bulkhead.dev/v1alpha1/healthpolicies', query: { labelSelector: '' } })
        .catch(() => {});
      await eventually(
        async () => {
          const l = await admin.request<{ items: unknown[] }>({
            method: 'GET',
            path: '/apis/bulkhead.dev/v1alpha1/healthpolicies',
            query: { limit: '5' },
          });
          const left = l.items.filter((o) =>
            (o as { metadata: { name: string } }).metadata.name.startsWith('plain-'),
          ).length;
          if (left > 0) throw new Error(`${left} left`);
        },
        { timeoutMs: 60_000 },
      );
      return ms;
    };
    const plainMs = await plain();
    // The webhook and poll sources' objects were deleted by the collection delete above: let them re-apply.
    await admin.request({ method: 'DELETE', path: `${PS}/bench-poll` });
    await admin.request({ method: 'DELETE', path: `${PS}/bench-hook` });
    const m0 = await metrics(engine.url);
    const t0 = performance.now();
    await source('bench-1000', big.url, '1h');
    await applied('bench-1000', head, 180_000);
    const applyMs = performance.now() - t0;
    const m1 = await metrics(engine.url);
    const reqs = ['GET', 'PATCH', 'POST', 'PUT', 'DELETE'].map((v) => `${v} ${delta(m0, m1, v)}`).join(', ');
    const total = ['GET', 'PATCH', 'POST', 'PUT', 'DELETE'].reduce((s, v) => s + delta(m0, m1, v), 0);
    log(
      `1,000 policies from scratch: ${applyMs.toFixed(0)} ms, requests: ${reqs}; plain POSTs ${plainMs.toFixed(0)} ms`,
    );
    results.push(
      withBaseline({
        name: '1,000 policies applied from scratch (source created → Ready)',
        value: round(applyMs, 0),
        unit: 'ms',
        baseline: { name: '1,000 plain POST creates, 8 parallel', value: round(plainMs, 0) },
        notes: `apiserver requests: ${reqs} (lease renewals included)`,
      }),
    );
    results.push({
      name: '1,000 policies from scratch: apiserver requests',
      value: total,
      unit: 'requests',
      notes: reqs,
    });

    // --- no-op resync of 1,000: trigger the same revision again
    const before = await metrics(engine.url);
    const hookBody = JSON.stringify({ ref: 'refs/heads/main' });
    const resyncs = quick ? 3 : 10;
    for (let i = 0; i < resyncs; i++) {
      const c0 = (await metrics(engine.url)).get('count:bench-1000') ?? 0;
      await fetch(`${engine.url}/hooks/git/bench-1000`, {
        method: 'POST',
        body: hookBody,
        headers: { 'x-gitlab-token': SECRET },
      });
      await eventually(
        async () => {
          if (((await metrics(engine.url)).get('count:bench-1000') ?? 0) <= c0) throw new Error('not yet');
        },
        { intervalMs: 10 },
      );
    }
    const after = await metrics(engine.url);
    const writes = ['PATCH', 'POST', 'DELETE'].reduce((s, v) => s + delta(before, after, v), 0);
    const avgResync = (delta(before, after, 'sum:bench-1000') / resyncs) * 1000;
    const lists = await timeRuns(5, () =>
      admin.request({ method: 'GET', path: '/apis/bulkhead.dev/v1alpha1/healthpolicies' }),
    );
    log(
      `no-op resync of 1,000: ${avgResync.toFixed(0)} ms each, writes ${writes}, GETs ${delta(before, after, 'GET')} over ${resyncs} resyncs`,
    );
    results.push({
      name: `no-op resync of 1,000 policies: writes (${resyncs} resyncs)`,
      value: writes,
      unit: 'writes',
      goal: '0',
      met: writes === 0,
      notes: `PUTs (lease renewals) excluded: ${delta(before, after, 'PUT')}`,
    });
    results.push(
      withBaseline({
        name: 'no-op resync of 1,000 policies: time per resync',
        value: round(avgResync, 1),
        unit: 'ms',
        baseline: { name: 'one LIST of the 1,000 objects', value: round(median(lists), 1) },
      }),
    );
  } finally {
    await engine.stop();
    admin.close();
    for (const r of repos) await r.remove();
    await rm(cache, { recursive: true, force: true });
    await cluster.stop();
  }
  return results;
};

export default bench;
