import { AppsV1Api, PolicyV1Api, type KubeConfig, type V1LabelSelector } from '@kubernetes/client-node';
import { sleep } from '../core/backoff.js';
import type { Logger } from '../core/logger.js';
import { compileSelector } from './inject/selector.js';
import type { WorkloadRef } from './existing-pods.js';

/** Set on the pod template: the restart that gave the pods their sidecar. */
export const RESTARTED_AT_ANNOTATION = 'bulkhead.dev/restartedAt';

export interface RestartResult {
  workload: WorkloadRef;
  outcome: 'restarted' | 'skipped';
  reason: string;
  startedAt?: string;
  finishedAt?: string;
}

export interface RestartOptions {
  logger: Logger;
  /** Longest wait for one workload's rollout. */
  timeoutMs?: number;
  /** Longest wait for a blocking PodDisruptionBudget before skipping the workload (default: timeoutMs). */
  pdbWaitMs?: number;
  pollMs?: number;
  clock?: () => Date;
}

/**
 * Rolling restart of workloads, one at a time: a workload starts only after the previous one
 * finished its rollout, and not while a PodDisruptionBudget selecting its pods allows no
 * disruption (waited for up to the timeout, then skipped with the reason). The restart is the
 * workload controller's own rolling update (its maxUnavailable holds).
 */
export async function restartWorkloads(kc: KubeConfig, workloads: readonly WorkloadRef[], opts: RestartOptions): Promise<RestartResult[]> {
  const apps = kc.makeApiClient(AppsV1Api);
  const policy = kc.makeApiClient(PolicyV1Api);
  const timeoutMs = opts.timeoutMs ?? 300_000;
  const pollMs = opts.pollMs ?? 1000;
  const now = opts.clock ?? (() => new Date());
  const results: RestartResult[] = [];
  for (const w of workloads) {
    if (w.kind !== 'Deployment') {
      results.push({ workload: w, outcome: 'skipped', reason: `${w.kind} restarts are not supported yet; recreate its pods to inject` });
      continue;
    }
    const pdbDeadline = Date.now() + (opts.pdbWaitMs ?? timeoutMs);
    const dep = await apps.readNamespacedDeployment({ namespace: w.namespace, name: w.name });
    const labels = dep.spec?.template.metadata?.labels ?? {};
    // Respect PodDisruptionBudgets: wait while one that selects these pods allows no disruption.
    let blocker: string | undefined;
    for (;;) {
      const pdbs = (await policy.listNamespacedPodDisruptionBudget({ namespace: w.namespace })).items;
      blocker = pdbs
        .filter((p) => compileSelector(p.spec?.selector as V1LabelSelector | undefined)(labels))
        .find((p) => (p.status?.disruptionsAllowed ?? 0) < 1)?.metadata?.name;
      if (!blocker || Date.now() > pdbDeadline) break;
      await sleep(pollMs);
    }
    if (blocker) {
      results.push({ workload: w, outcome: 'skipped', reason: `PodDisruptionBudget ${blocker} allows no disruption` });
      opts.logger.warn({ workload: w, pdb: blocker }, 'restart skipped: disruption budget exhausted');
      continue;
    }
    const deadline = Date.now() + timeoutMs;
    const startedAt = now().toISOString();
    const patched = await apps.patchNamespacedDeployment({
      namespace: w.namespace,
      name: w.name,
      body: [
        ...(dep.spec?.template.metadata?.annotations ? [] : [{ op: 'add', path: '/spec/template/metadata/annotations', value: {} }]),
        { op: 'add', path: `/spec/template/metadata/annotations/${RESTARTED_AT_ANNOTATION.replace('/', '~1')}`, value: startedAt },
      ],
    });
    const generation = patched.metadata?.generation ?? 0;
    opts.logger.info({ workload: w }, 'rolling restart started');
    let done = false;
    while (!done && Date.now() <= deadline) {
      const d = await apps.readNamespacedDeployment({ namespace: w.namespace, name: w.name });
      const want = d.spec?.replicas ?? 1;
      const s = d.status ?? {};
      done = (s.observedGeneration ?? 0) >= generation && (s.updatedReplicas ?? 0) === want && (s.availableReplicas ?? 0) === want && (s.replicas ?? 0) === want;
      if (!done) await sleep(pollMs);
    }
    const finishedAt = now().toISOString();
    results.push(
      done
        ? { workload: w, outcome: 'restarted', reason: 'rollout complete', startedAt, finishedAt }
        : { workload: w, outcome: 'skipped', reason: `rollout not complete within ${timeoutMs} ms; stopped before the next workload`, startedAt, finishedAt },
    );
    // Never start the next workload while this one is still rolling.
    if (!done) break;
  }
  return results;
}
