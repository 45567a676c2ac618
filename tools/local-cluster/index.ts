export {
  startLocalCluster,
  realNodesUnsupported,
  type LocalCluster,
  type LocalClusterOptions,
  type ClusterState,
} from './cluster.js';
export type { NodeImage } from './real-node/real-nodes.js';
export { ensureBinaries, COMPONENTS, type Component } from './binaries.js';
export {
  createTestNamespace,
  mintServiceAccountToken,
  serviceAccountKubeConfig,
  type TokenOptions,
} from './identities.js';
export { createFakeNodes, KWOK_NODE_ANNOTATION } from './fake-nodes.js';
export { renderKubeconfig } from './kubeconfig.js';
export { freePorts } from './ports.js';
export { PodRunner, type PodRunnerOptions } from './pod-runner.js';
