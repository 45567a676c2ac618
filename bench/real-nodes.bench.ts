// Real nodes (root on Linux), each figure beside the kwok equivalent measured in the same run:
//  - bring-up: startLocalCluster with 2 real nodes (containerd, image imports, kubelet,
//    kube-proxy, kube-router, CoreDNS; binaries and images cached) vs 2 kwok nodes
//  - pod start: `kubectl apply` of a demo-app pod with a readiness probe → Ready, real node
//    vs kwok node (kwok only flips the status)
//  - RSS of containerd and kubelet per node, with 3 pods running
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import { DEMO_APP_IMAGE } from '../images/images.js';
import { buildImages } from '../tools/images/build-images.js';
import { startLocalCluster, type LocalCluster } from '../tools/local-cluster/index.js';
import { median, percentile, round, withBaseline, type Bench } from './lib.js';

const exec = promisify(execFile);

function kubectl(c: LocalCluster, args: string[], input?: string): Promise<string> {
  return new Promise((ok, fail) => {
    const child = execFile(
      join(c.binDir, 'kubectl'),
      args,
      { env: { PATH: process.env.PATH, HOME: process.env.HOME, KUBECONFIG: c.kubeconfigPath }, timeout: 180_000 },
      (err, stdout, stderr) => (err ? fail(new Error(`${args.join(' ')}: ${stderr}`)) : ok(String(stdout))),
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

async function podStartMs(c: LocalCluster, name: string, node: string): Promise<number> {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: {
      nodeName: node,
      terminationGracePeriodSeconds: 1,
      containers: [
        {
          name: 'app',
          image: DEMO_APP_IMAGE.ref,
          imagePullPolicy: 'IfNotPresent',
          readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 1 },
        },
      ],
    },
  };
  const t = performance.now();
  await kubectl(c, ['apply', '-f', '-'], JSON.stringify(pod));
  await kubectl(c, ['wait', 'pod', name, '--for=condition=Ready', '--timeout=120s']);
  return performance.now() - t;
}

async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

async function pidsOf(binary: string): Promise<number[]> {
  const { stdout } = await exec('pgrep', ['-x', binary]).catch(() => ({ stdout: '' }));
  return stdout.split('\n').filter(Boolean).map(Number);
}

const bench: Bench = async ({ log, quick }) => {
  const n = quick ? 3 : 10;
  const images = (await buildImages({ outDir: join(tmpdir(), `bh-bench-images-${process.pid}`) })).map(
    ({ ref, archive }) => ({ ref, archive }),
  );
  const measure = async (real: boolean) => {
    const c = await startLocalCluster(real ? { realNodes: 2, images } : { workloads: true, nodes: 2 });
    try {
      const starts: number[] = [];
      for (let i = 0; i < n; i++) {
        starts.push(await podStartMs(c, `p${i}`, c.nodeNames[i % 2]!));
        if (i >= 3) await kubectl(c, ['delete', 'pod', `p${i}`, '--wait=false']);
      }
      const rss = real
        ? {
            containerd: (await Promise.all((await pidsOf('containerd')).map(rssMiB))).slice(0, 2),
            kubelet: (await Promise.all((await pidsOf('kubelet')).map(rssMiB))).slice(0, 2),
          }
        : undefined;
      return { startupMs: c.startupMs, starts, rss };
    } finally {
      await c.stop();
    }
  };
  const kwok = await measure(false);
  const real = await measure(true);
  log(`bring-up real ${real.startupMs} ms, kwok ${kwok.startupMs} ms`);
  log(`pod start real ${real.starts.map((v) => v.toFixed(0)).join(', ')} ms`);
  const rssLine = (xs: number[] | undefined) => (xs ?? []).map((v) => `${v.toFixed(0)} MiB`).join(', ');
  return [
    withBaseline({
      name: 'real nodes: bring-up of 2 nodes (binaries and images cached)',
      value: real.startupMs,
      unit: 'ms',
      baseline: { name: '2 kwok nodes', value: kwok.startupMs },
    }),
    withBaseline({
      name: 'real nodes: pod start, apply → Ready (median)',
      value: round(median(real.starts), 0),
      unit: 'ms',
      baseline: { name: 'kwok node (median)', value: round(median(kwok.starts), 0) },
      notes: `p90 ${round(percentile(real.starts, 90), 0)} ms over ${n} pods`,
    }),
    {
      name: 'real nodes: RSS of containerd and kubelet per node (3 pods each)',
      value: round(median([...(real.rss?.containerd ?? []), ...(real.rss?.kubelet ?? [])]), 0),
      unit: 'MiB',
      notes: `containerd ${rssLine(real.rss?.containerd)}; kubelet ${rssLine(real.rss?.kubelet)}`,
    },
  ];
};

export default bench;
