// Detection with ground truth: scripted faults on real app processes, each watched by the real
// sidecar process (probe every 1 s as the policy says, reports at the sidecar's shipped 10 s
// interval: nothing shortened), reporting over HTTPS with pod-bound tokens (real TokenReview)
// into the engine's observe → analytics → quarantine pipeline, as start-data-plane wires it.
// Each run starts one pod per fault beside two healthy siblings under the same policy, waits for
// healthy history, injects every fault at once and times fault → Quarantine created, and checks
// the detector that fired is the one meant for the fault. Healthy siblings quarantined are false
// quarantines. Side by side: what kubelet liveness defaults (period 10 s, failureThreshold 3,
// timeout 1 s) would do with the same fault, computed from its schedule (a probe phase per run).
// Faults that need a real kubelet (crash loop, OOM, CPU spike, connection burst) are not here.
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api } from '@kubernetes/client-node';
import Koa from 'koa';
import { Registry } from 'prom-client';
import type { HealthPolicy } from '../engine/src/core/api/index.js';
import { KubeClient } from '../engine/src/core/kube/client.js';
import { EventRecorder } from '../engine/src/core/kube/events.js';
import { ResourceResolver } from '../engine/src/core/kube/resources.js';
import { silentLogger } from '../engine/src/core/logger.js';
import { createCertificateAuthority, issueCertificate } from '../engine/src/core/pki.js';
import { createObserve } from '../engine/src/observe/index.js';
import { listQuarantines } from '../engine/src/quarantine/index.js';
import { startQuarantinePipeline } from '../engine/src/runtime/quarantine-pipeline.js';
import { createTestNamespace, mintServiceAccountToken, startLocalCluster } from '../tools/local-cluster/index.js';
import { installCrds } from '../test/harness/crds.js';
import {
  killAll,
  quickSidecarEnv,
  startApp,
  startSidecar,
  type AppMode,
} from '../test/integration/support/observe-processes.js';
import { median, round, type Bench, type BenchResult } from './lib.js';

const POLICY = 'detect';
const policy: HealthPolicy = {
  apiVersion: 'bulkhead.dev/v1alpha1',
  kind: 'HealthPolicy',
  metadata: { name: POLICY },
  spec: {
    match: {},
    probe: { http: { path: '/health', port: 8080 }, interval: '1s', timeout: '1s' },
    detect: {
      rules: [
        { type: 'ConsecutiveFailures', threshold: 3 },
        { type: 'ErrorRate', ratio: 0.5, window: '10s', minSamples: 6 },
        { type: 'LatencyP99', latency: '300ms', window: '10s', minSamples: 5 },
      ],
    },
    action: { type: 'Quarantine', budget: { maxUnavailable: 1, maxPerNamespacePerHour: 10_000 } },
  },
};

interface Fault {
  name: string;
  /** What the app does from the fault on, or `identity`: the pod's token used to report about a sibling. */
  mode: AppMode | 'identity';
  detector: string;
  /** Kubelet liveness (10 s × 3, timeout 1 s) with the probe phase `phaseS` after the fault: seconds to a restart, or undefined for never. */
  kubelet: (phaseS: number) => number | undefined;
  kubeletWhy: string;
}

const FAULTS: Fault[] = [
  {
    name: 'hang (no answer)',
    mode: 'hang',
    detector: 'ConsecutiveFailures',
    // The first probe after the fault times out, then two more 10 s apart.
    kubelet: (phase) => phase + 20 + 1,
    kubeletWhy: 'three timed-out probes 10 s apart, then a restart',
  },
  {
    name: 'error burst (2 of 3 answers 500)',
    mode: 'errors',
    detector: 'ErrorRate',
    kubelet: () => undefined,
    kubeletWhy: 'never three failures in a row: never',
  },
  {
    name: 'slow responses (600 ms)',
    mode: 'slow',
    detector: 'LatencyP99',
    kubelet: () => undefined,
    kubeletWhy: 'within the 1 s timeout: never',
  },
  {
    name: 'identity probing (reports about a sibling, 1/s)',
    mode: 'identity',
    detector: 'IdentityRejected',
    kubelet: () => undefined,
    kubeletWhy: 'not a probe failure: never',
  },
];

const bench: Bench = async ({ log, quick }) => {
  const runs = quick ? 2 : 5;
  const cluster = await startLocalCluster({ workloads: true, nodes: 1 });
  const logger = silentLogger();
  try {
    const kc = cluster.kubeConfig();
    await installCrds(kc, 'deploy/crds');
    const ns = await createTestNamespace(kc, 'detect');
    const core = kc.makeApiClient(CoreV1Api);
    const client = new KubeClient(kc);
    const registry = new Registry();
    const wake: { notify?: (uid: string) => void } = {};
    const observe = createObserve({ kubeConfig: kc, registry, logger, store: { onChange: (u) => wake.notify?.(u) } });
    const pipeline = startQuarantinePipeline({
      client,
      resolver: new ResourceResolver(client),
      events: new EventRecorder(client, { component: 'bulkhead', instance: 'bench', logger }),
      logger,
      registry,
      store: observe.store,
      identityRejections: observe.identityRejections,
      authenticator: observe.authenticator,
      policy: (n) => (n === POLICY ? policy : undefined),
      isLeader: () => true,
      cluster: 'bench',
      engineNamespace: 'bulkhead-system',
      env: { path: process.env.PATH ?? '', home: process.env.HOME ?? '/tmp' },
    });
    wake.notify = (uid) => pipeline.notify(uid);
    const app = new Koa();
    app.use(observe.router.routes());
    const authority = await createCertificateAuthority('detect-bench', 1);
    const serving = await issueCertificate(authority, {
      commonName: '127.0.0.1',
      ipAddresses: ['127.0.0.1'],
      usage: 'server',
      validForDays: 1,
    });
    const server = createServer({ cert: serving.cert, key: serving.key }, app.callback());
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const reportUrl = `https://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/reports`;
    const caPath = join(cluster.runDir, 'detect-ca.crt');
    await writeFile(caPath, authority.cert);

    const createPod = async (name: string) => {
      const pod = await core.createNamespacedPod({
        namespace: ns,
        body: {
          metadata: {
            name,
            labels: { app: 'detect' },
            annotations: { 'bulkhead.dev/injected': JSON.stringify({ policy: POLICY, sidecar: '0.1.0' }) },
          },
          spec: { serviceAccountName: 'reporter', containers: [{ name: 'app', image: 'registry.invalid/app:1' }] },
        },
      });
      const ref = { namespace: ns, name, uid: pod.metadata!.uid! };
      const token = await mintServiceAccountToken(kc, ns, 'reporter', {
        audiences: ['bulkhead'],
        boundPod: { name, uid: ref.uid },
        expirationSeconds: 3600,
      });
      const proc = await startApp(`${name}-app`);
      const env = { ...quickSidecarEnv(proc.port, reportUrl, caPath), BULKHEAD_PROBE_INTERVAL: '1s' };
      // The shipped report interval (the injector does not set one): 10 s.
      delete (env as Record<string, string>).BULKHEAD_REPORT_INTERVAL;
      delete (env as Record<string, string>).BULKHEAD_PROBE_TIMEOUT;
      await startSidecar(ref, token, env, `${name}-sidecar`);
      return { ref, uid: ref.uid, app: proc, token };
    };
    // First seen by a 250 ms poll (creationTimestamp has 1 s resolution): times are +0-250 ms.
    const seen = new Map<string, { reason: string; at: number }>();
    const quarantined = async (): Promise<Map<string, { reason: string; at: number }>> => {
      for (const q of await listQuarantines(client, new ResourceResolver(client), ns))
        if (!seen.has(q.spec.pod.uid)) seen.set(q.spec.pod.uid, { reason: q.spec.reason, at: Date.now() });
      return seen;
    };
    const foreignReport = (
      from: { token: string },
      about: { namespace: string; name: string; uid: string },
      seq: number,
    ) =>
      new Promise<number>((ok, fail) => {
        const body = JSON.stringify({
          apiVersion: 'bulkhead.dev/v1alpha1',
          kind: 'HealthReport',
          pod: about,
          sidecar: { version: '0.1.0', instance: 'probe', startedAt: new Date().toISOString() },
          dropped: 0,
          samples: [
            {
              seq,
              time: new Date().toISOString(),
              probe: { type: 'http', ok: false, latencyMs: 1, status: 500, error: 'UnexpectedStatus' },
            },
          ],
        });
        request(
          reportUrl,
          {
            method: 'POST',
            ca: authority.cert,
            headers: { 'content-type': 'application/json', authorization: `Bearer ${from.token}` },
          },
          (res) => {
            res.resume();
            res.on('end', () => ok(res.statusCode ?? 0));
          },
        )
          .on('error', fail)
          .end(body);
      });

    const found = FAULTS.map(() => ({
      detected: 0,
      wrong: [] as string[],
      ttd: [] as number[],
      kubelet: [] as number[],
    }));
    let falseQuarantines = 0;
    let healthyTotal = 0;
    try {
      for (let r = 0; r < runs; r++) {
        const faulty = await Promise.all(FAULTS.map((f, i) => createPod(`r${r}-f${i}`)));
        const healthy = await Promise.all([0, 1].map((i) => createPod(`r${r}-ok${i}`)));
        healthyTotal += healthy.length;
        // Healthy history: every pod's first report (10 s) is in.
        const t0wait = Date.now();
        while (![...faulty, ...healthy].every((p) => (observe.store.get(p.uid)?.samples.length ?? 0) >= 5)) {
          if (Date.now() - t0wait > 60_000) throw new Error('sidecars did not report within 60 s');
          await new Promise((ok) => setTimeout(ok, 250));
        }
        const t0 = Date.now();
        await Promise.all(FAULTS.map((f, i) => (f.mode === 'identity' ? undefined : faulty[i]!.app.setMode(f.mode))));
        let seq = 0;
        const prober = setInterval(() => {
          const i = FAULTS.findIndex((f) => f.mode === 'identity');
          void foreignReport(faulty[i]!, healthy[0]!.ref, ++seq).then(
            (code) => code === 403 || log(`a report about another pod answered ${code}, not 403`),
            () => {},
          );
        }, 1000);
        let q = await quarantined();
        while (!faulty.every((p) => q.has(p.uid)) && Date.now() - t0 < 60_000) {
          await new Promise((ok) => setTimeout(ok, 250));
          q = await quarantined();
        }
        clearInterval(prober);
        // The siblings stay healthy a while longer: a late false quarantine counts too.
        await new Promise((ok) => setTimeout(ok, 5_000));
        q = await quarantined();
        FAULTS.forEach((f, i) => {
          const hit = q.get(faulty[i]!.uid);
          if (hit && hit.reason === f.detector) {
            found[i]!.detected++;
            found[i]!.ttd.push((hit.at - t0) / 1000);
          } else if (hit) found[i]!.wrong.push(hit.reason);
          const k = f.kubelet(((r + 0.5) * 10) / runs);
          if (k !== undefined) found[i]!.kubelet.push(k);
        });
        falseQuarantines += healthy.filter((p) => q.has(p.uid)).length;
        log(
          `run ${r + 1}/${runs}: ${FAULTS.map((f, i) => `${f.mode}=${q.get(faulty[i]!.uid)?.reason ?? '-'}`).join(' ')}`,
        );
        await killAll();
      }
    } finally {
      await killAll();
      await pipeline.stop();
      await observe.close();
      server.closeAllConnections();
      await new Promise((ok) => server.close(ok));
      client.close();
    }

    const rows = FAULTS.map((f, i) => {
      const s = found[i]!;
      const kubelet = s.kubelet.length ? `${round(median(s.kubelet), 1)} s (restart)` : f.kubeletWhy;
      return `| ${f.name} | ${f.detector} | ${s.detected}/${runs}${s.wrong.length ? ` (other: ${s.wrong.join(', ')})` : ''} | ${s.ttd.length ? `${round(median(s.ttd), 1)} s` : '—'} | ${kubelet} |`;
    });
    const table = [
      '# Detection benchmark (ground truth: scripted faults)',
      '',
      `${new Date().toISOString()} · ${runs} runs · probe 1 s, reports every 10 s (shipped) · kwok control plane, real app and sidecar processes`,
      '',
      '| fault | detector meant for it | detected | median time to detect (fault → Quarantine) | kubelet liveness defaults (10 s × 3) |',
      '|---|---|---|---|---|',
      ...rows,
      '',
      `False quarantines of healthy siblings: ${falseQuarantines} of ${healthyTotal}.`,
      '',
      'Not measured here (they need a real kubelet: test/real): crash loop, memory growth to OOM, CPU spike, outbound connection burst.',
      '',
    ].join('\n');
    await mkdir(fileURLToPath(new URL('./results/', import.meta.url)), { recursive: true });
    await writeFile(fileURLToPath(new URL('./results/detection.md', import.meta.url)), table);
    log(table);

    const results: BenchResult[] = [];
    FAULTS.forEach((f, i) => {
      const s = found[i]!;
      results.push({ name: `${f.name}: detected by ${f.detector}`, value: s.detected, unit: `of ${runs}` });
      if (s.ttd.length === 0) return;
      const k = s.kubelet.length ? median(s.kubelet) : undefined;
      results.push({
        name: `${f.name}: median time to detect`,
        value: round(median(s.ttd), 1),
        unit: 's',
        ...(k !== undefined
          ? { baseline: { name: 'kubelet liveness 10 s × 3', value: round(k, 1) }, ratio: round(median(s.ttd) / k, 3) }
          : { notes: `kubelet: ${f.kubeletWhy}` }),
      });
    });
    results.push({
      name: 'false quarantines of healthy siblings',
      value: falseQuarantines,
      unit: `of ${healthyTotal}`,
    });
    return results;
  } finally {
    await cluster.stop();
  }
};

export default bench;
