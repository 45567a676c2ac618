import { createTestNamespace } from '../../tools/local-cluster/index.js';
import { getCluster, trackNamespace } from './state.js';

/** A fresh namespace for one test file (or test), tracked for the failure dump. */
export async function newNamespace(prefix: string, labels: Record<string, string> = {}): Promise<string> {
  const ns = await createTestNamespace(getCluster().kubeConfig(), prefix, labels);
  trackNamespace(ns);
  return ns;
}
