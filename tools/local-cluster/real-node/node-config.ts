import type { NetworkPlan, NodePlan } from './network-plan.js';

/** Where one node keeps its state: everything under its own folder of the cluster's run folder. */
export interface NodePaths {
  dir: string;
  containerdRoot: string;
  containerdState: string;
  containerdSocket: string;
  cniConfDir: string;
  cniIpamDir: string;
  kubeletRoot: string;
  podLogs: string;
  kubeletConfig: string;
  kubeletKubeconfig: string;
  proxyKubeconfig: string;
  routerKubeconfig: string;
  resolvConf: string;
  pkiDir: string;
  logs: string;
  /** Bind-mounted over the host paths that kubelet, containerd and libcni hard-code (private mount namespace). */
  privateMounts: { source: string; target: string }[];
}

export function nodePaths(runDir: string, node: NodePlan): NodePaths {
  const dir = `${runDir}/nodes/${node.name}`;
  return {
    dir,
    containerdRoot: `${dir}/containerd/root`,
    containerdState: `${dir}/containerd/state`,
    containerdSocket: `${dir}/containerd/containerd.sock`,
    cniConfDir: `${dir}/cni/net.d`,
    cniIpamDir: `${dir}/cni/ipam`,
    kubeletRoot: `${dir}/kubelet`,
    podLogs: `${dir}/pod-logs`,
    kubeletConfig: `${dir}/kubelet.yaml`,
    kubeletKubeconfig: `${dir}/pki/kubelet.kubeconfig`,
    proxyKubeconfig: `${dir}/pki/kube-proxy.kubeconfig`,
    routerKubeconfig: `${dir}/pki/kube-router.kubeconfig`,
    resolvConf: `${dir}/resolv.conf`,
    pkiDir: `${dir}/pki`,
    logs: `${dir}/logs`,
    privateMounts: [
      // kubelet always creates /var/lib/kubelet/device-plugins, whatever --root-dir says.
      { source: `${dir}/mnt/var-lib-kubelet`, target: '/var/lib/kubelet' },
      // libcni's result cache.
      { source: `${dir}/mnt/var-lib-cni`, target: '/var/lib/cni' },
      // containerd's pod network namespaces.
      { source: `${dir}/mnt/run-netns`, target: '/run/netns' },
      // runc's state (/run/containerd/runc) and ctr's fifos.
      { source: `${dir}/mnt/run-containerd`, target: '/run/containerd' },
    ],
  };
}

/** containerd 2.x, CRI only; the two settings these machines need are explained inline. */
export function containerdToml(p: NodePaths, bins: { dir: string; runc: string }, pauseImage: string): string {
  return `version = 3
root = "${p.containerdRoot}"
state = "${p.containerdState}"

[grpc]
  address = "${p.containerdSocket}"

[ttrpc]
  address = "${p.containerdSocket}.ttrpc"

[plugins."io.containerd.cri.v1.runtime"]
  enable_selinux = false
  # These machines lack CAP_SYS_RESOURCE: runc cannot lower a container's oom_score_adj below
  # the runtime's own, so containerd must not ask it to.
  restrict_oom_score_adj = true
  [plugins."io.containerd.cri.v1.runtime".containerd]
    default_runtime_name = "runc"
    [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc.options]
        BinaryName = "${bins.runc}"
        SystemdCgroup = false
  [plugins."io.containerd.cri.v1.runtime".cni]
    bin_dirs = ["${bins.dir}"]
    conf_dir = "${p.cniConfDir}"

# NRI would create /run/nri on the host; nothing here uses it.
[plugins."io.containerd.nri.v1.nri"]
  disable = true

[plugins."io.containerd.cri.v1.images"]
  snapshotter = "overlayfs"
  [plugins."io.containerd.cri.v1.images".pinned_images]
    # kubelet 1.36 has no --pod-infra-container-image: the sandbox image is containerd's.
    sandbox = "${pauseImage}"

[plugins."io.containerd.grpc.v1.cri"]
  disable_tcp_service = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
`;
}

/** Bridge CNI with a default route through the node: the node has none, so nothing leaves the machine. */
export function cniConflist(node: NodePlan, p: NodePaths): string {
  return `${JSON.stringify(
    {
      cniVersion: '1.0.0',
      name: 'bulkhead',
      plugins: [
        {
          type: 'bridge',
          bridge: 'cni0',
          isGateway: true,
          ipMasq: false,
          hairpinMode: true,
          ipam: {
            type: 'host-local',
            ranges: [[{ subnet: node.podCidr, gateway: node.podGateway }]],
            routes: [{ dst: '0.0.0.0/0' }],
            dataDir: p.cniIpamDir,
          },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    },
    null,
    2,
  )}\n`;
}

export function kubeletConfig(net: NetworkPlan, node: NodePlan, p: NodePaths, caFile: string): string {
  const cfg = {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    cgroupDriver: 'cgroupfs',
    // Each node's pods live under their own cgroup root, so two nodes (or clusters) on one
    // machine never share /kubepods, and teardown removes exactly what this node made.
    cgroupRoot: node.cgroupRoot,
    cgroupsPerQOS: true,
    enforceNodeAllocatable: ['pods'],
    failSwapOn: false,
    // These machines are cgroup v1 hosts; kubelet 1.36 refuses v1 unless told.
    failCgroupV1: false,
    containerRuntimeEndpoint: `unix://${p.containerdSocket}`,
    imageServiceEndpoint: `unix://${p.containerdSocket}`,
    address: node.ip,
    port: 10250,
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort: 10248,
    authentication: {
      x509: { clientCAFile: caFile },
      webhook: { enabled: true },
      anonymous: { enabled: false },
    },
    authorization: { mode: 'Webhook' },
    tlsCertFile: `${p.pkiDir}/kubelet-serving.crt`,
    tlsPrivateKeyFile: `${p.pkiDir}/kubelet-serving.key`,
    clusterDNS: [net.dnsIp],
    clusterDomain: 'cluster.local',
    resolvConf: p.resolvConf,
    podLogsDir: p.podLogs,
    // A disposable test node on a shared disk: never evict for disk pressure it did not cause.
    evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '1%', 'imagefs.available': '1%' },
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    serializeImagePulls: false,
    maxPods: 60,
    nodeStatusUpdateFrequency: '4s',
    syncFrequency: '10s',
    fileCheckFrequency: '5s',
    shutdownGracePeriod: '0s',
  };
  return `${JSON.stringify(cfg, null, 2)}\n`;
}

/** Pods with dnsPolicy Default get this, not the host's resolvers: no name resolves off the machine. */
export function resolvConf(net: NetworkPlan): string {
  return `nameserver ${net.dnsIp}\n`;
}

/** Resolves cluster names only; everything else is NXDOMAIN (nothing is forwarded upstream). */
export function corefile(net: NetworkPlan, kubeconfig: string, healthPort: number, readyPort: number): string {
  return `cluster.local:53 in-addr.arpa:53 {
    bind ${net.dnsIp}
    errors
    health 127.0.0.1:${healthPort}
    ready 127.0.0.1:${readyPort}
    kubernetes cluster.local in-addr.arpa {
        kubeconfig ${kubeconfig}
        pods insecure
    }
    cache 5
}
.:53 {
    bind ${net.dnsIp}
    template ANY ANY {
        rcode NXDOMAIN
    }
}
`;
}
