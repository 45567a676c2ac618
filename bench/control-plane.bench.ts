// Control-plane start-up: how long tests and the demo wait before the apiserver is usable.
//  - baseline: etcd + kube-apiserver only, binaries cached
//  - warm start: the full plane (controller-manager, scheduler, kwok, Ready nodes), cached
//  - cold start: empty binary cache, so build.sh rebuilds every binary (with Go's build cache
//    warm: what a second checkout on the same machine pays). BENCH_COLD_GOCACHE=1 also
//    empties Go's build cache: the true first-run cost, about 6 minutes on 2 cores.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalCluster } from '../tools/local-cluster/index.js';
import { median, round, timeRuns, withBaseline, type Bench } from './lib.js';

const runBuild = (env: NodeJS.ProcessEnv): Promise<void> =>
  new Promise((ok, fail) => {
    const child = spawn('bash', ['local-cluster/build.sh'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    child.once('exit', (code) => (code === 0 ? ok() : fail(new Error(`build.sh exited ${code}`))));
  });

const bench: Bench = async ({ log, quick }) => {
  const n = quick ? 1 : 3;
  const startStop = async (workloads: boolean): Promise<number> => {
    const c = await startLocalCluster({ workloads, nodes: 2 });
    const ms = c.startupMs;
    await c.stop();
    return ms;
  };
  const apiOnly: number[] = [];
  const full: number[] = [];
  for (let i = 0; i < n; i++) {
    apiOnly.push(await startStop(false));
    full.push(await startStop(true));
  }
  log(
    `apiserver-only ${apiOnly.map((v) => v.toFixed(0)).join(', ')} ms; full ${full.map((v) => v.toFixed(0)).join(', ')} ms`,
  );
  const base = { name: 'etcd + apiserver start (cached)', value: round(median(apiOnly), 0) };

  const cache = await mkdtemp(join(tmpdir(), 'bh-cold-'));
  let coldMs: number;
  try {
    const env = {
      ...process.env,
      BULKHEAD_CACHE_DIR: cache,
      ...(process.env.BENCH_COLD_GOCACHE === '1' ? { GOCACHE: join(cache, 'gocache') } : {}),
    };
    log(`cold build into ${cache}${env.GOCACHE ? ' with an empty Go build cache' : ' (Go build cache warm)'}`);
    const [buildMs] = await timeRuns(1, () => runBuild(env));
    const c = await startLocalCluster({
      workloads: true,
      nodes: 2,
      binDir: join(cache, 'bin', readdirSync(join(cache, 'bin'))[0]!),
    });
    coldMs = buildMs! + c.startupMs;
    await c.stop();
  } finally {
    await rm(cache, { recursive: true, force: true });
  }
  return [
    { name: 'etcd + apiserver start (cached)', value: base.value, unit: 'ms' },
    withBaseline({
      name: 'full plane warm start (cached, 2 kwok nodes Ready)',
      value: round(median(full), 0),
      unit: 'ms',
      baseline: base,
      goal: 'absolute <= 10000 ms',
      met: median(full) <= 10_000,
    }),
    withBaseline({
      name:
        process.env.BENCH_COLD_GOCACHE === '1'
          ? 'cold start (empty binary + Go build cache)'
          : 'cold start (empty binary cache, Go build cache warm)',
      value: round(coldMs, 0),
      unit: 'ms',
      baseline: { name: 'full plane warm start', value: round(median(full), 0) },
    }),
  ];
};

export default bench;
