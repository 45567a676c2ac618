import { spawn, execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, type V1Pod } from '@kubernetes/client-node';
import {
  ANNOTATION,
  API_VERSION,
  DEFAULT_ENGINE_NAMESPACE,
  GROUP,
  KIND,
  PLURAL,
  VERSION,
  type Quarantine,
} from '../../engine/src/core/api/index.js';
import { injectedSidecar } from '../../engine/src/admission/index.js';
import { errorMessage } from '../../engine/src/core/errors.js';
import { RUN_DEFAULTS } from '../../engine/src/runtime/index.js';
import { PodRunner, serviceAccountKubeConfig, startLocalCluster, type LocalCluster } from '../local-cluster/index.js';
import { StepFailed, secs, until } from './steps.js';
import { buildDemoRepo, DEMO_NAMESPACE, DEMO_APP_LABELS } from './demo-repo.js';

const run = promisify(execFile);
const repoRoot = resolve(fileURLToPath(new URL('../../', import.meta.url)));

export interface StoryOptions {
  keep: boolean;
  binDir?: string;
  say(line: string): void;
  /** Stop here (tests) instead of waiting for Ctrl-C with --keep. */
  until?: Promise<void>;
}

/** What a story (kwok or real nodes) ends with; callers of either read the same shape. */
export interface StoryResult {
  /** Which nodes the story ran on: kwok (pods as local processes) or real (containerd + kubelet). */
  nodes: 'kwok' | 'real';
  quarantinedPod: string;
  /** The node the replacement runs on. */
  replacementNode: string;
  replacementPod: string;
  recordCommit: string;
  detectToIsolatedMs: number;
  dashboardUrl?: string;
}

/**
 * The Bulkhead story on a local control plane, narrated: a platform team's policy repository
 * is synced, the sidecar is injected into a Deployment's pods (each a real app process plus
 * the real sidecar process, on kwok nodes), one instance starts failing, and Bulkhead
 * detects it, quarantines it, lets the ReplicaSet replace it, and commits the record to git.
 */
export async function runStory(opts: StoryOptions): Promise<StoryResult> {
  const say = opts.say;
  const work = await mkdtemp(join(tmpdir(), 'bulkhead-demo-'));
  let cluster: LocalCluster | undefined;
  let engine: ReturnType<typeof spawn> | undefined;
  let runner: PodRunner | undefined;
  const cleanup = async (): Promise<void> => {
    await runner?.stop().catch(() => {});
    if (engine && engine.exitCode === null) {
      engine.kill('SIGTERM');
      await new Promise((ok) => {
        const t = setTimeout(() => {
          engine?.kill('SIGKILL');
          ok(undefined);
        }, 5000);
        engine?.once('exit', () => {
          clearTimeout(t);
          ok(undefined);
        });
      });
    }
    await cluster?.stop().catch(() => {});
    await rm(work, { recursive: true, force: true });
  };
  let step = 'start';
  try {
    step = 'local control plane';
    say('▸ starting a local Kubernetes control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok)');
    cluster = await startLocalCluster({
      workloads: true,
      nodes: 3,
      ...(opts.binDir ? { binDir: opts.binDir } : {}),
      onProgress: (l) => say(`    ${l}`),
    });
    say(`✔ control plane up at ${cluster.server} in ${secs(cluster.startupMs)} (3 kwok nodes)`);
    const kc = cluster.kubeConfig();
    const core = kc.makeApiClient(CoreV1Api);
    const custom = kc.makeApiClient(CustomObjectsApi);

    step = 'policy repository';
    const repo = await buildDemoRepo(join(work, 'policy-repo'), join(repoRoot, 'policy-repo-template'));
    say(`✔ policy repository ${repo.url} created from policy-repo-template/ (commit ${repo.head.slice(0, 12)})`);

    step = 'install';
    const kubectl = (...args: string[]) =>
      run(join(cluster!.binDir, 'kubectl'), ['--kubeconfig', cluster!.kubeconfigPath, ...args]);
    await kubectl('apply', '--server-side', '-k', join(repoRoot, 'deploy', 'crds'));
    await kubectl('wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all');
    for (const ns of [DEFAULT_ENGINE_NAMESPACE, DEMO_NAMESPACE])
      await core.createNamespace({ body: { metadata: { name: ns } } });
    // The engine runs as its ServiceAccount with exactly the RBAC that ships in deploy/rbac.
    await kubectl('apply', '--server-side', '-k', join(repoRoot, 'deploy', 'rbac'));
    const engineKubeconfig = join(work, 'engine.kubeconfig');
    await writeFile(
      engineKubeconfig,
      (await serviceAccountKubeConfig(kc, cluster, DEFAULT_ENGINE_NAMESPACE, RUN_DEFAULTS.serviceAccount)).yaml,
      { mode: 0o600 },
    );
    await custom.createClusterCustomObject({
      group: GROUP,
      version: VERSION,
      plural: PLURAL.PolicySource,
      body: {
        apiVersion: API_VERSION,
        kind: KIND.PolicySource,
        metadata: { name: 'platform-policies' },
        spec: { url: repo.url, ref: { branch: 'main' }, path: '.', interval: '5s' },
      },
    });
    const token = (await run('openssl', ['rand', '-hex', '16'])).stdout.trim();
    await writeFile(join(work, 'dashboard-token'), token, { mode: 0o600 });
    say(
      '▸ starting the engine: git sync, admission (in-apiserver policies or webhooks), report ingest, quarantine, audit',
    );
    const logFile = join(work, 'engine.log');
    await writeFile(logFile, '');
    engine = spawn(
      process.execPath,
      [
        join(repoRoot, 'bin', 'bulkhead.js'),
        'run',
        '--kubeconfig',
        engineKubeconfig,
        '--namespace',
        DEFAULT_ENGINE_NAMESPACE,
        '--listen',
        '127.0.0.1:0',
        '--https',
        '127.0.0.1:0',
        // The apiserver runs on this machine and there is no Service routing: call the listen URL.
        '--webhook-url',
        'listen',
        '--leader-elect',
        'false',
        '--cluster-name',
        'demo',
        '--cache-dir',
        join(work, 'engine-cache'),
        '--dashboard-token-file',
        join(work, 'dashboard-token'),
        '--group-window',
        '100ms',
        '--flush-interval',
        '500ms',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir() } },
    );
    const out = createWriteStream(logFile);
    engine.stdout?.pipe(out);
    engine.stderr?.pipe(out);
    const started = await until('engine start', 60_000, async () => {
      if (engine?.exitCode !== null)
        throw new StepFailed('engine start', `engine exited: ${(await readFile(logFile, 'utf8')).slice(-1500)}`);
      const line = (await readFile(logFile, 'utf8')).split('\n').find((l) => l.includes('"engine started"'));
      return line ? (JSON.parse(line) as { url: string; dataPlaneUrl: string }) : undefined;
    });
    say(`✔ engine running (metrics ${started.url}/metrics, data plane ${started.dataPlaneUrl})`);

    step = 'policy synced';
    const revision = await until(step, 60_000, async () => {
      const ps = (await custom.getClusterCustomObject({
        group: GROUP,
        version: VERSION,
        plural: PLURAL.PolicySource,
        name: 'platform-policies',
      })) as { status?: { lastAppliedRevision?: string } };
      return ps.status?.lastAppliedRevision?.startsWith(repo.head) ||
        ps.status?.lastAppliedRevision?.endsWith(repo.head) ||
        ps.status?.lastAppliedRevision === repo.head
        ? ps.status.lastAppliedRevision
        : undefined;
    });
    const policies = (await custom.listClusterCustomObject({
      group: GROUP,
      version: VERSION,
      plural: PLURAL.HealthPolicy,
    })) as { items: { metadata: { name: string } }[] };
    say(
      `✔ policy synced: revision ${revision.slice(0, 12)} applied, ${policies.items.length} HealthPolicies (${policies.items.map((p) => p.metadata.name).join(', ')})`,
    );

    // Either admission path (ADR 1700: auto takes the in-apiserver policies where served, the
    // webhook elsewhere) takes effect asynchronously after the engine registers it: a
    // server-side dry-run pod shows when it does, whichever path it is.
    step = 'injection in effect';
    await until(step, 30_000, async () => {
      const probe = await core.createNamespacedPod({
        namespace: DEMO_NAMESPACE,
        dryRun: 'All',
        body: {
          metadata: { name: 'injection-probe', labels: DEMO_APP_LABELS },
          spec: {
            containers: [{ name: 'app', image: 'registry.invalid/checkout:1.4.2', ports: [{ containerPort: 8080 }] }],
          },
        },
      });
      return injectedSidecar(probe) ? true : undefined;
    });
    const pathLine = (await readFile(logFile, 'utf8')).split('\n').find((l) => l.includes('"admission path"'));
    const mode = pathLine ? (JSON.parse(pathLine) as { mode?: string }).mode : undefined;
    say(`✔ injection in effect (${mode === 'policy' ? 'in the apiserver: MutatingAdmissionPolicy' : 'webhook'})`);

    step = 'deploy';
    say(`▸ deploying checkout (4 replicas) to namespace ${DEMO_NAMESPACE}`);
    await kc.makeApiClient(AppsV1Api).createNamespacedDeployment({
      namespace: DEMO_NAMESPACE,
      body: {
        metadata: { name: 'checkout', labels: DEMO_APP_LABELS },
        spec: {
          replicas: 4,
          selector: { matchLabels: { 'app.kubernetes.io/name': 'checkout' } },
          template: {
            metadata: { labels: DEMO_APP_LABELS },
            spec: {
              containers: [{ name: 'app', image: 'registry.invalid/checkout:1.4.2', ports: [{ containerPort: 8080 }] }],
            },
          },
        },
      },
    });
    const running = (): Promise<V1Pod[]> =>
      core
        .listNamespacedPod({ namespace: DEMO_NAMESPACE, labelSelector: 'app.kubernetes.io/name=checkout' })
        .then((l) => l.items.filter((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp));
    const pods = await until(step, 60_000, async () => {
      const r = await running();
      return r.length === 4 ? r : undefined;
    });
    const injected = pods.filter((p) => injectedSidecar(p));
    if (injected.length !== 4)
      throw new StepFailed('sidecar injected', `only ${injected.length}/4 pods carry the sidecar`);
    say(
      `✔ sidecar injected into 4 pods (${pods[0]!.metadata?.annotations?.[ANNOTATION.injected] ?? ''}), spread over ${new Set(pods.map((p) => p.spec?.nodeName)).size} nodes`,
    );

    step = 'sidecars reporting';
    const tls = await core.readNamespacedSecret({ name: RUN_DEFAULTS.tlsSecret, namespace: DEFAULT_ENGINE_NAMESPACE });
    const ca = Buffer.from(tls.data?.['ca.crt'] ?? '', 'base64').toString('utf8');
    runner = new PodRunner({
      kubeConfig: kc,
      namespace: DEMO_NAMESPACE,
      workDir: join(work, 'pods'),
      caCert: ca,
      reportUrl: `${started.dataPlaneUrl}/api/v1/reports`,
      sidecarEnv: { BULKHEAD_REPORT_INTERVAL: '1s' },
    });
    await runner.start();
    await until(step, 60_000, async () => {
      const metrics = await httpGet(`${started.url}/metrics`);
      const m = /^bulkhead_observe_pods (\d+)/m.exec(metrics);
      return m && Number(m[1]) >= 4 ? true : undefined;
    });
    say('✔ 4 sidecars (real processes) probing their app every second and reporting over HTTPS with pod-bound tokens');

    step = 'failure detected';
    const victim = pods[0]!.metadata!.name!;
    say(`▸ ${victim} starts failing: its app now answers 500`);
    const t0 = performance.now();
    await runner.setFailing(victim, true);
    /** The victim's Quarantine, once the engine has written it. */
    const victimQuarantine = async (): Promise<Quarantine | undefined> => {
      const list = (await custom.listNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace: DEMO_NAMESPACE,
        plural: PLURAL.Quarantine,
      })) as { items: Quarantine[] };
      return list.items.find((x) => x.spec.pod.name === victim);
    };
    const q = await until(step, 60_000, async () => {
      const found = await victimQuarantine();
      return found?.status?.phase === 'Isolated' ? found : undefined;
    });
    const isolatedMs = performance.now() - t0;
    say(`✔ failure detected: ${q.spec.reason} (${q.spec.message ?? ''})`);
    const pod = await core.readNamespacedPod({ name: victim, namespace: DEMO_NAMESPACE });
    say(
      `✔ pod quarantined ${secs(isolatedMs)} after its app started failing: detached from its ReplicaSet (labels ${Object.keys(JSON.parse(pod.metadata?.annotations?.['bulkhead.dev/original-labels'] ?? '{}')).join(', ')} removed), isolated by NetworkPolicy bulkhead-quarantine, kept for forensics`,
    );

    step = 'replacement running';
    const replacement = await until(step, 60_000, async () => {
      const r = await running();
      const fresh = r.filter((p) => !pods.some((o) => o.metadata?.uid === p.metadata?.uid));
      return r.length === 4 && fresh.length >= 1 ? fresh[0] : undefined;
    });
    say(`✔ replacement ${replacement.metadata?.name} Running on ${replacement.spec?.nodeName}`);

    step = 'record committed';
    const commit = await until(step, 60_000, async () => {
      const found = await victimQuarantine();
      return found?.status?.audit?.state === 'Committed' ? found.status.audit.commit : undefined;
    });
    const logLine = (
      await run('git', ['--git-dir', repo.bareDir, 'log', '-1', '--format=%h %an: %s', commit!], {
        env: { PATH: process.env.PATH ?? '', GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_SYSTEM: '/dev/null' },
      })
    ).stdout.trim();
    say(`✔ record committed to the policy repository: ${logLine}`);
    const kubectlOut = (await kubectl('get', 'quarantines', '-n', DEMO_NAMESPACE)).stdout.trimEnd();
    say(`  $ kubectl get quarantines -n ${DEMO_NAMESPACE}\n${kubectlOut.replace(/^/gm, '  ')}`);

    const dashboardUrl = `${started.dataPlaneUrl}/dashboard/?token=${token}`;
    const page = await httpsGet(`${started.dataPlaneUrl}/dashboard/`, ca, token);
    if (page.status !== 200 || !page.body.includes('<'))
      throw new StepFailed('dashboard', `GET /dashboard/ answered ${page.status}`);
    say(`✔ dashboard (read-only, token-protected): ${dashboardUrl}`);
    say(`  revert the record in ${repo.workDir} (git revert ${commit!.slice(0, 12)} && git push) to release the pod`);
    if (opts.keep) {
      say(`  export KUBECONFIG=${cluster.kubeconfigPath}; export PATH=${cluster.binDir}:$PATH`);
      say('  everything keeps running; press Ctrl-C to stop and clean up');
      await (opts.until ??
        new Promise<void>((ok) => {
          process.once('SIGINT', ok);
          process.once('SIGTERM', ok);
        }));
    }
    say('✔ story complete');
    return {
      nodes: 'kwok',
      quarantinedPod: victim,
      replacementNode: replacement.spec?.nodeName ?? '',
      replacementPod: replacement.metadata!.name!,
      recordCommit: commit!,
      detectToIsolatedMs: isolatedMs,
      dashboardUrl,
    };
  } catch (err) {
    const where = err instanceof StepFailed ? err.step : step;
    const engineLog = await readFile(join(work, 'engine.log'), 'utf8').catch(() => '');
    const message = errorMessage(err);
    throw new StepFailed(
      where,
      `${message}${engineLog ? `\n--- engine log (tail) ---\n${engineLog.split('\n').slice(-25).join('\n')}` : ''}`,
    );
  } finally {
    await cleanup();
  }
}

export { StepFailed };

function httpsGet(url: string, ca: string, token: string): Promise<{ status: number; body: string }> {
  return new Promise((ok, fail) => {
    const req = httpsRequest(url, { ca, headers: { authorization: `Bearer ${token}` } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => ok({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', fail);
    req.end();
  });
}

function httpGet(url: string): Promise<string> {
  return new Promise((ok, fail) => {
    const req = request(url, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => ok(body));
    });
    req.on('error', fail);
    req.end();
  });
}
