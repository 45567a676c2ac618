import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { issueCertificate, type KeyPair } from '../../../engine/src/core/pki.js';
import { renderKubeconfig } from '../kubeconfig.js';
import { startProcess, type ManagedProcess } from '../managed-process.js';
import { freePorts } from '../ports.js';
import type { HostNetwork } from './host-network.js';
import type { NodeBinaryDir } from './node-binaries.js';
import {
  cniConflist,
  containerdToml,
  corefile,
  kubeletConfig,
  nodePaths,
  resolvConf,
  type NodePaths,
} from './node-config.js';
import type { NodePlan } from './network-plan.js';

const nodeInitScript = fileURLToPath(new URL('./node-init.mjs', import.meta.url));

/** An image archive to import into every node's containerd (tools/images). */
export interface NodeImage {
  ref: string;
  archive: string;
}

export interface RealNodesContext {
  runDir: string;
  net: HostNetwork;
  /** The apiserver as nodes and pods reach it (the host bridge address). */
  server: string;
  ca: KeyPair;
  admin: KeyPair;
  kubeConfig(): KubeConfig;
  bins: NodeBinaryDir;
  images: NodeImage[];
  pauseImage: string;
  onProgress?: (line: string) => void;
  /** Each host process as it starts, with the binary it runs (for the cluster's state and stop). */
  onStarted?: (p: ManagedProcess, binary: string) => Promise<void>;
}

export interface RealNodes {
  names: string[];
  processes: ManagedProcess[];
}

/** Host programs the nodes' processes call: iptables, ipset, nft (kube-router, kube-proxy), mount. */
const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

async function writeNodeFiles(ctx: RealNodesContext, node: NodePlan, p: NodePaths): Promise<void> {
  for (const d of [p.dir, p.pkiDir, p.logs, p.cniConfDir, p.cniIpamDir, p.kubeletRoot, p.podLogs]) {
    await mkdir(d, { recursive: true, mode: 0o700 });
  }
  const kubeconfig = (userName: string, user: KeyPair) =>
    renderKubeconfig({
      server: ctx.server,
      caCert: ctx.ca.cert,
      userName,
      user: { clientCert: user.cert, clientKey: user.key },
    });
  const [kubelet, serving, proxy] = await Promise.all([
    // The Node authorizer and NodeRestriction admit exactly this identity for this node.
    issueCertificate(ctx.ca, {
      commonName: `system:node:${node.name}`,
      organizations: ['system:nodes'],
      usage: 'client',
      validForDays: 7,
    }),
    issueCertificate(ctx.ca, {
      commonName: node.name,
      dnsNames: [node.name],
      ipAddresses: [node.ip],
      usage: 'server',
      validForDays: 7,
    }),
    // The bootstrap policy binds system:node-proxier to this user.
    issueCertificate(ctx.ca, { commonName: 'system:kube-proxy', usage: 'client', validForDays: 7 }),
  ]);
  const caFile = join(p.pkiDir, 'ca.crt');
  await Promise.all([
    writeFile(caFile, ctx.ca.cert),
    writeFile(join(p.pkiDir, 'kubelet-serving.crt'), serving.cert),
    writeFile(join(p.pkiDir, 'kubelet-serving.key'), serving.key, { mode: 0o600 }),
    writeFile(p.kubeletKubeconfig, kubeconfig(`system:node:${node.name}`, kubelet), { mode: 0o600 }),
    writeFile(p.proxyKubeconfig, kubeconfig('system:kube-proxy', proxy), { mode: 0o600 }),
    // kube-router reads pods, namespaces and NetworkPolicies cluster-wide and patches its Node:
    // in a disposable local cluster it runs as admin rather than with a role of its own.
    writeFile(p.routerKubeconfig, kubeconfig('admin', ctx.admin), { mode: 0o600 }),
    writeFile(
      join(p.dir, 'containerd.toml'),
      containerdToml(p, { dir: ctx.bins.dir, runc: ctx.bins.path('runc') }, ctx.pauseImage),
    ),
    writeFile(join(p.cniConfDir, '10-bulkhead.conflist'), cniConflist(node, p)),
    writeFile(p.kubeletConfig, kubeletConfig(ctx.net.plan, node, p, caFile)),
    writeFile(p.resolvConf, resolvConf(ctx.net.plan)),
  ]);
}

function nodeInitSpec(ctx: RealNodesContext, node: NodePlan, p: NodePaths): object {
  const b = ctx.bins;
  return {
    mounts: p.privateMounts,
    // Per network namespace: the host's values are untouched.
    sysctls: {
      'net.ipv4.ip_forward': '1',
      'net.bridge.bridge-nf-call-iptables': '1',
      'net.bridge.bridge-nf-call-ip6tables': '1',
    },
    stateFile: join(p.dir, 'node-init.json'),
    path: `${b.dir}:${SYSTEM_PATH}`,
    home: p.dir,
    waitForSocket: p.containerdSocket,
    steps: ctx.images.map((img) => ({
      name: `import ${img.ref}`,
      binary: b.path('ctr'),
      args: [
        '--address',
        p.containerdSocket,
        '--namespace',
        'k8s.io',
        'images',
        'import',
        '--platform',
        'linux/amd64',
        img.archive,
      ],
    })),
    processes: [
      {
        name: 'containerd',
        binary: b.path('containerd'),
        args: ['--config', join(p.dir, 'containerd.toml'), '--log-level', 'warn'],
        log: join(p.logs, 'containerd.log'),
      },
      {
        name: 'kubelet',
        binary: b.path('kubelet'),
        args: [
          `--config=${p.kubeletConfig}`,
          `--kubeconfig=${p.kubeletKubeconfig}`,
          `--root-dir=${p.kubeletRoot}`,
          `--hostname-override=${node.name}`,
          `--node-ip=${node.ip}`,
          '--node-labels=bulkhead.dev/local-node=real',
          '-v=1',
        ],
        log: join(p.logs, 'kubelet.log'),
      },
      {
        name: 'kube-proxy',
        binary: b.path('kube-proxy'),
        args: [
          `--kubeconfig=${p.proxyKubeconfig}`,
          `--hostname-override=${node.name}`,
          '--proxy-mode=nftables',
          `--cluster-cidr=${ctx.net.plan.clusterCidr}`,
          '--metrics-bind-address=127.0.0.1:10249',
          '--healthz-bind-address=127.0.0.1:10256',
          // 0 = leave the kernel's conntrack settings alone (some are machine-wide).
          '--conntrack-max-per-core=0',
          '--conntrack-tcp-timeout-established=0',
          '--conntrack-tcp-timeout-close-wait=0',
          `--nodeport-addresses=${node.ip}/32`,
        ],
        log: join(p.logs, 'kube-proxy.log'),
        restart: true,
      },
      {
        name: 'kube-router',
        binary: b.path('kube-router'),
        args: [
          `--kubeconfig=${p.routerKubeconfig}`,
          `--hostname-override=${node.name}`,
          // NetworkPolicy enforcement only: routing is the bridge's, Services are kube-proxy's.
          '--run-firewall=true',
          '--run-router=false',
          '--run-service-proxy=false',
          '--enable-cni=false',
          '--health-port=0',
          '--metrics-port=0',
          '--iptables-sync-period=30s',
        ],
        log: join(p.logs, 'kube-router.log'),
        restart: true,
      },
    ],
  };
}

/**
 * Starts every node (containerd, image imports, kubelet, kube-proxy, kube-router inside the
 * node's own network and mount namespaces) and CoreDNS on the host bridge, then waits until
 * the nodes are Ready.
 */
export async function startRealNodes(ctx: RealNodesContext): Promise<RealNodes> {
  const say = ctx.onProgress ?? (() => {});
  const plan = ctx.net.plan;
  const processes: ManagedProcess[] = [];
  const hostLogs = join(ctx.runDir, 'logs');
  await mkdir(hostLogs, { recursive: true });

  const dnsDir = join(ctx.runDir, 'real-node', 'coredns');
  await mkdir(dnsDir, { recursive: true });
  const [healthPort, readyPort] = (await freePorts(2)) as [number, number];
  const dnsKubeconfig = join(dnsDir, 'kubeconfig');
  await writeFile(
    dnsKubeconfig,
    renderKubeconfig({
      server: ctx.server,
      caCert: ctx.ca.cert,
      userName: 'admin',
      user: { clientCert: ctx.admin.cert, clientKey: ctx.admin.key },
    }),
    { mode: 0o600 },
  );
  await writeFile(join(dnsDir, 'Corefile'), corefile(plan, dnsKubeconfig, healthPort, readyPort));
  const dns = await startProcess(
    'coredns',
    ctx.bins.path('coredns'),
    ['-conf', join(dnsDir, 'Corefile')],
    join(hostLogs, 'coredns.log'),
  );
  processes.push(dns);
  await ctx.net.addProcess({ name: 'coredns', pid: dns.pid, binary: ctx.bins.path('coredns') });
  await ctx.onStarted?.(dns, ctx.bins.path('coredns'));

  for (const node of plan.nodes) {
    const p = nodePaths(ctx.runDir, node);
    await writeNodeFiles(ctx, node, p);
    const specFile = join(p.dir, 'node-init.spec.json');
    await writeFile(specFile, JSON.stringify(nodeInitSpec(ctx, node, p), null, 2));
    say(`starting node ${node.name} (${node.ip}, pods ${node.podCidr})`);
    const init = await startProcess(
      `node ${node.name}`,
      'nsenter',
      [
        `--net=/run/netns/${node.netns}`,
        '--',
        'unshare',
        '--mount',
        '--propagation',
        'private',
        '--',
        process.execPath,
        nodeInitScript,
        specFile,
      ],
      join(p.logs, 'node-init.log'),
    );
    processes.push(init);
    // nsenter and unshare exec in place: the pid ends up running node-init under node.
    await ctx.net.addProcess({ name: `node-init ${node.name}`, pid: init.pid, binary: process.execPath });
    await ctx.onStarted?.(init, process.execPath);
  }

  const core = ctx.kubeConfig().makeApiClient(CoreV1Api);
  const names = plan.nodes.map((n) => n.name);
  const deadline = Date.now() + 180_000;
  for (;;) {
    for (const p of processes) {
      if (!p.isRunning()) throw new Error(`${p.name} exited during start-up:\n${await p.logTail(30)}`);
    }
    const list = await core.listNode().catch(() => ({ items: [] }));
    const ready = names.filter((name) =>
      list.items.some(
        (n) =>
          n.metadata?.name === name && n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
      ),
    );
    if (ready.length === names.length) break;
    if (Date.now() > deadline) {
      const tails = await Promise.all(processes.map(async (p) => `--- ${p.name}\n${await p.logTail(15)}`));
      throw new Error(`real nodes not Ready after 180s (ready: ${ready.join(', ') || 'none'})\n${tails.join('\n')}`);
    }
    await new Promise((ok) => setTimeout(ok, 500));
  }
  say(`${names.length} real node(s) Ready: ${names.join(', ')}`);
  return { names, processes };
}
