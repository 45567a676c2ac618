import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ANNOTATION, type Quarantine } from '../../engine/src/core/api/index.js';
import { injectedSidecar } from '../../engine/src/admission/index.js';
import { errorMessage } from '../../engine/src/core/errors.js';
import { DEMO_APP_IMAGE } from '../../images/images.js';
import { startGitHttpServer, type GitHttpServer } from '../git-http/git-http-server.js';
import { buildImages } from '../images/build-images.js';
import { startLocalCluster, type LocalCluster } from '../local-cluster/index.js';
import {
  bridgeAddress,
  DASHBOARD_SECRET,
  ENGINE_NAMESPACE,
  engineEndpoint,
  engineLogs,
  installShipped,
  kubectl,
  kubectlOk,
  policySourceState,
} from '../shipped-install/index.js';
import { buildDemoRepo, DEMO_APP_LABELS, DEMO_NAMESPACE } from './demo-repo.js';
import { secs, StepFailed, until } from './steps.js';
import type { StoryOptions, StoryResult } from './story.js';

const run = promisify(execFile);
const repoRoot = resolve(fileURLToPath(new URL('../../', import.meta.url)));
const REPLICAS = 4;

interface Pod {
  metadata: { name: string; uid: string; annotations?: Record<string, string>; deletionTimestamp?: string };
  spec: { nodeName?: string; initContainers?: { name: string }[]; containers: { name: string }[] };
  status: {
    phase?: string;
    podIP?: string;
    conditions?: { type: string; status: string }[];
    initContainerStatuses?: { name: string; ready: boolean; started?: boolean }[];
  };
}

/**
 * The Bulkhead story on two real nodes, narrated: the project's images built (without Docker)
 * and imported into containerd on each node, the policy repository (policy-repo-template/)
 * served over HTTPS with a token, the engine installed as a user installs it (`bulkhead
 * install` of deploy/, 2 replicas), the checkout Deployment of the demo app with the sidecar
 * injected as a native sidecar; one pod's app starts failing and Bulkhead quarantines it: a
 * client pod's requests to it fail while a sibling serves, the ReplicaSet's replacement runs,
 * and the record is committed to git.
 */
export async function runRealStory(opts: StoryOptions): Promise<StoryResult> {
  const say = opts.say;
  const work = await mkdtemp(join(tmpdir(), 'bulkhead-demo-real-'));
  let cluster: LocalCluster | undefined;
  let server: GitHttpServer | undefined;
  let address: { host: string; remove(): Promise<void> } | undefined;
  const cleanup = async (): Promise<void> => {
    await server?.close().catch(() => {});
    await address?.remove();
    await cluster?.stop().catch(() => {});
    await rm(work, { recursive: true, force: true });
  };
  let step = 'start';
  try {
    step = 'images';
    say('▸ building the project images without Docker (engine, sidecar, demo app; base layers cached)');
    const t0 = performance.now();
    const images = (await buildImages({ outDir: join(work, 'images'), onProgress: (l) => say(`    ${l}`) })).map(
      ({ ref, archive }) => ({ ref, archive }),
    );
    say(`✔ ${images.length} images built in ${secs(performance.now() - t0)} (${images.map((i) => i.ref).join(', ')})`);

    step = 'local cluster';
    say('▸ starting a local cluster with 2 real nodes (containerd, kubelet, kube-proxy, kube-router, CoreDNS)');
    cluster = await startLocalCluster({
      workloads: true,
      realNodes: 2,
      images,
      ...(opts.binDir ? { binDir: opts.binDir } : {}),
      onProgress: (l) => say(`    ${l}`),
    });
    const c = cluster;
    say(`✔ cluster up at ${c.server} in ${secs(c.startupMs)}: nodes ${c.nodeNames.join(', ')}, images imported`);
    const k = (args: string[], o?: { input?: string; timeoutMs?: number }) => kubectlOk(c, args, o);

    step = 'policy repository';
    const repo = await buildDemoRepo(join(work, 'policy-repo'), join(repoRoot, 'policy-repo-template'));
    const token = randomBytes(24).toString('hex');
    // An address of its own on the bridge (pods reach the whole subnet); 443 is what the
    // engine's NetworkPolicy admits for git.
    address = await bridgeAddress(c);
    server = await startGitHttpServer({ projectRoot: dirname(repo.bareDir), token, host: address.host, port: 443 });
    const url = `${server.url}/${basename(repo.bareDir)}`;
    say(
      `✔ policy repository ${url} from policy-repo-template/ over HTTPS with a token (commit ${repo.head.slice(0, 12)})`,
    );

    step = 'install';
    say('▸ bulkhead install --repo … --secret policy-repo (deploy/ as shipped, 2 engine replicas)');
    const ti = performance.now();
    await installShipped(c, { url, token, caCert: server.caCert });
    say(`✔ engine installed and Available in ${secs(performance.now() - ti)}`);

    step = 'policy synced';
    const revision = await until(step, 180_000, async () => {
      const ps = await policySourceState(c);
      return ps.ready && ps.lastAppliedRevision?.includes(repo.head) ? ps.lastAppliedRevision : undefined;
    });
    const policies = (await k(['get', 'healthpolicies', '-o', 'jsonpath={.items[*].metadata.name}'])).trim();
    say(`✔ policy synced: revision ${revision.slice(0, 12)} applied, HealthPolicies: ${policies}`);
    // Either admission path (ADR 1700: auto takes the admission policies on 1.36).
    await until('admission registered', 60_000, async () => {
      try {
        await k([
          'get',
          'mutatingadmissionpolicybinding/bulkhead-inject',
          'validatingadmissionpolicybinding/bulkhead-guard',
        ]);
      } catch {
        await k(['get', 'mutatingwebhookconfiguration', 'bulkhead-inject']);
        await k(['get', 'validatingwebhookconfiguration', 'bulkhead-guard']);
      }
      return true;
    });

    step = 'deploy';
    say(
      `▸ deploying checkout (${REPLICAS} replicas of ${DEMO_APP_IMAGE.ref}) and a client pod to namespace ${DEMO_NAMESPACE}`,
    );
    await k(['create', 'namespace', DEMO_NAMESPACE]);
    // Registered is not yet in effect (the apiserver picks admission policies up on a 1 s
    // refresh): a server-side dry-run pod shows when injection happens, whichever path.
    await until('injection in effect', 60_000, async () => {
      const probe = JSON.parse(
        await k(['create', '-n', DEMO_NAMESPACE, '--dry-run=server', '-o', 'json', '-f', '-'], {
          input: JSON.stringify({
            apiVersion: 'v1',
            kind: 'Pod',
            metadata: { name: 'injection-probe', labels: DEMO_APP_LABELS },
            spec: { containers: [{ name: 'app', image: DEMO_APP_IMAGE.ref }] },
          }),
        }),
      ) as Pod;
      return injectedSidecar(probe) ? true : undefined;
    });
    const container = {
      name: 'app',
      image: DEMO_APP_IMAGE.ref,
      imagePullPolicy: 'IfNotPresent',
      ports: [{ name: 'http', containerPort: 8080 }],
      readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 1 },
    };
    await k(['apply', '-n', DEMO_NAMESPACE, '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'v1',
        kind: 'List',
        items: [
          {
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            metadata: { name: 'checkout', labels: DEMO_APP_LABELS },
            spec: {
              replicas: REPLICAS,
              selector: { matchLabels: { 'app.kubernetes.io/name': 'checkout' } },
              template: {
                metadata: { labels: DEMO_APP_LABELS },
                spec: { terminationGracePeriodSeconds: 2, containers: [container] },
              },
            },
          },
          // Not selected by the checkout policy: it only calls the checkout pods.
          {
            apiVersion: 'v1',
            kind: 'Pod',
            metadata: { name: 'client', labels: { app: 'client' } },
            spec: { terminationGracePeriodSeconds: 2, containers: [container] },
          },
        ],
      }),
    });
    const checkoutPods = async (): Promise<Pod[]> =>
      (
        JSON.parse(
          await k(['get', 'pods', '-n', DEMO_NAMESPACE, '-l', 'app.kubernetes.io/name=checkout', '-o', 'json']),
        ) as { items: Pod[] }
      ).items.filter((p) => !p.metadata.deletionTimestamp);
    const ready = (p: Pod): boolean =>
      p.status.phase === 'Running' && !!p.status.conditions?.some((x) => x.type === 'Ready' && x.status === 'True');
    const pods = await until(step, 240_000, async () => {
      const r = (await checkoutPods()).filter(ready);
      return r.length === REPLICAS ? r : undefined;
    });
    await until(step, 120_000, async () => {
      const client = JSON.parse(await k(['get', 'pod', '-n', DEMO_NAMESPACE, 'client', '-o', 'json'])) as Pod;
      return ready(client) ? true : undefined;
    });
    const injected = pods.filter((p) => injectedSidecar(p));
    if (injected.length !== REPLICAS)
      throw new StepFailed('sidecar injected', `only ${injected.length}/${REPLICAS} pods carry the sidecar`);
    const sidecar = injectedSidecar(pods[0]!)!.name;
    const native = pods.every((p) => p.spec.initContainers?.some((x) => x.name === sidecar));
    say(
      `✔ sidecar injected into ${REPLICAS} pods${native ? ' as a native sidecar (restartable init container)' : ''} (${pods[0]!.metadata.annotations?.[ANNOTATION.injected] ?? ''}), on nodes ${[...new Set(pods.map((p) => p.spec.nodeName))].join(', ')}`,
    );

    step = 'sidecars reporting';
    // A sidecar is Ready once it has probed its app and the engine accepted its report.
    const sidecarsReady = pods.every(
      (p) => p.status.initContainerStatuses?.find((s) => s.name === sidecar)?.ready ?? false,
    );
    say(
      `✔ ${REPLICAS} sidecars ${sidecarsReady ? 'Ready, ' : ''}probing their app every second and reporting to the engine's Service over HTTPS with pod-bound tokens`,
    );

    const fetchFrom = (target: string) =>
      kubectl(c, [
        'exec',
        '-n',
        DEMO_NAMESPACE,
        'client',
        '-c',
        'app',
        '--',
        'node',
        '/app/server.mjs',
        'fetch',
        `http://${target}:8080/`,
        '1500',
      ]);

    step = 'failure detected';
    const victim = pods[0]!;
    const victimName = victim.metadata.name;
    say(`▸ ${victimName} (on ${victim.spec.nodeName}) starts failing: its app now answers 500`);
    const tf = performance.now();
    await k([
      'exec',
      '-n',
      DEMO_NAMESPACE,
      victimName,
      '-c',
      'app',
      '--',
      'node',
      '/app/server.mjs',
      'fetch',
      'http://127.0.0.1:8080/__demo/fail',
      '1500',
    ]);
    const quarantines = async (): Promise<Quarantine[]> =>
      (JSON.parse(await k(['get', 'quarantines', '-n', DEMO_NAMESPACE, '-o', 'json'])) as { items: Quarantine[] })
        .items;
    const q = await until(step, 120_000, async () => {
      const found = (await quarantines()).find((x) => x.spec.pod.uid === victim.metadata.uid);
      return found?.status?.phase === 'Isolated' ? found : undefined;
    });
    const isolatedMs = performance.now() - tf;
    say(`✔ failure detected: ${q.spec.reason} (${q.spec.message ?? ''})`);
    say(
      `✔ pod quarantined ${secs(isolatedMs)} after its app started failing: detached from its ReplicaSet, isolated by NetworkPolicy, kept for forensics`,
    );

    step = 'isolation';
    const held = new Set((await quarantines()).map((x) => x.spec.pod.uid));
    const sibling = pods.find((p) => !held.has(p.metadata.uid));
    if (!sibling) throw new StepFailed(step, 'every checkout pod is held: no sibling left to serve');
    await until(step, 60_000, async () => {
      const [toVictim, toSibling] = await Promise.all([
        fetchFrom(victim.status.podIP!),
        fetchFrom(sibling.status.podIP!),
      ]);
      return toVictim.code !== 0 && toSibling.stdout.trim() === '200' ? true : undefined;
    });
    say(
      `✔ the client's requests to ${victimName} now fail (cut off on the node's network) while ${sibling.metadata.name} answers 200`,
    );

    step = 'replacement running';
    const replacement = await until(step, 120_000, async () => {
      const fresh = (await checkoutPods()).filter(
        (p) => ready(p) && !pods.some((o) => o.metadata.uid === p.metadata.uid),
      );
      return fresh[0];
    });
    say(`✔ replacement ${replacement.metadata.name} Running on ${replacement.spec.nodeName}`);

    step = 'record committed';
    const commit = await until(step, 120_000, async () => {
      const found = (await quarantines()).find((x) => x.spec.pod.uid === victim.metadata.uid);
      return found?.status?.audit?.state === 'Committed' ? found.status.audit.commit : undefined;
    });
    const logLine = (
      await run('git', ['--git-dir', repo.bareDir, 'log', '-1', '--format=%h %an: %s', commit!], {
        env: { PATH: process.env.PATH ?? '', GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_SYSTEM: '/dev/null' },
      })
    ).stdout.trim();
    say(`✔ record committed to the policy repository: ${logLine}`);
    const table = (await k(['get', 'quarantines', '-n', DEMO_NAMESPACE])).trimEnd();
    say(`  $ kubectl get quarantines -n ${DEMO_NAMESPACE}\n${table.replace(/^/gm, '  ')}`);

    step = 'dashboard';
    const dashToken = Buffer.from(
      (await k(['get', 'secret', '-n', ENGINE_NAMESPACE, DASHBOARD_SECRET, '-o', 'jsonpath={.data.token}'])).trim(),
      'base64',
    ).toString('utf8');
    const at = await engineEndpoint(c);
    const page = await httpsGet(`${at.url}/dashboard/`, at.ca, at.servername, dashToken);
    if (page.status !== 200 || !page.body.includes('<'))
      throw new StepFailed('dashboard', `GET /dashboard/ answered ${page.status}`);
    const dashboardUrl = `${at.url}/dashboard/?token=${dashToken}`;
    say(`✔ dashboard (read-only, token-protected) through the engine's Service: ${dashboardUrl}`);
    say(
      `  its certificate is for ${at.servername}: kubectl port-forward -n ${ENGINE_NAMESPACE} svc/bulkhead-engine 8443 for a browser`,
    );
    say(
      `  to release the pod, revert the record: cd ${repo.workDir} && git pull -q origin main && git revert --no-edit ${commit!.slice(0, 12)} && git push origin main`,
    );
    if (opts.keep) {
      say(`  export KUBECONFIG=${c.kubeconfigPath}; export PATH=${c.binDir}:$PATH`);
      say(
        `  kubectl get pods -n ${DEMO_NAMESPACE} -o wide; kubectl get quarantines -A; kubectl logs -n ${ENGINE_NAMESPACE} deploy/bulkhead-engine`,
      );
      say('  everything keeps running; press Ctrl-C to stop and clean up');
      await (opts.until ??
        new Promise<void>((ok) => {
          process.once('SIGINT', ok);
          process.once('SIGTERM', ok);
        }));
    }
    say('✔ story complete');
    return {
      nodes: 'real',
      quarantinedPod: victimName,
      replacementPod: replacement.metadata.name,
      replacementNode: replacement.spec.nodeName ?? '',
      recordCommit: commit!,
      detectToIsolatedMs: isolatedMs,
      dashboardUrl,
    };
  } catch (err) {
    const where = err instanceof StepFailed ? err.step : step;
    const logs = cluster ? await engineLogs(cluster, 25).catch(() => '') : '';
    throw new StepFailed(where, `${errorMessage(err)}${logs ? `\n--- engine logs (tail) ---\n${logs}` : ''}`);
  } finally {
    await cleanup();
  }
}

function httpsGet(
  url: string,
  ca: string,
  servername: string,
  token: string,
): Promise<{ status: number; body: string }> {
  return new Promise((ok, fail) => {
    const req = request(
      url,
      { ca, servername, headers: { authorization: `Bearer ${token}` }, timeout: 10_000 },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => ok({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${url} timed out`)));
    req.on('error', fail);
    req.end();
  });
}
