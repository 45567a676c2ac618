import type { LocalCluster } from '../../../tools/local-cluster/index.js';

let cluster: LocalCluster | undefined;
const namespaces = new Set<string>();

export function setRealCluster(c: LocalCluster | undefined): void {
  cluster = c;
}

export function getRealCluster(): LocalCluster {
  if (!cluster) throw new Error('no real-node cluster: run this tier through test/real/.mocharc.json');
  return cluster;
}

export function trackRealNamespace(ns: string): void {
  namespaces.add(ns);
}

export function trackedRealNamespaces(): string[] {
  return [...namespaces];
}
