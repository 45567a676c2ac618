import {
  AppsV1Api,
  PolicyV1Api,
  type KubeConfig,
  type V1DaemonSet,
  type V1Deployment,
  type V1LabelSelector,
  type V1StatefulSet,
} from '@kubernetes/client-node';
import { sleep } from '../core/backoff.js';
import type { Logger } from '../core/logger.js';
import { compileSelector } from './inject/selector.js';
import type { WorkloadRef } from './existing-pods.js';

type Workload = V1Deployment | V1StatefulSet | V1DaemonSet;
interface KindOps {
  read(apps: AppsV1Api, w: WorkloadRef): Promise<Workload>;
  patch(apps: AppsV1Api, w: WorkloadRef, body: object[]): Promise<Workload>;
  onDelete(obj: Workload): boolean;
  /** The controller saw the new template and every replica runs it and is available. */
  rolledOut(obj: Workload, generation: number): boolean;
}

const seen = (obj: Workload, generation: number): boolean => (obj.status?.observedGeneration ?? 0) >= generation;

const KINDS: Record<'Deployment' | 'StatefulSet' | 'DaemonSet', KindOps> = {
  Deployment: {
    read: (apps, w) => apps.readNamespacedDeployment({ namespace: w.namespace, name: w.name }),
    patch: (apps, w, body) => apps.patchNamespacedDeployment({ namespace: w.namespace, name: w.name, body }),
    onDelete: () => false,
    rolledOut: (obj, gen) => {
      const d = obj as V1Deployment;
      const want = d.spec?.replicas ?? 1;
      const s = d.status ?? {};
      return (
        seen(d, gen) &&
        (s.updatedReplicas ?? 0) === want &&
        (s.availableReplicas ?? 0) === want &&
        (s.replicas ?? 0) === want
      );
    },
  },
  StatefulSet: {
    read: (apps, w) => apps.readNamespacedStatefulSet({ namespace: w.namespace, name: w.name }),
    patch: (apps, w, body) => apps.patchNamespacedStatefulSet({ namespace: w.namespace, name: w.name, body }),
    onDelete: (obj) => (obj as V1StatefulSet).spec?.updateStrategy?.type === 'OnDelete',
    rolledOut: (obj, gen) => {
      const s = (obj as V1StatefulSet).status;
      const want = (obj as V1StatefulSet).spec?.replicas ?? 1;
      return (
        seen(obj, gen) &&
        !!s &&
        s.updateRevision === s.currentRevision &&
        (s.updatedReplicas ?? 0) === want &&
        (s.readyReplicas ?? 0) === want
      );
    },
  },
  DaemonSet: {
    read: (apps, w) => apps.readNamespacedDaemonSet({ namespace: w.namespace, name: w.name }),
    patch: (apps, w, body) => apps.patchNamespacedDaemonSet({ namespace: w.namespace, name: w.name, body }),
    onDelete: (obj) => (obj as V1DaemonSet).spec?.updateStrategy?.type === 'OnDelete',
    rolledOut: (obj, gen) => {
      const s = (obj as V1DaemonSet).status;
      return (
        seen(obj, gen) &&
        !!s &&
        (s.updatedNumberScheduled ?? 0) === s.desiredNumberScheduled &&
        (s.numberAvailable ?? 0) === s.desiredNumberScheduled
      );
    },
  },
};

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
 * workload controller's own rolling update (its maxUnavailable / partition holds). Deployments,
 * StatefulSets and DaemonSets; an OnDelete update strategy is reported, not forced.
 */
export async function restartWorkloads(
  kc: KubeConfig,
  workloads: readonly WorkloadRef[],
  opts: RestartOptions,
): Promise<RestartResult[]> {
  const apps = kc.makeApiClient(AppsV1Api);
  const policy = kc.makeApiClient(PolicyV1Api);
  const timeoutMs = opts.timeoutMs ?? 300_000;
  const pollMs = opts.pollMs ?? 1000;
  const now = opts.clock ?? (() => new Date());
  const results: RestartResult[] = [];
  for (const w of workloads) {
    const kind = KINDS[w.kind as keyof typeof KINDS];
    if (!kind) {
      results.push({
        workload: w,
        outcome: 'skipped',
        reason: `a ${w.kind} cannot be restarted; recreate its pods to inject`,
      });
      continue;
    }
    const obj = await kind.read(apps, w);
    if (kind.onDelete(obj)) {
      results.push({
        workload: w,
        outcome: 'skipped',
        reason: `${w.kind} ${w.name} uses updateStrategy OnDelete: a template change restarts nothing`,
      });
      continue;
    }
    const labels = obj.spec?.template.metadata?.labels ?? {};
    // Respect PodDisruptionBudgets: wait while one that selects these pods allows no disruption.
    const pdbDeadline = Date.now() + (opts.pdbWaitMs ?? timeoutMs);
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
    const body = [
      ...(obj.spec?.template.metadata?.annotations
        ? []
        : [{ op: 'add', path: '/spec/template/metadata/annotations', value: {} }]),
      {
        op: 'add',
        path: `/spec/template/metadata/annotations/${RESTARTED_AT_ANNOTATION.replace('/', '~1')}`,
        value: startedAt,
      },
    ];
    const generation = (await kind.patch(apps, w, body)).metadata?.generation ?? 0;
    opts.logger.info({ workload: w }, 'rolling restart started');
    let done = false;
    while (!done && Date.now() <= deadline) {
      done = kind.rolledOut(await kind.read(apps, w), generation);
      if (!done) await sleep(pollMs);
    }
    const finishedAt = now().toISOString();
    results.push(
      done
        ? { workload: w, outcome: 'restarted', reason: 'rollout complete', startedAt, finishedAt }
        : {
            workload: w,
            outcome: 'skipped',
            reason: `rollout not complete within ${timeoutMs} ms; stopped before the next workload`,
            startedAt,
            finishedAt,
          },
    );
    // Never start the next workload while this one is still rolling.
    if (!done) break;
  }
  return results;
}
