import type { AdmissionRuntimeOptions } from '../admission/index.js';
import { GROUP, PLURAL, VERSION, type HealthPolicy } from '../core/api/index.js';
import type { KubeClient } from '../core/kube/client.js';
import { watchResource } from '../core/kube/informer.js';
import type { KubeMetrics } from '../core/kube/metrics.js';
import type { Logger } from '../core/logger.js';

type AdmissionPolicies = NonNullable<AdmissionRuntimeOptions['policies']>;

export interface HealthPolicyWatch {
  get(name: string): HealthPolicy | undefined;
  list(): HealthPolicy[];
  /** Resolves after the first successful list. */
  synced: Promise<void>;
  /** Resolves when the first attempt is over: listed and watching, or failed (a restart is scheduled). */
  started: Promise<void>;
  /** The same watch as admission reads it; stopping that view leaves the watch running. */
  forAdmission(): AdmissionPolicies;
  stop(): Promise<void>;
}

/**
 * The engine's one HealthPolicy watch. Every mode reads HealthPolicies from the cluster (in
 * --apply=false that is all it does); the verdict pipeline, spec.forward and the admission
 * injector all read this one, instead of admission starting a second watch of the same
 * resource. Admission is told of changes debounced, so a burst of applies rebuilds its index
 * and re-registers the webhooks once.
 */
export function watchHealthPolicies(opts: {
  client: KubeClient;
  logger: Logger;
  metrics: KubeMetrics;
  debounceMs?: number;
}): HealthPolicyWatch {
  const listeners: (() => void)[] = [];
  let timer: NodeJS.Timeout | undefined;
  // What admission and the status writer react to: the spec (generation), deletion and the
  // SidecarInjection condition. A status write of the engine's own (Ready, matchedPods,
  // lastAction) is no change for them, so it never rebuilds the index or re-registers.
  const seen = new Map<string, string>();
  const keyOf = (p: HealthPolicy): string => {
    const m = p.metadata as { generation?: number; deletionTimestamp?: string };
    const injection = p.status?.conditions?.find((c) => c.type === 'SidecarInjection');
    return JSON.stringify([
      m.generation,
      m.deletionTimestamp,
      injection?.status,
      injection?.reason,
      injection?.message,
    ]);
  };
  const onEvent = (ev: string, p: HealthPolicy): void => {
    const name = p.metadata.name;
    if (ev === 'delete') seen.delete(name);
    else {
      const key = keyOf(p);
      if (seen.get(name) === key) return;
      seen.set(name, key);
    }
    changed();
  };
  const changed = (): void => {
    if (timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      for (const l of listeners) l();
    }, opts.debounceMs ?? 50);
  };
  const watch = watchResource<HealthPolicy>({
    client: opts.client,
    path: `/apis/${GROUP}/${VERSION}/${PLURAL.HealthPolicy}`,
    resource: PLURAL.HealthPolicy,
    logger: opts.logger,
    metrics: opts.metrics,
    onEvent,
  });
  return {
    get: (name) => watch.get(name),
    list: () => [...watch.list()],
    synced: watch.synced,
    started: watch.started,
    forAdmission: () => ({
      // Validated HealthPolicies (their selector maps only look optional in the generated type).
      list: () => [...watch.list()] as unknown as ReturnType<AdmissionPolicies['list']>,
      onChange: (cb) => listeners.push(cb),
      stop: async () => {},
    }),
    stop: async () => {
      clearTimeout(timer);
      await watch.stop();
    },
  };
}
