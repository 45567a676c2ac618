import { compileMatch, matchSelects, type CompiledMatch } from '../admission/index.js';
import type { HealthPolicy, LabelSelector } from '../core/api/index.js';
import { isNotFound, type KubeClient } from '../core/kube/client.js';

type Labels = Readonly<Record<string, string>>;

export type Judging = { policy: HealthPolicy; why?: undefined } | { policy?: undefined; why: string };

export interface JudgingDeps {
  /** The live HealthPolicies by name (the engine's watch). */
  policy(name: string): HealthPolicy | undefined;
  /** A namespace's labels (only read for a policy with a namespaceSelector). */
  namespaceLabels(namespace: string): Promise<Labels>;
  /**
   * Namespaces no policy ever covers (kube-system, kube-public, the engine's own): the
   * injector's list. A pod there carrying an injection annotation by hand is still not judged.
   */
  excludedNamespaces: ReadonlySet<string>;
}

/** The generated selector type allows undefined label values; a selector never carries them. */
const plain = (sel: LabelSelector | undefined) =>
  sel && {
    ...sel,
    matchLabels: Object.fromEntries(
      Object.entries(sel.matchLabels ?? {}).filter((e): e is [string, string] => e[1] !== undefined),
    ),
  };

/**
 * Each policy object's match, compiled once: the watch hands out a new object when a policy
 * changes, so an entry is never stale, and one that is gone is collected with its policy.
 * Without it every judged report would compile two selectors.
 */
const compiled = new WeakMap<HealthPolicy, CompiledMatch>();

/** Whether the policy's match selects this pod now (pure, given the namespace's labels): the injector's reading. */
export function policySelects(policy: HealthPolicy, pod: { namespace: string; labels: Labels }, nsLabels: Labels) {
  let m = compiled.get(policy);
  if (!m) {
    const match = policy.spec.match ?? {};
    m = compileMatch({
      namespaces: match.namespaces,
      namespaceSelector: plain(match.namespaceSelector),
      selector: plain(match.selector),
    });
    compiled.set(policy, m);
  }
  return matchSelects(m, pod.namespace, nsLabels, pod.labels);
}

/**
 * The policy that judges a pod (ADR 1400): the one named (by the injection annotation the
 * webhook wrote at admission, or by a verdict), if it exists in the cluster now and its match
 * still selects the pod. Never the report's own `policy` field: a pod saying which policy
 * judges it could pick a DryRun policy to dodge, or an Enforce one to get a neighbour's budget.
 * `why` says what failed, for logs and API errors.
 */
export async function judgingPolicy(
  name: string | undefined,
  pod: { namespace: string; name: string; labels: Labels },
  deps: JudgingDeps,
): Promise<Judging> {
  const id = `${pod.namespace}/${pod.name}`;
  if (deps.excludedNamespaces.has(pod.namespace))
    return { why: `namespace ${pod.namespace} is always excluded: no policy judges its pods` };
  if (!name) return { why: `pod ${id} was not injected by a policy (no bulkhead.dev/injected annotation)` };
  const policy = deps.policy(name);
  if (!policy) return { why: `no HealthPolicy "${name}"` };
  const m = policy.spec.match ?? {};
  const nsLabels = m.namespaceSelector ? await deps.namespaceLabels(pod.namespace) : {};
  if (!policySelects(policy, pod, nsLabels)) return { why: `HealthPolicy "${name}" does not select pod ${id}` };
  return { policy };
}

/**
 * Namespace labels through a small cache (bounded, entries trusted for `ttlMs`): every judged
 * pod of a policy with a namespaceSelector would otherwise cost a GET. Past `max` the entry read
 * longest ago goes. A namespace that cannot be read has only its name label.
 */
export function namespaceLabelsReader(
  client: KubeClient,
  opts: { ttlMs?: number; max?: number; now?: () => number } = {},
): (namespace: string) => Promise<Labels> {
  const ttl = opts.ttlMs ?? 30_000;
  const max = opts.max ?? 5_000;
  const now = opts.now ?? Date.now;
  const cache = new Map<string, { labels: Labels; at: number }>();
  return async (namespace) => {
    const hit = cache.get(namespace);
    if (hit && now() - hit.at < ttl) return hit.labels;
    const labels = await client
      .request<{ metadata?: { labels?: Record<string, string> } }>({
        method: 'GET',
        path: `/api/v1/namespaces/${encodeURIComponent(namespace)}`,
      })
      .then(
        (ns) => ns.metadata?.labels ?? {},
        (e: unknown) => {
          if (isNotFound(e)) return { 'kubernetes.io/metadata.name': namespace };
          throw e;
        },
      );
    cache.delete(namespace);
    cache.set(namespace, { labels, at: now() });
    if (cache.size > max) cache.delete(cache.keys().next().value as string);
    return labels;
  };
}
