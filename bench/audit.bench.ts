// Audit storm: 1,000 quarantines arrive over 60 s (BENCH_QUICK: 200 over 12 s) while the
// outbox is drained every second, as the engine does. Reports the number of commits, that
// every record is in git, the time from the last quarantine to the last push, and the
// record lag. Baseline, same run: the git CLI committing and pushing one record at a time
// (what an unbatched audit log would do), as records per second.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { flushOutbox } from '../engine/src/audit/outbox.js';
import { RecordsRepo } from '../engine/src/audit/records-repo.js';
import type { Quarantine } from '../engine/src/core/api/index.js';
import { KubeClient } from '../engine/src/core/kube/client.js';
import { EventRecorder } from '../engine/src/core/kube/events.js';
import { ResourceResolver } from '../engine/src/core/kube/resources.js';
import { silentLogger } from '../engine/src/core/logger.js';
import { createTestNamespace, startLocalCluster } from '../tools/local-cluster/index.js';
import { patchQuarantineStatus } from '../engine/src/quarantine/index.js';
import { buildQuarantine } from '../engine/src/quarantine/quarantine-object.js';
import { installCrds } from '../test/harness/crds.js';
import { median, percentile, round, withBaseline, type Bench } from './lib.js';

const run = promisify(execFile);
const GIT_ENV = {
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  HOME: tmpdir(),
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_CONFIG_SYSTEM: '/dev/null',
  GIT_AUTHOR_NAME: 'b',
  GIT_AUTHOR_EMAIL: 'b@x.invalid',
  GIT_COMMITTER_NAME: 'b',
  GIT_COMMITTER_EMAIL: 'b@x.invalid',
};
const git = (cwd: string, ...args: string[]) =>
  run('git', args, { cwd, env: GIT_ENV, maxBuffer: 64 << 20 }).then((r) => r.stdout.trim());

async function bareRepo(root: string): Promise<{ url: string; bare: string; work: string }> {
  const bare = join(root, 'origin.git');
  const work = join(root, 'seed');
  await git(root, 'init', '-q', '--bare', '--initial-branch=main', bare);
  await git(root, 'init', '-q', '--initial-branch=main', work);
  await writeFile(join(work, 'README.md'), 'policy repo\n');
  await git(work, 'add', '-A');
  await git(work, 'commit', '-qm', 'initial');
  await git(work, 'push', '-q', bare, 'HEAD:refs/heads/main');
  return { url: `file://${bare}`, bare, work };
}

const bench: Bench = async ({ log, quick }) => {
  const total = quick ? 200 : 1000;
  const spreadMs = quick ? 12_000 : 60_000;
  const cluster = await startLocalCluster({ workloads: false });
  const root = await mkdtemp(join(tmpdir(), 'bh-audit-bench-'));
  try {
    const kc = cluster.kubeConfig();
    await installCrds(kc, 'deploy/crds');
    const ns = await createTestNamespace(kc, 'storm');
    const client = new KubeClient(kc, { maxSockets: 16 });
    const resolver = new ResourceResolver(client);
    const logger = silentLogger();
    const deps = {
      client,
      resolver,
      logger,
      events: new EventRecorder(client, { component: 'bulkhead', instance: 'bench', logger }),
      cluster: 'bench',
      now: () => new Date(),
    };
    const origin = await bareRepo(root);
    const repo = new RecordsRepo({
      url: origin.url,
      branch: 'main',
      cacheDir: join(root, 'engine'),
      env: { path: GIT_ENV.PATH, home: GIT_ENV.HOME },
      author: { name: 'bulkhead', email: 'bulkhead@noreply.invalid' },
      logger,
    });

    // Producer: quarantines at an even rate, each made Isolated as the executor would.
    const createdAt = new Map<string, number>();
    const res = await resolver.resolve('bulkhead.dev/v1alpha1', 'Quarantine');
    let produced = 0;
    const t0 = performance.now();
    const producer = (async () => {
      for (let i = 0; i < total; i++) {
        const due = t0 + (i * spreadMs) / total;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((ok) => setTimeout(ok, wait));
        const pod = {
          namespace: ns,
          name: `storm-${i}`,
          uid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
          labels: {},
          samples: [],
          events: [],
        };
        const q = buildQuarantine({
          action: {
            pod,
            action: 'Quarantine',
            role: 'primary',
            reason: 'ConsecutiveProbeFailures',
            message: 'bench',
            signals: [],
          },
          kind: 'Quarantine',
          policy: 'storm',
          mode: 'Enforce',
          incident: 'storm',
          cluster: 'bench',
          now: new Date(),
        });
        const created = await client.request<Quarantine>({
          method: 'POST',
          path: `/apis/bulkhead.dev/v1alpha1/namespaces/${ns}/${res.plural}`,
          body: q,
        });
        await patchQuarantineStatus(
          deps,
          created,
          { phase: 'Isolated', audit: { state: 'Pending', path: q.spec.recordPath! } },
          'Isolated',
          'bench',
        );
        createdAt.set(q.spec.recordPath!, performance.now());
        produced++;
      }
    })();

    // Consumer: the engine's audit cycle, once a second.
    const pushedAt = new Map<string, number>();
    let commits = 0;
    let lastPush = 0;
    while (pushedAt.size < total) {
      const cycleStart = performance.now();
      for (;;) {
        const before = new Set(createdAt.keys());
        const r = await flushOutbox({ ...deps, repo });
        if (r.committed > 0) {
          commits++;
          lastPush = performance.now();
          // Records pushed by this flush: every one created before it started and not yet pushed.
          for (const p of before) if (!pushedAt.has(p)) pushedAt.set(p, lastPush);
        }
        if (r.waiting === 0) break;
      }
      if (produced === total && pushedAt.size >= total) break;
      const rest = 1000 - (performance.now() - cycleStart);
      if (rest > 0) await new Promise((ok) => setTimeout(ok, rest));
    }
    await producer;
    const lastCreated = Math.max(...createdAt.values());
    const inGit = (await git(origin.bare, 'ls-tree', '-r', '--name-only', 'main', '--', 'records/bench'))
      .split('\n')
      .filter(Boolean).length;
    const lags = [...createdAt].map(([p, t]) => (pushedAt.get(p) ?? lastPush) - t);
    log(
      `${total} quarantines → ${commits} commits, ${inGit} records in git, last push ${(lastPush - lastCreated).toFixed(0)} ms after the last quarantine`,
    );

    // Baseline: one commit + push per record with the git CLI, 100 records.
    const seed = join(root, 'baseline');
    await mkdir(join(root, 'b'));
    const b = await bareRepo(join(root, 'b'));
    await git(root, 'clone', '-q', b.bare, seed);
    const n = quick ? 30 : 100;
    const tb = performance.now();
    for (let i = 0; i < n; i++) {
      await mkdir(join(seed, 'records'), { recursive: true });
      await writeFile(join(seed, 'records', `r-${i}.yaml`), `record: ${i}\n`);
      await git(seed, 'add', '-A');
      await git(seed, 'commit', '-qm', `record ${i}`);
      await git(seed, 'push', '-q', 'origin', 'HEAD:refs/heads/main');
    }
    const baselineRate = n / ((performance.now() - tb) / 1000);
    const drainSeconds = (lastPush - t0) / 1000;
    return [
      {
        name: `audit storm: commits for ${total} quarantines`,
        value: commits,
        unit: 'commits',
        goal: `<= ${Math.ceil(spreadMs / 1000) + 5} (batched, about one a second)`,
        met: commits <= Math.ceil(spreadMs / 1000) + 5,
      },
      {
        name: 'audit storm: records present in git',
        value: inGit,
        unit: 'records',
        goal: `= ${total}`,
        met: inGit === total,
      },
      {
        name: 'audit storm: last quarantine → last push',
        value: round(lastPush - lastCreated, 0),
        unit: 'ms',
        goal: '<= 5000',
        met: lastPush - lastCreated <= 5000,
      },
      { name: 'audit storm: record lag p50', value: round(median(lags), 0), unit: 'ms' },
      {
        name: 'audit storm: record lag p95',
        value: round(percentile(lags, 95), 0),
        unit: 'ms',
        goal: '<= 5000',
        met: percentile(lags, 95) <= 5000,
      },
      withBaseline({
        name: 'audit throughput (records pushed per second, storm)',
        value: round(total / drainSeconds, 1),
        unit: 'records/s',
        baseline: { name: 'git CLI, one commit + push per record', value: round(baselineRate, 1) },
      }),
    ];
  } finally {
    await cluster.stop();
    await rm(root, { recursive: true, force: true });
  }
};

export default bench;
