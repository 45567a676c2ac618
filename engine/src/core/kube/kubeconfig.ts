import { KubeConfig } from '@kubernetes/client-node';
import { BulkheadError } from '../errors.js';

/**
 * The one way Bulkhead finds its cluster, for the engine and every command: the `--kubeconfig`
 * file when given, else client-node's `loadFromDefault()`, which merges every file of a
 * multi-path `$KUBECONFIG` like kubectl does (so callers pass the flag only, never `$KUBECONFIG`
 * split by hand),
 * then tries `~/.kube/config`, then the pod's ServiceAccount. When all of those are missing,
 * client-node silently points at `http://localhost:8080`; that is refused here with an error
 * that says what to do, instead of connection errors against a server nobody configured.
 */
export function loadKubeConfig(path: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  // true: the first file's current-context wins, as with kubectl (client-node's default is the last).
  else kc.loadFromDefault(undefined, true);
  if (!kc.getCurrentCluster()?.server || (!path && isDefaultFallback(kc))) {
    throw new BulkheadError({
      kind: 'Waiting',
      code: 'BH_NO_KUBECONFIG',
      reason: 'NoCluster',
      message: 'no cluster configured: pass --kubeconfig, set KUBECONFIG, write ~/.kube/config, or run in a pod',
    });
  }
  return kc;
}

/** client-node's last resort in `loadFromDefault()`: cluster "cluster" at http://localhost:8080, user "user". */
export function isDefaultFallback(kc: KubeConfig): boolean {
  const cluster = kc.getCurrentCluster();
  return cluster?.name === 'cluster' && cluster.server === 'http://localhost:8080';
}
