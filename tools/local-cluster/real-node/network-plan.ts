/**
 * The addresses and names of one real-node cluster, derived from its slot (0-15) alone, so two
 * clusters on one machine never share a bridge, a network namespace, a subnet or a cgroup.
 *
 * Layout for slot k (nothing routes off the machine: no namespace gets a default route):
 *   host bridge  bhk<k>      10.250.<k>.1/24   apiserver, CoreDNS (:53) bind here
 *   node i       netns bhk<k>n<i>, veth eth0 10.250.<k>.<i+2>, its own netfilter (kube-proxy,
 *                kube-router), pods on bridge cni0 in 10.244.<16k+i>.0/24
 *   services     10.96.<16k>.0/20 (the kubernetes Service is .1)
 */
export const MAX_SLOTS = 16;
export const MAX_NODES = 8;

export interface NodePlan {
  index: number;
  name: string;
  netns: string;
  /** Host side of the node's veth (the node side is eth0 in its namespace). */
  hostVeth: string;
  ip: string;
  podCidr: string;
  /** First address of podCidr: the cni0 bridge, the pods' gateway. */
  podGateway: string;
  /** Its own cgroup root under every hierarchy (kubelet's cgroupRoot). */
  cgroupRoot: string;
}

export interface NetworkPlan {
  slot: number;
  bridge: string;
  hostIp: string;
  /** Prefix length of the bridge subnet. */
  hostPrefix: number;
  serviceCidr: string;
  /** The `kubernetes` Service's ClusterIP (first address of serviceCidr). */
  kubernetesServiceIp: string;
  /** All pod CIDRs of the cluster together (kube-proxy's --cluster-cidr). */
  clusterCidr: string;
  dnsIp: string;
  nodes: NodePlan[];
}

export function planNetwork(slot: number, nodeCount: number): NetworkPlan {
  if (!Number.isInteger(slot) || slot < 0 || slot >= MAX_SLOTS) throw new Error(`slot must be 0-${MAX_SLOTS - 1}`);
  if (!Number.isInteger(nodeCount) || nodeCount < 1 || nodeCount > MAX_NODES) {
    throw new Error(`a real-node cluster has 1-${MAX_NODES} nodes`);
  }
  const hostIp = `10.250.${slot}.1`;
  const nodes = Array.from({ length: nodeCount }, (_, i): NodePlan => {
    const third = slot * 16 + i;
    return {
      index: i,
      name: `bh${slot}-node-${i}`,
      netns: `bhk${slot}n${i}`,
      hostVeth: `bhk${slot}n${i}`,
      ip: `10.250.${slot}.${i + 2}`,
      podCidr: `10.244.${third}.0/24`,
      podGateway: `10.244.${third}.1`,
      cgroupRoot: `/bulkhead-k${slot}-n${i}`,
    };
  });
  return {
    slot,
    bridge: `bhk${slot}`,
    hostIp,
    hostPrefix: 24,
    serviceCidr: `10.96.${slot * 16}.0/20`,
    kubernetesServiceIp: `10.96.${slot * 16}.1`,
    clusterCidr: `10.244.${slot * 16}.0/20`,
    dnsIp: hostIp,
    nodes,
  };
}
