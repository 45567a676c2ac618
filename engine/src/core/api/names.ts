// API names in one place, so no stage spells a group, kind or label by hand.
export const GROUP = 'bulkhead.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}` as const;

export const KIND = {
  HealthPolicy: 'HealthPolicy',
  Quarantine: 'Quarantine',
  PolicySource: 'PolicySource',
  RepoSettings: 'RepoSettings',
} as const;

/** Resource names (the CRDs' `spec.names.plural`). */
export const PLURAL = {
  HealthPolicy: 'healthpolicies',
  Quarantine: 'quarantines',
  PolicySource: 'policysources',
} as const;

export const LABEL = {
  managedBy: 'app.kubernetes.io/managed-by',
  quarantined: `${GROUP}/quarantined`,
} as const;

export const ANNOTATION = {
  /** Where a rendered or applied object came from: `<file>:<line>` in the policy repository. */
  source: `${GROUP}/source`,
  /** The repository an applied object came from (no userinfo): the guard names it when it refuses an edit. */
  sourceRepo: `${GROUP}/source-repo`,
  injected: `${GROUP}/injected`,
} as const;

/**
 * The namespace the engine runs in when nothing says otherwise (`--namespace`, the pod's own
 * namespace): deploy/ installs it there, and admission and budgets always exclude it.
 */
export const DEFAULT_ENGINE_NAMESPACE = 'bulkhead-system';

/** Value of the managed-by label on everything Bulkhead applies (the prune inventory keys on it). */
export const MANAGED_BY = 'bulkhead';
