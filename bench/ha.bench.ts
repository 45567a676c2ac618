// Issue 15: the data plane with 3 replicas against 1, same run, same machine (ADR 1501).
//  - ingest: 10,000 simulated pods through a per-connection round-robin balancer (as kube-proxy
//    balances the Service) over 1 replica, then over 3 (the leader and 2 followers, each its own
//    process running the real observe routes behind the leader gate); connections that land on
//    a follower are answered 421 + Connection: close and reconnect, as the sidecar does. Reports
//    accepted per replica and in total; the 1-replica run is the baseline.
//  - RSS of the leader after GC once all 10,000 pods have full windows, and of a follower.
//  - a full evaluation pass: 10,000 pods with full windows judged against their policies out of
//    1,000 (the evaluator as the pipeline wires it: the store, the policy lookup, the peers of
//    each pod); baseline, same run: 1,000 pods over 100 policies (linear scaling is 10×).
//  - report → isolated (bench/ha-isolation.ts): real engine processes with leader election on
//    a local control plane, 3 replicas against 1.
// Scaled to run on 2 shared cores in a few minutes: 20 s load phases (5 s with BENCH_QUICK=1).
import { once } from 'node:events';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type autocannon from 'autocannon';
import { excludedNamespaces } from '../engine/src/admission/index.js';
import { Evaluator } from '../engine/src/analytics/index.js';
import type { HealthPolicy } from '../engine/src/core/api/index.js';
import { silentLogger } from '../engine/src/core/logger.js';
import { createCertificateAuthority, issueCertificate } from '../engine/src/core/pki.js';
import { HealthStore } from '../engine/src/observe/index.js';
import { judgingPolicy } from '../engine/src/quarantine/index.js';
import { startRoundRobinBalancer } from '../test/harness/round-robin-balancer.js';
import { bundleServer, load, startServer } from './ingest.bench.js';
import { isolationLatency } from './support/ha-isolation.js';
import { round, withBaseline, type Bench, type BenchResult } from './lib.js';

const PODS = 10_000;
const MIB = 2 ** 20;

const accepted = (r: autocannon.Result): number => r['2xx'];
const misdirected = (r: autocannon.Result): number => r.statusCodeStats?.['421']?.count ?? 0;

async function ingest(
  log: (l: string) => void,
  seconds: number,
): Promise<{ results: BenchResult[]; leaderRss: number; followerRss: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'bh-ha-bench-'));
  const ca = await createCertificateAuthority('bench-ca', 1);
  const cert = await issueCertificate(ca, {
    commonName: '127.0.0.1',
    ipAddresses: ['127.0.0.1'],
    usage: 'server',
    validForDays: 1,
  });
  await writeFile(join(dir, 'tls.crt'), cert.cert);
  await writeFile(join(dir, 'tls.key'), cert.key);
  const file = await bundleServer();

  const run = async (replicas: 1 | 3) => {
    const servers = [await startServer(file, 'leader', dir)];
    for (let i = 1; i < replicas; i++) servers.push(await startServer(file, 'follower', dir));
    const balancer = await startRoundRobinBalancer(servers.map((s) => ({ host: '127.0.0.1', port: s.port })));
    try {
      const seqs = new Uint32Array(PODS);
      await load(balancer.port, 0, seqs, undefined, PODS);
      await load(balancer.port, 3, seqs);
      const r = await load(balancer.port, seconds, seqs);
      // Fill every window (120 samples = 12 reports a pod) before measuring memory.
      while (Math.min(...seqs) < 130) await load(balancer.port, 5, seqs);
      const mem = await Promise.all(servers.map((s) => s.mem()));
      return { r, mem };
    } finally {
      await balancer.close();
      for (const s of servers) {
        s.child.kill('SIGKILL');
        await once(s.child, 'exit');
      }
    }
  };
  const one = await run(1);
  const three = await run(3);
  const perSec = (n: number, r: autocannon.Result): number => round(n / (r.duration || seconds), 0);
  const total1 = perSec(accepted(one.r), one.r);
  const total3 = perSec(accepted(three.r), three.r);
  log(
    `1 replica: ${total1} reports/s; 3 replicas: ${total3} reports/s accepted (all by the leader), ${perSec(misdirected(three.r), three.r)} 421/s from followers, ${three.r.errors} errors`,
  );
  const leaderRss = three.mem[0]!.rss;
  const followerRss = Math.max(...three.mem.slice(1).map((m) => m.rss));
  return {
    leaderRss,
    followerRss,
    results: [
      withBaseline({
        name: 'ingest, 3 replicas: reports/s accepted in total (10,000 pods, 16 connections)',
        value: total3,
        unit: 'reports/s',
        baseline: { name: '1 replica through the same balancer', value: total1 },
        goal: 'ratio >= 0.9 (followers cost the leader nothing in steady state; ingest is the leader’s, ADR 1501)',
        met: total3 >= 0.9 * total1,
        notes: `per replica: leader ${total3}/s, each follower 0/s accepted (${perSec(misdirected(three.r), three.r)} 421/s in total while connections moved)`,
      }),
      withBaseline({
        name: 'ingest, 3 replicas: reports/s accepted by a follower',
        value: 0,
        unit: 'reports/s',
        baseline: { name: 'the leader', value: total3 },
        notes: 'followers refuse reports (421) before authentication; they hold no windows',
      }),
      withBaseline({
        name: 'leader RSS after GC, 10,000 pods with full windows (3 replicas)',
        value: round(leaderRss / MIB, 1),
        unit: 'MiB',
        baseline: { name: 'the single replica, same load', value: round(one.mem[0]!.rss / MIB, 1) },
        goal: '<= 300 MiB per replica',
        met: leaderRss <= 300 * MIB,
        notes: 'observe routes and windows only (the ingest part of a replica)',
      }),
      withBaseline({
        name: 'follower RSS after GC (3 replicas, same load)',
        value: round(followerRss / MIB, 1),
        unit: 'MiB',
        baseline: { name: 'the leader', value: round(leaderRss / MIB, 1) },
        goal: '<= 300 MiB per replica',
        met: followerRss <= 300 * MIB,
      }),
    ],
  };
}

/** `pods` pods with full healthy windows over `policies` policies, 100 pods a namespace. */
async function evaluationPass(pods: number, policies: number): Promise<number> {
  const byName = new Map<string, HealthPolicy>();
  for (let i = 0; i < policies; i++) {
    const name = `team-${i}`;
    byName.set(name, {
      apiVersion: 'bulkhead.dev/v1alpha1',
      kind: 'HealthPolicy',
      metadata: { name },
      spec: {
        match: { namespaces: [`ns-${i % 100}`] },
        probe: { http: { path: '/healthz', port: 8080 } },
        detect: {
          rules: [
            { type: 'ConsecutiveFailures', threshold: 3 },
            { type: 'ErrorRate', ratio: 0.5, window: '1m', minSamples: 10 },
          ],
        },
        action: { type: 'Quarantine' },
      },
    } as HealthPolicy);
  }
  const t0 = Date.now() - 130_000;
  const store = new HealthStore({ maxPods: pods, samplesPerPod: 120 });
  for (let p = 0; p < pods; p++) {
    const samples = Array.from({ length: 120 }, (_, k) => ({
      seq: k + 1,
      time: new Date(t0 + k * 1000).toISOString(),
      probe: { type: 'http' as const, ok: true, latencyMs: 1.5, status: 200 },
    }));
    store.addReport({
      pod: { namespace: `ns-${p % 100}`, name: `pod-${p}`, uid: `uid-${p}` },
      sidecar: { version: 'b', instance: 'b' },
      dropped: 0,
      samples,
    });
  }
  const judging = {
    policy: (n: string) => byName.get(n),
    namespaceLabels: async () => ({}),
    excludedNamespaces: new Set(excludedNamespaces('bulkhead-system')),
  };
  let verdicts = 0;
  // As quarantine-pipeline.ts wires it; pod facts are a cached read there, a map lookup here.
  const evaluator = new Evaluator({
    health: (uid) => store.get(uid),
    peers: (namespace, policy) => store.query({ namespace }).filter((h) => h.policy === policy),
    // The injection annotation names the pod's policy (p % policies keeps each policy's pods in
    // its namespace, p % 100).
    facts: async (pod) => ({
      labels: { app: pod.name },
      injectedPolicy: `team-${Number(pod.uid.slice(4)) % policies}`,
    }),
    policyFor: async (h, f) => {
      const judged = await judgingPolicy(
        f.injectedPolicy,
        { namespace: h.namespace, name: h.pod, labels: f.labels },
        judging,
      );
      store.setPolicy(h.uid, judged.policy?.metadata.name);
      return judged.policy;
    },
    onVerdict: async () => {
      verdicts++;
    },
    logger: silentLogger(),
  });
  const t = performance.now();
  for (let p = 0; p < pods; p++) evaluator.notify(`uid-${p}`);
  await evaluator.idle();
  const ms = performance.now() - t;
  evaluator.stop();
  if (verdicts !== 0) throw new Error(`healthy pods produced ${verdicts} verdicts`);
  return ms;
}

const bench: Bench = async ({ log, quick }) => {
  const { results, leaderRss, followerRss } = await ingest(log, quick ? 5 : 20);
  log(`leader rss ${round(leaderRss / MIB, 1)} MiB, follower ${round(followerRss / MIB, 1)} MiB`);
  const small = await evaluationPass(1_000, 100);
  const full = await evaluationPass(PODS, 1_000);
  log(`evaluation pass: 1,000 pods / 100 policies ${round(small, 0)} ms; 10,000 / 1,000 ${round(full, 0)} ms`);
  results.push(
    withBaseline({
      name: 'full evaluation pass: 10,000 pods with full windows, 1,000 policies',
      value: round(full, 0),
      unit: 'ms',
      baseline: { name: '1,000 pods, 100 policies (linear: ratio 10)', value: round(small, 0) },
      goal: '<= 2,000 ms',
      met: full <= 2000,
    }),
  );
  results.push(...(await isolationLatency({ log, runs: quick ? 5 : 20 })));
  return results;
};

export default bench;
