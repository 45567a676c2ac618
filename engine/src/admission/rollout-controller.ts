import { AppsV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../core/logger.js';
import { podsAwaitingSidecar, restartPlan, type ExistingPod, type PodAwaitingSidecar } from './existing-pods.js';
import type { SidecarSettings } from './inject/patch.js';
import type { PolicyIndex } from './inject/policy-index.js';
import { restartWorkloads, type RestartResult } from './rollout.js';
import { errorMessage } from '../core/errors.js';

export interface RolloutControllerOptions {
  kubeConfig: KubeConfig;
  /** The webhook's current policy index: exactly what decides injection. */
  index(): PolicyIndex;
  sidecar: SidecarSettings;
  isLeader(): boolean;
  logger: Logger;
  intervalMs?: number;
  onResults?(results: RestartResult[]): void;
}

/**
 * Pods that exist but carry no sidecar although a policy matches them now (the same decision
 * the webhook would make at creation): what `bulkhead plan` lists and the controller restarts.
 */
export async function findPodsAwaitingSidecar(
  kc: KubeConfig,
  index: PolicyIndex,
  sidecar: SidecarSettings,
): Promise<PodAwaitingSidecar[]> {
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const [pods, namespaces, replicaSets] = await Promise.all([
    core.listPodForAllNamespaces(),
    core.listNamespace(),
    apps.listReplicaSetForAllNamespaces(),
  ]);
  const labels = new Map(
    namespaces.items.map((n) => [n.metadata!.name!, (n.metadata?.labels ?? {}) as Record<string, string>]),
  );
  const owners = new Map(
    replicaSets.items.map((rs) => [
      `${rs.metadata!.namespace}/${rs.metadata!.name}`,
      rs.metadata?.ownerReferences?.find((o) => o.kind === 'Deployment')?.name ?? '',
    ]),
  );
  return podsAwaitingSidecar(
    pods.items as unknown as ExistingPod[],
    index,
    (ns) => labels.get(ns) ?? {},
    owners,
    sidecar,
  );
}

/**
 * `spec.rollout: Restart`, carried out: pods that exist from before a policy matched them get
 * no sidecar until recreated, so the leader periodically finds them (the same decision the
 * webhook would make) and rolls their workloads one at a time, respecting
 * PodDisruptionBudgets. One pass at a time; a workload a PDB blocks is tried again next pass.
 */
export function startRolloutController(opts: RolloutControllerOptions): {
  runOnce(): Promise<RestartResult[]>;
  stop(): void;
} {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<RestartResult[]> | undefined;
  let stopped = false;
  const pass = async (): Promise<RestartResult[]> => {
    if (!opts.isLeader()) return [];
    const plan = restartPlan(await findPodsAwaitingSidecar(opts.kubeConfig, opts.index(), opts.sidecar));
    if (plan.length === 0) return [];
    opts.logger.info(
      { workloads: plan.map((w) => `${w.kind}/${w.namespace}/${w.name}`) },
      'rolling restart for pods created before their policy (spec.rollout: Restart)',
    );
    const results = await restartWorkloads(opts.kubeConfig, plan, { logger: opts.logger });
    opts.onResults?.(results);
    return results;
  };
  const runOnce = (): Promise<RestartResult[]> =>
    (running ??= pass().finally(() => {
      running = undefined;
    }));
  const tick = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      runOnce()
        .catch((err: unknown) => opts.logger.warn({ err: errorMessage(err) }, 'rollout pass failed; retried next pass'))
        .finally(tick);
    }, opts.intervalMs ?? 30_000);
  };
  tick();
  return {
    runOnce,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
