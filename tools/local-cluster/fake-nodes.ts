import type { CoreV1Api, V1Node } from '@kubernetes/client-node';

/** kwok manages only nodes carrying this annotation (see the kwok flags in cluster.ts). */
export const KWOK_NODE_ANNOTATION = 'kwok.x-k8s.io/node';

/**
 * Creates simulated nodes for kwok to run. No taints of our own: the node controller adds
 * `not-ready` at creation and removes it once kwok reports the node Ready.
 */
export async function createFakeNodes(core: CoreV1Api, count: number, prefix = 'kwok-node'): Promise<string[]> {
  const names = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
  for (const name of names) {
    const body: V1Node = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name,
        annotations: { [KWOK_NODE_ANNOTATION]: 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
        labels: {
          'kubernetes.io/os': 'linux',
          'kubernetes.io/arch': 'amd64',
          'kubernetes.io/hostname': name,
          type: 'kwok',
        },
      },
      spec: {},
    };
    await core.createNode({ body });
  }
  return names;
}

/** True once every named node reports Ready and carries no not-ready/unreachable taint. */
export async function waitForNodesReady(core: CoreV1Api, names: string[]): Promise<boolean> {
  const list = await core.listNode();
  return names.every((name) => {
    const n = list.items.find((x) => x.metadata?.name === name);
    const ready = n?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
    const tainted = n?.spec?.taints?.some((t) => t.key.startsWith('node.kubernetes.io/')) ?? false;
    return ready && !tainted;
  });
}
