import type { Counter } from 'prom-client';
import { GROUP, PLURAL, type HealthPolicy } from '../core/api/index.js';
import { isNotFound, type KubeClient } from '../core/kube/client.js';
import type { Logger } from '../core/logger.js';
import {
  injectedPolicyOf,
  podFactsOf,
  SEVERITY,
  type ActionType,
  type PodHealth,
  type PodObject as AnalyticsPodObject,
  type Signal,
} from '../analytics/index.js';

export type { ActionType };
import { judgingPolicy } from './judging-policy.js';
import { quarantineName } from './quarantine-object.js';

/** What an external analytics engine sends: which pod, what it wants done, and why. */
export interface ExternalVerdict {
  namespace: string;
  pod: string;
  /** When given, must match: the verdict is about this pod, not a later one of the same name. */
  uid?: string;
  /** Capped at the policy's own action: a caller can ask for less than the policy allows, never more. */
  action?: ActionType;
  /** CamelCase, e.g. "AnomalousEgress". */
  reason: string;
  message?: string;
  /** Defaults to the policy that injected the pod's sidecar; either way it must select the pod. */
  policy?: string;
  evidence?: { time?: string; detail: string; value?: number }[];
}

/** Who asked, as TokenReview said. */
export interface VerdictCaller {
  username: string;
  groups: string[];
}

export interface VerdictIntakeDeps {
  client: KubeClient;
  /** The evaluator's entry for outside signals: same grouping, budget, DryRun and audit. */
  submit(pod: PodHealth, signals: Signal[], policy: HealthPolicy): void;
  policy(name: string): HealthPolicy | undefined;
  namespaceLabels: (namespace: string) => Promise<Readonly<Record<string, string>>>;
  /** The injector's always-excluded namespaces: no verdict acts on a pod there. */
  excludedNamespaces: ReadonlySet<string>;
  logger: Logger;
  requests?: Counter<'outcome'>;
  now?: () => Date;
}

export type IntakeOutcome = 'accepted' | 'forbidden' | 'no_pod' | 'no_policy';

/** What became of one verdict: the HTTP status the verdict API answers with, and its body. */
export interface IntakeResult {
  outcome: IntakeOutcome;
  status: 202 | 403 | 404 | 422;
  body: Record<string, unknown>;
}

type PodObject = AnalyticsPodObject & { metadata: { annotations?: Record<string, string> } };

/**
 * One validated outside verdict, from an authenticated caller, onto the built-in detectors'
 * path: RBAC (the caller may create quarantines.bulkhead.dev in the pod's namespace, by
 * SubjectAccessReview), the pod as it is now, the judging policy (only one that selects the
 * pod, ADR 1400), the action capped at the policy's, then the evaluator's grouping, budget,
 * DryRun and audit. The verdict API and the Alertmanager/Falcosidekick receivers (ADR 1810)
 * all come through here, so none of them can do what another may not.
 */
export async function takeVerdict(
  deps: VerdictIntakeDeps,
  caller: VerdictCaller,
  verdict: ExternalVerdict,
  opts: { threat?: boolean; via?: string } = {},
): Promise<IntakeResult> {
  const count = (outcome: string): void => deps.requests?.inc({ outcome });
  const allowed = await accessReview(deps.client, caller.username, caller.groups, verdict.namespace);
  if (!allowed) {
    count('forbidden');
    return {
      outcome: 'forbidden',
      status: 403,
      body: { error: `${caller.username} may not create quarantines.${GROUP} in namespace ${verdict.namespace}` },
    };
  }
  const pod = await deps.client
    .request<PodObject>({
      method: 'GET',
      path: `/api/v1/namespaces/${encodeURIComponent(verdict.namespace)}/pods/${encodeURIComponent(verdict.pod)}`,
    })
    .catch((e: unknown) => {
      if (isNotFound(e)) return undefined;
      throw e;
    });
  if (!pod || (verdict.uid && pod.metadata.uid !== verdict.uid)) {
    count('no_pod');
    return {
      outcome: 'no_pod',
      status: 404,
      body: {
        error: `pod ${verdict.namespace}/${verdict.pod}${verdict.uid ? ` with uid ${verdict.uid}` : ''} not found`,
      },
    };
  }
  // Only a policy that selects the pod now may judge it (ADR 1400): naming another one would
  // borrow its action, mode and budget for a pod it does not cover.
  const policyName = verdict.policy ?? injectedPolicyOf(pod.metadata.annotations);
  const judged = await judgingPolicy(
    policyName,
    { namespace: pod.metadata.namespace, name: pod.metadata.name, labels: pod.metadata.labels ?? {} },
    { policy: deps.policy, namespaceLabels: deps.namespaceLabels, excludedNamespaces: deps.excludedNamespaces },
  );
  const base = judged.policy;
  if (!base) {
    count('no_policy');
    return {
      outcome: 'no_policy',
      status: 422,
      body: {
        error: 'invalid verdict',
        problems: [
          {
            pointer: '/policy',
            message: `${judged.why}: a verdict may use only a HealthPolicy that selects the pod${
              policyName ? '' : ' (name one in policy)'
            }`,
          },
        ],
      },
    };
  }
  const action = capAction(verdict.action ?? base.spec.action.type, base.spec.action.type);
  const policy: HealthPolicy = { ...base, spec: { ...base.spec, action: { ...base.spec.action, type: action } } };
  const health = podHealthOf(pod);
  const now = (deps.now ?? (() => new Date()))().getTime();
  const via = opts.via ? ` via ${opts.via}` : '';
  const signal: Signal = {
    type: 'External',
    pod: { namespace: health.namespace, name: health.name, uid: health.uid },
    at: now,
    reason: verdict.reason,
    message: `${verdict.message ?? verdict.reason} (verdict from ${caller.username}${via})`,
    evidence: (verdict.evidence ?? []).map((e) => ({
      t: e.time && !Number.isNaN(Date.parse(e.time)) ? Date.parse(e.time) : now,
      detail: e.detail,
      ...(e.value !== undefined ? { value: e.value } : {}),
    })),
    threat: opts.threat ?? false,
  };
  deps.submit(health, [signal], policy);
  deps.logger.info(
    { caller: caller.username, via: opts.via, pod: `${health.namespace}/${health.name}`, policy: policyName, action },
    'external verdict accepted',
  );
  count('accepted');
  return {
    outcome: 'accepted',
    status: 202,
    body: {
      accepted: true,
      policy: policyName,
      action,
      quarantine: action === 'Quarantine' || action === 'Isolate' ? quarantineName(health) : undefined,
    },
  };
}

/** A caller may ask for a milder action than the policy's, never a harsher one. */
export function capAction(requested: ActionType, policyAction: ActionType): ActionType {
  return SEVERITY[requested] <= SEVERITY[policyAction] ? requested : policyAction;
}

function podHealthOf(pod: PodObject): PodHealth {
  return {
    namespace: pod.metadata.namespace,
    name: pod.metadata.name,
    uid: pod.metadata.uid,
    ...podFactsOf(pod),
    samples: [],
    events: [],
  };
}

async function accessReview(client: KubeClient, user: string, groups: string[], namespace: string): Promise<boolean> {
  const res = await client.request<{ status?: { allowed?: boolean } }>({
    method: 'POST',
    path: '/apis/authorization.k8s.io/v1/subjectaccessreviews',
    body: {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: {
        user,
        groups,
        resourceAttributes: { namespace, verb: 'create', group: GROUP, resource: PLURAL.Quarantine },
      },
    },
  });
  return res.status?.allowed === true;
}
