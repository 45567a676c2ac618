// Report ingest throughput and memory (performance-anchors P5; issue 6's bench list).
//  - 10,000 simulated pods, each with its own token, post sidecar-shaped reports (10 samples,
//    ~1.5 KB: a 10 s batch at 1 probe/s) over HTTPS keep-alive, 16 connections, closed loop
//  - the real observe routes: authn (TokenReview cached; the review itself is a table lookup
//    here), per-pod rate limit, schema validation, per-pod windows
//  - same-run baseline: a minimal koa HTTPS server that parses the JSON and answers 202
//  - engine RSS once all 10,000 pods have full windows (120 samples each)
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { build } from 'esbuild';
import { createCertificateAuthority, issueCertificate } from '../engine/src/core/pki.js';
import { round, withBaseline, type Bench } from './lib.js';

const PODS = 10_000;

// The server runs as plain JavaScript (bundled by esbuild, packages external), as the engine
// image would: under tsx the TypeScript loader itself would weigh on RSS.
export async function bundleServer(): Promise<string> {
  const outfile = join(import.meta.dirname, 'results', '.build', 'ingest-server.mjs');
  await build({
    entryPoints: [join(import.meta.dirname, 'support', 'ingest-server.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
  });
  return outfile;
}

export interface Mem {
  rss: number;
  heapUsed: number;
  arrayBuffers: number;
}

export async function startServer(
  file: string,
  mode: 'observe' | 'baseline' | 'leader' | 'follower',
  certDir: string,
): Promise<{ child: ChildProcess; port: number; mem(): Promise<Mem> }> {
  const child = spawn(process.execPath, ['--expose-gc', file, mode, certDir], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const [chunk] = (await once(child.stdout!, 'data')) as [Buffer];
  const mem = async (): Promise<Mem> => {
    child.send('mem');
    const [m] = (await once(child, 'message')) as [Mem];
    return m;
  };
  return { child, port: Number(chunk.toString().trim()), mem };
}

export function load(
  port: number,
  seconds: number,
  seqs: Uint32Array,
  overallRate?: number,
  amount?: number,
): Promise<autocannon.Result> {
  let next = 0;
  const t0 = Date.now();
  return autocannon({
    url: `https://127.0.0.1:${port}`,
    connections: 16,
    duration: seconds,
    ...(overallRate ? { overallRate } : {}),
    ...(amount ? { amount } : {}),
    tlsOptions: { rejectUnauthorized: false },
    requests: [
      {
        method: 'POST',
        path: '/api/v1/reports',
        setupRequest: (req) => {
          const i = next++ % PODS;
          const first = seqs[i]! + 1;
          seqs[i] = first + 9;
          const samples = Array.from({ length: 10 }, (_, k) => ({
            seq: first + k,
            time: new Date(t0 + (first + k) * 1000).toISOString(),
            probe: { type: 'http', ok: true, latencyMs: 1.234, status: 200 },
          }));
          const body = JSON.stringify({
            apiVersion: 'bulkhead.dev/v1alpha1',
            kind: 'HealthReport',
            pod: { namespace: 'bench', name: `pod-${i}`, uid: `uid-${i}` },
            policy: 'bench',
            sidecar: { version: '0.1.0', instance: 'bench', startedAt: new Date(t0).toISOString() },
            dropped: 0,
            samples,
          });
          return { ...req, body, headers: { 'content-type': 'application/json', authorization: `Bearer pod-${i}` } };
        },
      },
    ],
  });
}

const bench: Bench = async ({ log, quick }) => {
  const seconds = quick ? 5 : 20;
  const dir = await mkdtemp(join(tmpdir(), 'bh-ingest-bench-'));
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
  const run = async (
    mode: 'observe' | 'baseline',
  ): Promise<{ r: autocannon.Result; paced: autocannon.Result; mem: Mem }> => {
    const { child, port, mem } = await startServer(file, mode, dir);
    try {
      const seqs = new Uint32Array(PODS);
      // Warm-up: every pod reports once (its first token review, its window allocated), then
      // a few seconds more so the JIT has settled.
      await load(port, 0, seqs, undefined, PODS);
      await load(port, quick ? 2 : 5, seqs);
      const r = await load(port, seconds, seqs);
      // P5's figure: latency at a fixed 2,000 reports/s (autocannon corrects for coordinated omission).
      const paced = await load(port, seconds, seqs, 2000);
      // Fill every window (120 samples = 12 reports a pod) before measuring memory.
      while (mode === 'observe' && Math.min(...seqs) < 130) await load(port, 5, seqs);
      return { r, paced, mem: await mem() };
    } finally {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  };
  const base = await run('baseline');
  const obs = await run('observe');
  const rate = (x: autocannon.Result): number => x.requests.average;
  const mib = (b: number): number => round(b / 2 ** 20, 1);
  log(
    `observe ${round(rate(obs.r))} req/s p99 ${obs.r.latency.p99} ms non2xx ${obs.r.non2xx} errors ${obs.r.errors}; baseline ${round(rate(base.r))} req/s p99 ${base.r.latency.p99} ms`,
  );
  log(
    `after GC: observe rss ${mib(obs.mem.rss)} heap ${mib(obs.mem.heapUsed)} buffers ${mib(obs.mem.arrayBuffers)}; baseline rss ${mib(base.mem.rss)} heap ${mib(base.mem.heapUsed)} buffers ${mib(base.mem.arrayBuffers)} MiB`,
  );
  const held = (m: Mem): number => m.heapUsed + m.arrayBuffers;
  return [
    withBaseline({
      name: 'ingest throughput, 10,000 pods, TokenReview cached, 16 connections',
      value: round(rate(obs.r), 0),
      unit: 'reports/s',
      baseline: { name: 'minimal koa HTTPS JSON 202', value: round(rate(base.r), 0) },
      goal: '>= 2,000 reports/s (P5)',
      met: rate(obs.r) >= 2000 && obs.r.non2xx === 0 && obs.r.errors === 0,
      notes: `${obs.r.non2xx} non-2xx, ${obs.r.errors} errors; 10 samples per report; load generator in the same 2 cores`,
    }),
    withBaseline({
      name: 'ingest latency p99 at full closed-loop load',
      value: obs.r.latency.p99,
      unit: 'ms',
      baseline: { name: 'minimal koa HTTPS JSON 202', value: base.r.latency.p99 },
      goal: 'p99 <= 20 ms (P5)',
      met: obs.r.latency.p99 <= 20,
    }),
    withBaseline({
      name: 'ingest latency p99 at a paced 2,000 reports/s',
      value: obs.paced.latency.p99,
      unit: 'ms',
      baseline: { name: 'minimal koa HTTPS JSON 202', value: base.paced.latency.p99 },
      goal: 'p99 <= 20 ms at 2,000 reports/s (P5)',
      met: obs.paced.latency.p99 <= 20 && obs.paced.non2xx === 0,
      notes: `achieved ${round(obs.paced.requests.average, 0)} reports/s`,
    }),
    withBaseline({
      name: 'engine RSS after GC, 10,000 pods with full windows (120 samples each)',
      value: mib(obs.mem.rss),
      unit: 'MiB',
      baseline: { name: 'minimal koa HTTPS after the same load', value: mib(base.mem.rss) },
      goal: '<= 128 MiB per process (P8)',
      met: obs.mem.rss <= 128 * 2 ** 20,
    }),
    withBaseline({
      name: 'live heap + array buffers after GC, 10,000 pods, full windows',
      value: mib(held(obs.mem)),
      unit: 'MiB',
      baseline: { name: 'minimal koa HTTPS after the same load', value: mib(held(base.mem)) },
      goal: 'windows + caches <= 70 MiB over the baseline (ADR 0400)',
      met: held(obs.mem) - held(base.mem) <= 70 * 2 ** 20,
    }),
  ];
};

export default bench;
