import { createHash } from 'node:crypto';
import { GROUP, PLURAL } from '../core/api/index.js';
import { guardMatchConditions, type GuardWriters, type MatchCondition } from './guard/writers.js';

/**
 * The webhook configurations, generated from the policies (pure). The mutating webhook's
 * namespaceSelector/objectSelector are derived from the policy selectors so the apiserver only
 * calls us for candidate pods; kube-system, kube-public and the engine's namespace are always
 * excluded. It fails open (Ignore, 5 s). The guard (validating, on Bulkhead's own kinds) fails
 * closed. Apply registers these only after policies load, and never deletes them.
 */
export interface LabelSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

/** The part of a HealthPolicy the generator reads. */
export interface SelectingPolicy {
  metadata: { name: string };
  spec: { match?: { namespaces?: string[]; namespaceSelector?: LabelSelector; selector?: LabelSelector } };
}

export type WebhookEndpoint = { url: string } | { service: { namespace: string; name: string; port?: number } };

export interface WebhookConfigOptions {
  engineNamespace: string;
  /** Base URL (`https://127.0.0.1:9443`) or the engine's Service; /mutate and /validate are appended. */
  endpoint: WebhookEndpoint;
  /** base64 PEM bundle; when absent the TLS manager patches it in. */
  caBundle?: string;
  /** Above this many distinct selector pairs, entries are merged (coarser, still correct: the injector re-matches). */
  maxEntries?: number;
  names?: { mutating?: string; validating?: string };
  /** Who may write Bulkhead's objects: their requests are never sent to the guard (matchConditions). */
  guardWriters?: GuardWriters;
}

export const ALWAYS_EXCLUDED = ['kube-system', 'kube-public'] as const;
export const WEBHOOK_NAMES = { mutating: 'bulkhead-inject', validating: 'bulkhead-guard' } as const;
/** The labels on every webhook configuration the engine registers: break-glass and uninstall find them by these. */
export const WEBHOOK_LABELS = {
  'app.kubernetes.io/managed-by': 'bulkhead',
  'app.kubernetes.io/component': 'admission',
} as const;
/** `WEBHOOK_LABELS` as a label selector (`k=v,k=v`). */
export const WEBHOOK_LABEL_SELECTOR = Object.entries(WEBHOOK_LABELS)
  .map(([k, v]) => `${k}=${v}`)
  .join(',');
const NAME_LABEL = 'kubernetes.io/metadata.name';

export interface WebhookEntry {
  name: string;
  admissionReviewVersions: string[];
  clientConfig: {
    url?: string;
    service?: { namespace: string; name: string; port?: number; path: string };
    caBundle?: string;
  };
  rules: { operations: string[]; apiGroups: string[]; apiVersions: string[]; resources: string[]; scope?: string }[];
  failurePolicy: 'Ignore' | 'Fail';
  matchPolicy: 'Equivalent';
  sideEffects: 'None';
  timeoutSeconds: number;
  namespaceSelector?: LabelSelector;
  objectSelector?: LabelSelector;
  reinvocationPolicy?: 'IfNeeded' | 'Never';
  matchConditions?: MatchCondition[];
}

export interface WebhookConfiguration {
  apiVersion: 'admissionregistration.k8s.io/v1';
  kind: 'MutatingWebhookConfiguration' | 'ValidatingWebhookConfiguration';
  metadata: { name: string; labels: Record<string, string>; annotations?: Record<string, string> };
  webhooks: WebhookEntry[];
}

export function excludedNamespaces(engineNamespace: string): string[] {
  return [...new Set<string>([...ALWAYS_EXCLUDED, engineNamespace])].sort();
}

function clientConfig(opts: WebhookConfigOptions, path: string): WebhookEntry['clientConfig'] {
  const ca = opts.caBundle ? { caBundle: opts.caBundle } : {};
  if ('url' in opts.endpoint) return { url: `${opts.endpoint.url.replace(/\/$/, '')}${path}`, ...ca };
  return { service: { ...opts.endpoint.service, path }, ...ca };
}

const isEmpty = (s: LabelSelector | undefined): boolean =>
  !s || (Object.keys(s.matchLabels ?? {}).length === 0 && (s.matchExpressions ?? []).length === 0);

/** One candidate scope: namespaces (by name and/or selector) and an optional pod selector. */
export interface Scope {
  namespaces?: string[];
  namespaceSelector?: LabelSelector;
  objectSelector?: LabelSelector;
  policies: string[];
}

function namespaceSelectorOf(scope: Scope, excluded: string[]): LabelSelector {
  const expressions: LabelSelectorRequirement[] = [];
  const allowed = scope.namespaces?.filter((n) => !excluded.includes(n));
  if (allowed) expressions.push({ key: NAME_LABEL, operator: 'In', values: [...new Set(allowed)].sort() });
  expressions.push({ key: NAME_LABEL, operator: 'NotIn', values: excluded });
  const sel = scope.namespaceSelector;
  return {
    ...(sel?.matchLabels && Object.keys(sel.matchLabels).length > 0 ? { matchLabels: sel.matchLabels } : {}),
    matchExpressions: [...(sel?.matchExpressions ?? []), ...expressions],
  };
}

const keyOf = (s: Scope): string =>
  JSON.stringify([
    s.namespaces ? [...new Set(s.namespaces)].sort() : null,
    s.namespaceSelector ?? null,
    s.objectSelector ?? null,
  ]);

function dedupe(scopes: Scope[]): Scope[] {
  const byKey = new Map<string, Scope>();
  for (const s of scopes) {
    const k = keyOf(s);
    const hit = byKey.get(k);
    if (hit) hit.policies.push(...s.policies);
    else byKey.set(k, { ...s, policies: [...s.policies] });
  }
  return [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, s]) => s);
}

/** Scopes from policies, merged until there are at most `max` of them. */
export function candidateScopes(policies: readonly SelectingPolicy[], max: number): Scope[] {
  let scopes = dedupe(
    policies.map((p) => {
      const m = p.spec.match ?? {};
      return {
        ...(m.namespaces && m.namespaces.length > 0 ? { namespaces: m.namespaces } : {}),
        ...(!isEmpty(m.namespaceSelector) ? { namespaceSelector: m.namespaceSelector } : {}),
        ...(!isEmpty(m.selector) ? { objectSelector: m.selector } : {}),
        policies: [p.metadata.name],
      };
    }),
  );
  if (scopes.length > max) {
    // Coarser: drop pod selectors (the injector still checks them on every call).
    scopes = dedupe(scopes.map(({ objectSelector: _o, ...rest }) => rest));
  }
  if (scopes.length > max) {
    // Coarsest: one entry. Named namespaces stay precise when every policy names them.
    const all = scopes.flatMap((s) => s.policies);
    const named = scopes.every((s) => s.namespaces && !s.namespaceSelector);
    scopes = [{ ...(named ? { namespaces: scopes.flatMap((s) => s.namespaces ?? []) } : {}), policies: all }];
  }
  return scopes;
}

export function buildMutatingWebhookConfiguration(
  policies: readonly SelectingPolicy[],
  opts: WebhookConfigOptions,
): WebhookConfiguration {
  const excluded = excludedNamespaces(opts.engineNamespace);
  // A policy that names only excluded namespaces can match nothing: no entry for it.
  const scopes = candidateScopes(
    policies.filter(
      (p) => !(p.spec.match?.namespaces?.length && p.spec.match.namespaces.every((n) => excluded.includes(n))),
    ),
    opts.maxEntries ?? 16,
  );
  const webhooks: WebhookEntry[] = scopes.map((scope) => {
    const namespaceSelector = namespaceSelectorOf(scope, excluded);
    const hash = createHash('sha256')
      .update(JSON.stringify([namespaceSelector, scope.objectSelector ?? null]))
      .digest('hex')
      .slice(0, 10);
    return {
      name: `p${hash}.inject.bulkhead.dev`,
      admissionReviewVersions: ['v1'],
      clientConfig: clientConfig(opts, '/mutate'),
      rules: [
        { operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], scope: 'Namespaced' },
      ],
      // Fail open, quickly: a pod without a monitor is better than no pod.
      failurePolicy: 'Ignore',
      matchPolicy: 'Equivalent',
      sideEffects: 'None',
      timeoutSeconds: 5,
      reinvocationPolicy: 'IfNeeded',
      namespaceSelector,
      ...(scope.objectSelector ? { objectSelector: scope.objectSelector } : {}),
    };
  });
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: {
      name: opts.names?.mutating ?? WEBHOOK_NAMES.mutating,
      labels: { ...WEBHOOK_LABELS },
      annotations: { 'bulkhead.dev/policies': String(policies.length) },
    },
    webhooks,
  };
}

export const GUARDED_RESOURCES = [PLURAL.HealthPolicy, PLURAL.PolicySource, PLURAL.Quarantine] as const;

export function buildValidatingWebhookConfiguration(opts: WebhookConfigOptions): WebhookConfiguration {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: { name: opts.names?.validating ?? WEBHOOK_NAMES.validating, labels: { ...WEBHOOK_LABELS } },
    webhooks: [
      {
        name: 'guard.bulkhead.dev',
        admissionReviewVersions: ['v1'],
        clientConfig: clientConfig(opts, '/validate'),
        rules: [
          {
            operations: ['CREATE', 'UPDATE', 'DELETE'],
            apiGroups: [GROUP],
            apiVersions: ['*'],
            resources: GUARDED_RESOURCES.flatMap((r) => [r, `${r}/status`]),
            scope: '*',
          },
        ],
        // Fail closed: if the guard cannot answer, nobody edits around git. Those who may
        // write are not sent at all (matchConditions), so a stopped engine locks out nobody
        // who may write: the GitOps tool, break-glass, namespace cleanup (ADR 1600).
        failurePolicy: 'Fail',
        matchPolicy: 'Equivalent',
        sideEffects: 'None',
        timeoutSeconds: 5,
        ...(opts.guardWriters ? { matchConditions: guardMatchConditions(opts.guardWriters) } : {}),
      },
    ],
  };
}
