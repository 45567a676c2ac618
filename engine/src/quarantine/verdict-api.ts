import { Router } from '@koa/router';
import type { Counter } from 'prom-client';
import { GROUP, PLURAL, type HealthPolicy } from '../core/api/index.js';
import { readJsonBody } from '../core/http/bounded-body.js';
import { HttpError } from '../core/http/http-error.js';
import { refuseUnlessLeader, type LeaderView } from '../core/http/leader-gate.js';
import { isNotFound, type KubeClient } from '../core/kube/client.js';
import type { Logger } from '../core/logger.js';
import type { TokenAuthenticator } from '../observe/index.js';
import {
  injectedPolicyOf,
  podFactsOf,
  SEVERITY,
  type ActionType,
  type PodHealth,
  type PodObject as AnalyticsPodObject,
  type Signal,
} from '../analytics/index.js';
import { judgingPolicy, namespaceLabelsReader } from './judging-policy.js';
import { quarantineName } from './quarantine-object.js';

export const VERDICTS_PATH = '/api/v1/verdicts';

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

export interface VerdictApiDeps {
  authenticator: TokenAuthenticator;
  client: KubeClient;
  /** The evaluator's entry for outside signals: same grouping, budget, DryRun and audit. */
  submit(pod: PodHealth, signals: Signal[], policy: HealthPolicy): void;
  policy(name: string): HealthPolicy | undefined;
  /** Namespace labels, for a policy's namespaceSelector (default: read through deps.client). */
  namespaceLabels?: (namespace: string) => Promise<Readonly<Record<string, string>>>;
  /** The injector's always-excluded namespaces: no verdict acts on a pod there. */
  excludedNamespaces: ReadonlySet<string>;
  logger: Logger;
  requests?: Counter<'outcome'>;
  bodyLimitBytes?: number;
  now?: () => Date;
  /** Only the leader executes verdicts (ADR 1500): a follower answers 421 naming it, never a 202 it drops. */
  leader?: LeaderView;
}

type Problem = { pointer: string; message: string };

/** Validation (pure): the body's shape, with a JSON pointer per problem. */
export function validateVerdict(
  body: unknown,
): { ok: true; verdict: ExternalVerdict } | { ok: false; problems: Problem[] } {
  const problems: Problem[] = [];
  const b = (body ?? {}) as Record<string, unknown>;
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return { ok: false, problems: [{ pointer: '', message: 'must be a JSON object' }] };
  const known = new Set(['namespace', 'pod', 'uid', 'action', 'reason', 'message', 'policy', 'evidence']);
  for (const k of Object.keys(b)) if (!known.has(k)) problems.push({ pointer: `/${k}`, message: 'unknown field' });
  const dns = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
  if (typeof b.namespace !== 'string' || b.namespace.length > 63 || !dns.test(b.namespace))
    problems.push({ pointer: '/namespace', message: 'must be a namespace name' });
  if (typeof b.pod !== 'string' || b.pod.length > 253 || !dns.test(b.pod))
    problems.push({ pointer: '/pod', message: 'must be a pod name' });
  if (b.uid !== undefined && (typeof b.uid !== 'string' || b.uid.length > 64))
    problems.push({ pointer: '/uid', message: 'must be a pod uid' });
  if (b.action !== undefined && !(typeof b.action === 'string' && b.action in SEVERITY))
    problems.push({ pointer: '/action', message: 'must be one of Quarantine, Isolate, Restart, Alert' });
  if (typeof b.reason !== 'string' || !/^[A-Z][A-Za-z0-9]{0,62}$/.test(b.reason))
    problems.push({ pointer: '/reason', message: 'must be CamelCase, at most 63 characters' });
  if (b.message !== undefined && (typeof b.message !== 'string' || b.message.length > 1024))
    problems.push({ pointer: '/message', message: 'must be a string of at most 1024 characters' });
  if (b.policy !== undefined && (typeof b.policy !== 'string' || b.policy.length > 253))
    problems.push({ pointer: '/policy', message: 'must be a policy name' });
  if (b.evidence !== undefined) {
    if (!Array.isArray(b.evidence) || b.evidence.length > 20)
      problems.push({ pointer: '/evidence', message: 'must be an array of at most 20 items' });
    else
      b.evidence.forEach((e: unknown, i) => {
        const ev = (e ?? {}) as Record<string, unknown>;
        if (typeof ev.detail !== 'string' || ev.detail.length > 1024)
          problems.push({ pointer: `/evidence/${i}/detail`, message: 'must be a string of at most 1024 characters' });
        if (ev.value !== undefined && typeof ev.value !== 'number')
          problems.push({ pointer: `/evidence/${i}/value`, message: 'must be a number' });
        if (ev.time !== undefined && (typeof ev.time !== 'string' || Number.isNaN(Date.parse(ev.time))))
          problems.push({ pointer: `/evidence/${i}/time`, message: 'must be an RFC 3339 time' });
      });
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, verdict: b as unknown as ExternalVerdict };
}

type PodObject = AnalyticsPodObject & { metadata: { annotations?: Record<string, string> } };

/**
 * `POST /api/v1/verdicts`: an independent analytics engine asks for an action on a pod. The
 * caller is who its ServiceAccount token says (TokenReview) and must be allowed by RBAC to
 * create quarantines.bulkhead.dev in the pod's namespace (SubjectAccessReview): the same
 * permission a human would need. Accepted verdicts join the built-in detectors' path.
 */
export function createVerdictRouter(deps: VerdictApiDeps): Router {
  const router = new Router();
  const count = (outcome: string): void => deps.requests?.inc({ outcome });
  const namespaceLabels = deps.namespaceLabels ?? namespaceLabelsReader(deps.client);
  router.post(VERDICTS_PATH, async (ctx) => {
    if (refuseUnlessLeader(ctx, deps.leader, 'verdicts')) {
      count('not_leader');
      return;
    }
    const auth = await deps.authenticator.authenticate(ctx.get('authorization') || undefined, ctx.ip);
    if (!auth.ok) {
      count(`unauthenticated_${auth.reason}`);
      if (auth.reason === 'throttled') ctx.set('Retry-After', String(auth.retryAfterSec ?? 1));
      ctx.status = auth.reason === 'throttled' ? 429 : 401;
      ctx.body = { error: 'unauthenticated', reason: auth.reason };
      return;
    }
    let body: unknown;
    try {
      body = await readJsonBody(ctx.req, deps.bodyLimitBytes ?? 64 * 1024);
    } catch (err) {
      count('bad_body');
      ctx.status = err instanceof HttpError ? err.status : 400;
      ctx.body = { error: err instanceof Error ? err.message : 'bad body' };
      return;
    }
    const v = validateVerdict(body);
    if (!v.ok) {
      count('invalid');
      ctx.status = 422;
      ctx.body = { error: 'invalid verdict', problems: v.problems };
      return;
    }
    const verdict = v.verdict;
    const allowed = await accessReview(deps.client, auth.identity.username, auth.identity.groups, verdict.namespace);
    if (!allowed) {
      count('forbidden');
      ctx.status = 403;
      ctx.body = {
        error: `${auth.identity.username} may not create quarantines.${GROUP} in namespace ${verdict.namespace}`,
      };
      return;
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
      ctx.status = 404;
      ctx.body = {
        error: `pod ${verdict.namespace}/${verdict.pod}${verdict.uid ? ` with uid ${verdict.uid}` : ''} not found`,
      };
      return;
    }
    // Only a policy that selects the pod now may judge it (ADR 1400): naming another one would
    // borrow its action, mode and budget for a pod it does not cover.
    const policyName = verdict.policy ?? injectedPolicyOf(pod.metadata.annotations);
    const judged = await judgingPolicy(
      policyName,
      { namespace: pod.metadata.namespace, name: pod.metadata.name, labels: pod.metadata.labels ?? {} },
      { policy: deps.policy, namespaceLabels, excludedNamespaces: deps.excludedNamespaces },
    );
    const base = judged.policy;
    if (!base) {
      count('no_policy');
      ctx.status = 422;
      ctx.body = {
        error: 'invalid verdict',
        problems: [
          {
            pointer: '/policy',
            message: `${judged.why}: a verdict may use only a HealthPolicy that selects the pod${
              policyName ? '' : ' (name one in policy)'
            }`,
          },
        ],
      };
      return;
    }
    const action = capAction(verdict.action ?? base.spec.action.type, base.spec.action.type);
    const policy: HealthPolicy = { ...base, spec: { ...base.spec, action: { ...base.spec.action, type: action } } };
    const health = podHealthOf(pod);
    const now = (deps.now ?? (() => new Date()))().getTime();
    const signal: Signal = {
      type: 'External',
      pod: { namespace: health.namespace, name: health.name, uid: health.uid },
      at: now,
      reason: verdict.reason,
      message: `${verdict.message ?? verdict.reason} (verdict from ${auth.identity.username})`,
      evidence: (verdict.evidence ?? []).map((e) => ({
        t: e.time ? Date.parse(e.time) : now,
        detail: e.detail,
        ...(e.value !== undefined ? { value: e.value } : {}),
      })),
      threat: false,
    };
    deps.submit(health, [signal], policy);
    deps.logger.info(
      { caller: auth.identity.username, pod: `${health.namespace}/${health.name}`, policy: policyName, action },
      'external verdict accepted',
    );
    count('accepted');
    ctx.status = 202;
    ctx.body = {
      accepted: true,
      policy: policyName,
      action,
      quarantine: action === 'Quarantine' || action === 'Isolate' ? quarantineName(health) : undefined,
    };
  });
  return router;
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
