import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { BulkheadError } from '../../engine/src/core/errors.js';
import type { KeyPair } from '../../engine/src/core/pki.js';
import { ensureBinaries, type Component } from './binaries.js';
import { createClusterPki } from './cluster-pki.js';
import { createFakeNodes, waitForNodesReady } from './fake-nodes.js';
import { renderKubeconfig } from './kubeconfig.js';
import { signalGroup, startProcess, type ManagedProcess } from './managed-process.js';
import { freePorts } from './ports.js';
import { createHostNetwork, teardownHost, type HostNetwork } from './real-node/host-network.js';
import { ensureNodeBinaries } from './real-node/node-binaries.js';
import { missingHostPackages, onPath } from './real-node/host-tools.js';
import type { NetworkPlan } from './real-node/network-plan.js';
import { startRealNodes, type NodeImage } from './real-node/real-nodes.js';
import { PAUSE_IMAGE_REF } from '../images/build-images.js';

export interface LocalClusterOptions {
  /** Also start kube-controller-manager, kube-scheduler and kwok, so workloads get Running pods. */
  workloads?: boolean;
  /** kwok fake nodes to create when `workloads` is on (default 2). */
  nodes?: number;
  /** A folder holding ready binaries (BULKHEAD_BIN_DIR); otherwise they are built or taken from the cache. */
  binDir?: string;
  /** Parent of the run folder (default: the OS temp folder). */
  baseDir?: string;
  /**
   * Leave the cluster running after this process exits (`bulkhead local-cluster up`). Otherwise
   * a reaper process kills the components and removes the run folder when this process dies,
   * however it dies.
   */
  detached?: boolean;
  /**
   * Real nodes instead of kwok (implies `workloads`): containerd + kubelet + kube-proxy +
   * kube-router per node in its own network namespace, CoreDNS, NetworkPolicy enforced.
   * Root on Linux only. See ADR 0900.
   */
  realNodes?: number;
  /** Image archives imported into every real node (tools/images); default: built now. */
  images?: NodeImage[];
  onProgress?: (line: string) => void;
}

/** What `bulkhead local-cluster down` and the reaper read to find the processes. */
export interface ClusterState {
  runDir: string;
  kubeconfig: string;
  server: string;
  processes: { name: string; pid: number; binary: string }[];
  /** Real nodes: the host record that host-teardown.mjs undoes. */
  realNodeRecord?: string;
}

export interface LocalCluster {
  readonly runDir: string;
  /** The folder of the control-plane binaries, kubectl included. */
  readonly binDir: string;
  readonly server: string;
  readonly kubeconfigPath: string;
  readonly ca: KeyPair;
  readonly admin: KeyPair;
  readonly processes: readonly ManagedProcess[];
  readonly startupMs: number;
  /** The nodes pods run on (kwok's or real). */
  readonly nodeNames: readonly string[];
  /** Set when the nodes are real: their addresses, subnets and namespaces. */
  readonly network?: NetworkPlan;
  /** A fresh admin KubeConfig (cluster-admin through O=system:masters). */
  kubeConfig(): KubeConfig;
  stop(): Promise<void>;
}

const reaperScript = fileURLToPath(new URL('./reaper.mjs', import.meta.url));

/** Real nodes need namespaces, mounts, cgroups and netfilter: root on Linux, and the host tools they run. */
export function realNodesUnsupported(): string | undefined {
  if (process.platform !== 'linux') return `real nodes run only on Linux (this is ${process.platform}); use kwok nodes`;
  if (process.getuid?.() !== 0) return 'real nodes need root (namespaces, mounts, cgroups, netfilter); use kwok nodes';
  const missing = missingHostPackages(onPath);
  if (missing.length > 0)
    return `real nodes need host tools this machine lacks: apt-get install ${missing.join(' ')} (or use kwok nodes)`;
  return undefined;
}

export async function startLocalCluster(opts: LocalClusterOptions = {}): Promise<LocalCluster> {
  const t0 = performance.now();
  const progress = opts.onProgress ?? (() => {});
  const real = opts.realNodes !== undefined;
  if (real) {
    const why = realNodesUnsupported();
    if (why) {
      throw new BulkheadError({ kind: 'Stalled', code: 'BH_LOCAL_CLUSTER_REAL', reason: 'Unsupported', message: why });
    }
  }
  const bins = await ensureBinaries({ ...(opts.binDir ? { explicitDir: opts.binDir } : {}), onProgress: progress });
  const nodeBins = real ? await ensureNodeBinaries({ onProgress: progress }) : undefined;
  const runDir = await mkdtemp(join(opts.baseDir ?? tmpdir(), 'bulkhead-cluster-'));
  const procs: ManagedProcess[] = [];
  /** The binary each process runs once started (what the reaper checks before it kills a pid). */
  const binaries = new Map<ManagedProcess, string>();
  const stateFile = join(runDir, 'state.json');
  let host: HostNetwork | undefined;
  let stopped = false;

  const writeState = async (server: string, kubeconfig: string): Promise<void> => {
    const state: ClusterState = {
      runDir,
      kubeconfig,
      server,
      processes: procs.map((p) => ({
        name: p.name,
        pid: p.pid,
        binary: binaries.get(p) ?? bins.path(p.name as Component),
      })),
      ...(real ? { realNodeRecord: join(runDir, 'real-node', 'host-record.json') } : {}),
    };
    await writeFile(stateFile, JSON.stringify(state, null, 2));
  };

  // Last resort for a process that exits without awaiting stop(): synchronous kills only.
  const onExit = (): void => {
    if (stopped || opts.detached) return;
    for (const p of [...procs].reverse()) signalGroup(p.pid, 'SIGKILL');
    if (host) teardownHost(host.record, { graceMs: 0 });
    rmSync(runDir, { recursive: true, force: true });
  };
  process.once('exit', onExit);

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    process.removeListener('exit', onExit);
    // Reverse start order: nodes and clients of the apiserver first, etcd last.
    for (const p of [...procs].reverse()) await p.stop();
    // Whatever the nodes left (containers, shims, namespaces, cgroups), by the record.
    if (host) teardownHost(host.record);
    await rm(runDir, { recursive: true, force: true });
  };

  try {
    if (!opts.detached) {
      // Written before any component starts, so the reaper never misses one.
      await writeState('', '');
      spawn(process.execPath, [reaperScript, String(process.pid), stateFile], {
        detached: true,
        stdio: 'ignore',
      }).unref();
    }
    const logs = join(runDir, 'logs');
    await mkdir(logs);
    if (real) {
      host = await createHostNetwork(runDir, opts.realNodes ?? 1);
      progress(`real-node network: slot ${host.plan.slot}, bridge ${host.plan.bridge} ${host.plan.hostIp}`);
    }
    const plan = host?.plan;
    const pki = await createClusterPki(
      plan ? { ipAddresses: [plan.hostIp, plan.kubernetesServiceIp], withKubeletClient: true } : {},
    );
    const pkiDir = join(runDir, 'pki');
    await mkdir(pkiDir, { mode: 0o700 });
    const files = {
      ca: join(pkiDir, 'ca.crt'),
      apiCert: join(pkiDir, 'apiserver.crt'),
      apiKey: join(pkiDir, 'apiserver.key'),
      saKey: join(pkiDir, 'sa.key'),
      saPub: join(pkiDir, 'sa.pub'),
      kubeletClientCert: join(pkiDir, 'apiserver-kubelet-client.crt'),
      kubeletClientKey: join(pkiDir, 'apiserver-kubelet-client.key'),
    };
    await Promise.all([
      writeFile(files.ca, pki.ca.cert),
      writeFile(files.apiCert, pki.apiserver.cert),
      writeFile(files.apiKey, pki.apiserver.key, { mode: 0o600 }),
      writeFile(files.saKey, pki.serviceAccount.privateKey, { mode: 0o600 }),
      writeFile(files.saPub, pki.serviceAccount.publicKey),
      ...(pki.kubeletClient
        ? [
            writeFile(files.kubeletClientCert, pki.kubeletClient.cert),
            writeFile(files.kubeletClientKey, pki.kubeletClient.key, { mode: 0o600 }),
          ]
        : []),
    ]);

    const [etcdPort, peerPort, loopbackApiPort] = (await freePorts(3)) as [number, number, number];
    // Real nodes: 6443, the port real apiservers listen on, so policies written for real
    // clusters (the engine's own NetworkPolicy admits 443 and 6443) hold here. The address
    // is the cluster's own bridge, so clusters never share it.
    const apiPort = plan ? 6443 : loopbackApiPort;
    // Real nodes' pods reach the apiserver on the host bridge, so it listens there (and only there).
    const apiHost = plan?.hostIp ?? '127.0.0.1';
    const server = `https://${apiHost}:${apiPort}`;
    const kubeconfigPath = join(runDir, 'admin.kubeconfig');
    await writeFile(
      kubeconfigPath,
      renderKubeconfig({
        server,
        caCert: pki.ca.cert,
        userName: 'admin',
        user: { clientCert: pki.admin.cert, clientKey: pki.admin.key },
      }),
      { mode: 0o600 },
    );

    const start = async (name: Component, args: string[]): Promise<ManagedProcess> => {
      const p = await startProcess(name, bins.path(name), args, join(logs, `${name}.log`));
      procs.push(p);
      await writeState(server, kubeconfigPath);
      return p;
    };
    const apiserverNetworkArgs = plan
      ? [
          `--bind-address=${plan.hostIp}`,
          `--advertise-address=${plan.hostIp}`,
          `--service-cluster-ip-range=${plan.serviceCidr}`,
          // Kubelets authenticate as system:node:<name>; the Node authorizer and
          // NodeRestriction keep each to its own Node and pods, as in a real cluster.
          '--authorization-mode=Node,RBAC',
          '--enable-admission-plugins=NodeRestriction',
          `--kubelet-client-certificate=${files.kubeletClientCert}`,
          `--kubelet-client-key=${files.kubeletClientKey}`,
          `--kubelet-certificate-authority=${files.ca}`,
          '--kubelet-preferred-address-types=InternalIP',
        ]
      : [
          '--bind-address=127.0.0.1',
          // Without an explicit address a machine with no default route refuses to start.
          '--advertise-address=127.0.0.1',
          // Loopback is not a valid endpoint for the `kubernetes` Service; nothing here needs it.
          '--endpoint-reconciler-type=none',
          '--service-cluster-ip-range=10.96.0.0/12',
          '--authorization-mode=RBAC',
          // As envtest: the ServiceAccount admission plugin would reject pods in a namespace until
          // the controller-manager has created its `default` ServiceAccount. Real nodes keep it:
          // it is what mounts a pod's ServiceAccount token.
          '--disable-admission-plugins=ServiceAccount',
        ];

    progress(`starting etcd on 127.0.0.1:${etcdPort}`);
    const etcd = await start('etcd', [
      '--name=default',
      `--data-dir=${join(runDir, 'etcd')}`,
      '--log-level=warn',
      // Test data is disposable: skipping fsync makes etcd (and so every write) much faster.
      '--unsafe-no-fsync=true',
      `--listen-client-urls=http://127.0.0.1:${etcdPort}`,
      `--advertise-client-urls=http://127.0.0.1:${etcdPort}`,
      `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-cluster=default=http://127.0.0.1:${peerPort}`,
    ]);
    await waitFor('etcd', etcd, () => httpOk(`http://127.0.0.1:${etcdPort}/health`), 30_000);

    progress(`starting kube-apiserver on ${server}`);
    const apiserver = await start('kube-apiserver', [
      `--etcd-servers=http://127.0.0.1:${etcdPort}`,
      `--secure-port=${apiPort}`,
      ...apiserverNetworkArgs,
      `--tls-cert-file=${files.apiCert}`,
      `--tls-private-key-file=${files.apiKey}`,
      `--cert-dir=${join(runDir, 'certs')}`,
      `--client-ca-file=${files.ca}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${files.saPub}`,
      `--service-account-signing-key-file=${files.saKey}`,
      '--allow-privileged=true',
      '--profiling=false',
    ]);
    await waitFor('kube-apiserver', apiserver, () => httpOk(`${server}/readyz`, pki), 90_000);

    const kubeConfig = (): KubeConfig => {
      const kc = new KubeConfig();
      kc.loadFromString(
        renderKubeconfig({
          server,
          caCert: pki.ca.cert,
          userName: 'admin',
          user: { clientCert: pki.admin.cert, clientKey: pki.admin.key },
        }),
      );
      return kc;
    };
    const core = kubeConfig().makeApiClient(CoreV1Api);
    await waitFor(
      'namespace default',
      apiserver,
      async () => {
        try {
          await core.readNamespace({ name: 'default' });
          return true;
        } catch {
          return false;
        }
      },
      30_000,
    );

    let nodeNames: string[] = [];
    if (opts.workloads || real) {
      progress(`starting kube-controller-manager, kube-scheduler and ${real ? 'real nodes' : 'kwok'}`);
      const kcm = await start('kube-controller-manager', [
        `--kubeconfig=${kubeconfigPath}`,
        '--leader-elect=false',
        '--secure-port=0',
        `--root-ca-file=${files.ca}`,
        `--service-account-private-key-file=${files.saKey}`,
        '--use-service-account-credentials=false',
        // Fake nodes have no cloud and no real network: no node IPAM, no cloud routes.
        '--controllers=*,-nodeipam,-cloud-node-lifecycle,-route,-service-lb-controller',
      ]);
      const scheduler = await start('kube-scheduler', [
        `--kubeconfig=${kubeconfigPath}`,
        '--leader-elect=false',
        '--secure-port=0',
      ]);
      if (host && nodeBins) {
        const images = opts.images ?? (await buildImagesFor(runDir, progress));
        const nodes = await startRealNodes({
          runDir,
          net: host,
          server,
          ca: pki.ca,
          admin: pki.admin,
          kubeConfig,
          bins: nodeBins,
          images,
          pauseImage: PAUSE_IMAGE_REF,
          onProgress: progress,
          onStarted: async (p, binary) => {
            procs.push(p);
            binaries.set(p, binary);
            await writeState(server, kubeconfigPath);
          },
        });
        nodeNames = nodes.names;
        for (const p of [kcm, scheduler]) if (!p.isRunning()) throw await exitedEarly(p);
      }
    }
    if (opts.workloads && !real) {
      const kwok = await start('kwok', [
        `--kubeconfig=${kubeconfigPath}`,
        `--config=${bins.kwokStages}`,
        '--manage-all-nodes=false',
        '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
        '--cidr=10.244.0.0/16',
        '--node-ip=10.250.0.1',
        '--node-lease-duration-seconds=40',
      ]);
      nodeNames = await createFakeNodes(core, opts.nodes ?? 2);
      for (const p of procs) if (!p.isRunning()) throw await exitedEarly(p);
      await waitFor('kwok nodes Ready', kwok, () => waitForNodesReady(core, nodeNames), 60_000);
    }

    const startupMs = Math.round(performance.now() - t0);
    progress(`control plane ready in ${(startupMs / 1000).toFixed(1)}s`);
    return {
      runDir,
      binDir: bins.dir,
      server,
      kubeconfigPath,
      ca: pki.ca,
      admin: pki.admin,
      processes: procs,
      startupMs,
      nodeNames,
      ...(plan ? { network: plan } : {}),
      kubeConfig,
      stop,
    };
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }
}

async function exitedEarly(p: ManagedProcess): Promise<BulkheadError> {
  return new BulkheadError({
    kind: 'Transient',
    code: 'BH_LOCAL_CLUSTER_START',
    reason: 'ComponentExited',
    message: `${p.name} exited during start-up; last log lines:\n${await p.logTail(30)}`,
  });
}

async function waitFor(
  what: string,
  proc: ManagedProcess,
  check: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!proc.isRunning()) throw await exitedEarly(proc);
    if (await check()) return;
    if (Date.now() > deadline) {
      throw new BulkheadError({
        kind: 'Transient',
        code: 'BH_LOCAL_CLUSTER_START',
        reason: 'StartTimeout',
        message: `${what} not ready after ${timeoutMs / 1000}s; ${proc.name} log:\n${await proc.logTail(30)}`,
      });
    }
    await new Promise((ok) => setTimeout(ok, 200));
  }
}

/** GET that succeeds on a 200; with `tls`, authenticates with the admin client cert. */
function httpOk(url: string, tls?: { ca: KeyPair; admin: KeyPair }): Promise<boolean> {
  return new Promise((ok) => {
    const opts = {
      method: 'GET',
      timeout: 2000,
      ...(tls ? { ca: tls.ca.cert, cert: tls.admin.cert, key: tls.admin.key } : {}),
    };
    const req = (url.startsWith('https:') ? httpsRequest : httpRequest)(url, opts, (res) => {
      res.resume();
      ok(res.statusCode === 200);
    });
    req.on('error', () => ok(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/** The project's images for a cluster started without any (the CLI's `up --nodes real`). */
async function buildImagesFor(runDir: string, progress: (l: string) => void): Promise<NodeImage[]> {
  const { buildImages } = await import('../images/build-images.js');
  const built = await buildImages({ outDir: join(runDir, 'images'), onProgress: progress });
  return built.map(({ ref, archive }) => ({ ref, archive }));
}
