import { createHash } from 'node:crypto';
import { API_VERSION, KIND, LABEL, setCondition, type Quarantine } from '../core/api/index.js';
import { isConflict, isNotFound, KubeApiError, type KubeClient } from '../core/kube/client.js';
import type { EventRecorder } from '../core/kube/events.js';
import { collectionPath, objectPath, type ResourceResolver } from '../core/kube/resources.js';
import type { Logger } from '../core/logger.js';
import type { PlannedAction, Verdict } from '../analytics/index.js';
import { planDetach } from './actions/detach-patch.js';
import { isolationNetworkPolicy } from './actions/isolation-policy.js';
import { ADMIN_POLICY_NAME } from './isolation/admin-network-policy.js';
import { ensureIsolationObjects, listNetworkPolicies } from './isolation/cluster-isolation.js';
import { isolationCondition } from './isolation/isolation-condition.js';
import { isolationGaps, labelsToStrip } from './isolation/network-policy-gaps.js';
import { deleteForReplacement, takeSnapshot } from './stateful/replace-stateful-pod.js';
import { applyBudget, type BudgetDecision, type BudgetInput } from './budget.js';
import { factsWithClaims } from './budget-claims.js';
import { decideWithClaims, type BudgetLedger } from './budget-ledger.js';
import { gatherBudgetFacts, ownerSelectorKeys } from './cluster-facts.js';
import type { ActionOutcome, TakenAction } from './taken-action.js';
import { NODE_TAINT_KEY, nodesToTaint, recordTaints, taintNode } from './placement.js';
import { ACTION_LABEL, buildQuarantine, quarantineName, recordPath } from './quarantine-object.js';
import { recordSimilar } from './similar-record.js';
import { errorMessage } from '../core/errors.js';

export interface QuarantineDeps {
  client: KubeClient;
  resolver: ResourceResolver;
  events: EventRecorder;
  logger: Logger;
  now: () => Date;
  /** This engine's cluster name: records go under records/<cluster>/. */
  cluster: string;
  /** Never acted on: the engine's own namespace (kube-system and friends always). */
  protectedNamespaces: ReadonlySet<string>;
  /**
   * The cluster-wide budget ledger (ADR 1501): Enforce decisions claim their disruptive actions
   * there first, so two decisions at once cannot both spend the same budget. Without it the
   * budget is checked against the cluster's Quarantines only.
   */
  budgetLedger?: BudgetLedger;
  /** The HealthPolicy's uid, so its Events match it (`kubectl describe` selects on uid). */
  policyUid?: (name: string) => string | undefined;
}

export type { ActionOutcome, TakenAction };

export interface QuarantineResult {
  policy: string;
  incident: string;
  budget: BudgetDecision;
  taken: TakenAction[];
  /** A node-wide incident's node, and whether it was tainted. */
  node?: { name: string; tainted: boolean };
}

/** Label values are short: a stable hash of the incident key. */
export const incidentId = (key: string): string => createHash('sha256').update(key).digest('hex').slice(0, 16);

export const podPath = (ns: string, name: string): string =>
  `/api/v1/namespaces/${encodeURIComponent(ns)}/pods/${encodeURIComponent(name)}`;

/**
 * Carries out one verdict: budget first, then per allowed action, in an order chosen so a
 * crash at any point leaves a state the restart can finish (see `resumePending`):
 *   1. create the Quarantine CR (the intent, and the audit outbox entry; 409 = done before),
 *   2. ensure the namespace's deny-all NetworkPolicy,
 *   3. ONE pod patch: label quarantined (isolated) + owner labels removed (detached),
 *   4. CR status: phase Isolated, audit Pending, actions taken.
 * DryRun creates only the CR (mode DryRun) and an Event: the "would quarantine" record.
 */
export async function executeVerdict(
  deps: QuarantineDeps,
  verdict: Verdict,
  releaseAfter?: string,
): Promise<QuarantineResult> {
  const now = deps.now();
  const incident = incidentId(verdict.incident.key);
  const facts = await gatherBudgetFacts(deps.client, deps.resolver, verdict.actions, now);
  const taken: TakenAction[] = [];
  // A pod Bulkhead already holds is not decided again and costs no budget (a retried or
  // repeated verdict); its existing Quarantine stands. A DryRun Quarantine holds nothing: an
  // Enforce verdict goes ahead and upgrades it (ADR 1401), or a pod once judged DryRun would be
  // immune for its lifetime.
  const fresh = verdict.actions.filter((a) => {
    const held = a.action === 'Alert' ? undefined : facts.held.get(a.pod.uid);
    const q = held && (held.spec.mode === 'Enforce' || verdict.mode === 'DryRun') ? held : undefined;
    if (q)
      taken.push({
        pod: a.pod.name,
        namespace: a.pod.namespace,
        action: a.action,
        role: a.role,
        outcome: 'already',
        quarantine: q.metadata.name!,
      });
    return !q;
  });
  const input: BudgetInput = {
    actions: fresh,
    ...(verdict.budget ? { budget: verdict.budget } : {}),
    workloads: facts.workloads,
    namespaceActionsLastHour: facts.namespaceActionsLastHour,
    protectedNamespaces: deps.protectedNamespaces,
  };
  // DryRun takes nothing out of service: it claims nothing.
  const deciding = new Set(fresh.map((a) => a.pod.uid));
  const budget =
    deps.budgetLedger && verdict.mode === 'Enforce'
      ? await decideWithClaims(deps, deps.budgetLedger, (claims, full) =>
          applyBudget({ ...input, ...factsWithClaims(facts, claims, deciding), ledgerFull: full }),
        )
      : applyBudget(input);
  // The taint goes on before any pod is detached, or the replacement is already bound there.
  const tainted = new Set<string>();
  for (const node of nodesToTaint(verdict, budget.allowed)) {
    try {
      await taintNode(deps, node, verdict, incident);
      tainted.add(node);
    } catch (err) {
      deps.logger.error({ err: errorMessage(err), node }, 'node taint failed; quarantining anyway');
    }
  }
  for (const action of budget.allowed) {
    const base = { pod: action.pod.name, namespace: action.pod.namespace, action: action.action, role: action.role };
    try {
      taken.push({ ...base, ...(await carryOut(deps, verdict, action, incident, now, releaseAfter)) });
    } catch (err) {
      deps.logger.error(
        {
          err: errorMessage(err),
          pod: action.pod.name,
          namespace: action.pod.namespace,
        },
        'quarantine action failed',
      );
      taken.push({ ...base, outcome: 'failed', detail: errorMessage(err) });
    }
  }
  await recordTaints(deps, verdict, taken, tainted, now);
  await recordSimilar(deps, verdict, taken, now);
  const node =
    verdict.incident.scope === 'node'
      ? { name: verdict.incident.value, tainted: tainted.has(verdict.incident.value) }
      : undefined;
  await reportToPolicy(deps, verdict, budget, taken, now);
  return { policy: verdict.policy, incident, budget, taken, ...(node ? { node } : {}) };
}

async function carryOut(
  deps: QuarantineDeps,
  verdict: Verdict,
  action: PlannedAction,
  incident: string,
  now: Date,
  releaseAfter?: string,
): Promise<Pick<TakenAction, 'outcome' | 'quarantine' | 'detail'>> {
  const podRef = {
    apiVersion: 'v1',
    kind: 'Pod',
    name: action.pod.name,
    namespace: action.pod.namespace,
    uid: action.pod.uid,
  };
  switch (action.action) {
    case 'Alert':
      // A healthy sibling's alert is part of its failing pod's incident: said once, in the
      // incident's Event on the HealthPolicy, not as one Warning per sibling.
      if (action.role === 'primary')
        await deps.events.emit(podRef, 'Warning', action.reason, `${verdict.policy}: ${action.message}`);
      return { outcome: 'done' };
    case 'Restart':
      if (verdict.mode === 'DryRun') {
        await deps.events.emit(podRef, 'Normal', 'WouldRestart', `${verdict.policy} (DryRun): ${action.message}`);
        return { outcome: 'dry-run' };
      }
      return evict(deps, action, verdict.policy);
    case 'Quarantine':
    case 'Isolate': {
      const q = buildQuarantine({
        action,
        kind: action.action,
        policy: verdict.policy,
        mode: verdict.mode,
        incident,
        cluster: deps.cluster,
        now,
        ...(releaseAfter ? { releaseAfter } : {}),
        // A sibling's decision is recorded in its failing pod's record, and released with it.
        ...(action.similarTo
          ? { recordPath: recordPath(deps.cluster, action.similarTo.namespace, action.similarTo) }
          : {}),
        // Set at creation, before the detach, so the webhook knows before the owner replaces it.
        ...(verdict.avoidNode === 'AntiAffinity' && action.role === 'primary' && action.action === 'Quarantine'
          ? { avoidNode: true }
          : {}),
      });
      const { created, uid } = await createQuarantine(deps, q);
      // The Quarantine's own Events (`kubectl describe quarantine`), beside the pod's.
      const quarantineRef = uid
        ? {
            apiVersion: API_VERSION,
            kind: KIND.Quarantine,
            name: q.metadata.name!,
            namespace: action.pod.namespace,
            uid,
          }
        : undefined;
      if (verdict.mode === 'DryRun') {
        const why = `${verdict.policy} (DryRun) would ${action.action.toLowerCase()} this pod: ${action.message}`;
        await deps.events.emit(podRef, 'Normal', `Would${action.action}`, why);
        if (quarantineRef) await deps.events.emit(quarantineRef, 'Normal', `Would${action.action}`, why);
        return { outcome: created ? 'dry-run' : 'already', quarantine: q.metadata.name! };
      }
      const outcome = await enforce(deps, q, action.action);
      if (outcome === 'done') {
        const reason = action.action === 'Quarantine' ? 'Quarantined' : 'Isolated';
        await deps.events.emit(podRef, 'Warning', reason, `${verdict.policy}: ${action.message}`);
        if (quarantineRef)
          await deps.events.emit(
            quarantineRef,
            'Warning',
            reason,
            `${action.pod.namespace}/${action.pod.name} ${reason.toLowerCase()} by ${verdict.policy}: ${action.message}`,
          );
      }
      return { outcome: created ? outcome : outcome === 'done' ? 'already' : outcome, quarantine: q.metadata.name! };
    }
  }
}

async function createQuarantine(deps: QuarantineDeps, q: Quarantine): Promise<{ created: boolean; uid?: string }> {
  const res = await deps.resolver.resolve(API_VERSION, KIND.Quarantine);
  try {
    const made = await deps.client.request<{ metadata?: { uid?: string } }>({
      method: 'POST',
      path: collectionPath(res, q.metadata.namespace),
      body: q,
    });
    return { created: true, ...(made?.metadata?.uid ? { uid: made.metadata.uid } : {}) };
  } catch (err) {
    if (!isConflict(err)) throw err;
    // Created before a crash or by a concurrent decision; or a DryRun one an Enforce verdict upgrades.
    return { created: q.spec.mode === 'Enforce' && (await upgradeDryRun(deps, q)) };
  }
}

/**
 * An Enforce verdict on a pod that has a DryRun Quarantine (same name: it is derived from the
 * pod) turns that Quarantine into this one (ADR 1401): spec and labels replaced in one JSON
 * patch whose `test` makes it a no-op unless the CR is still DryRun (a concurrent upgrade wins
 * once), status back to Pending so the outbox writes the Enforce record. A patch, not a
 * delete and create: the engine's RBAC has no delete on quarantines. True when upgraded.
 */
async function upgradeDryRun(deps: QuarantineDeps, q: Quarantine): Promise<boolean> {
  const res = await deps.resolver.resolve(API_VERSION, KIND.Quarantine);
  const path = objectPath(res, q.metadata.name!, q.metadata.namespace);
  try {
    await deps.client.request({
      method: 'PATCH',
      path,
      contentType: 'application/json-patch+json',
      body: [
        { op: 'test', path: '/spec/mode', value: 'DryRun' },
        { op: 'test', path: '/spec/pod/uid', value: q.spec.pod.uid },
        { op: 'replace', path: '/spec', value: q.spec },
        { op: 'replace', path: '/metadata/labels', value: q.metadata.labels },
      ],
    });
  } catch (err) {
    // 422: a test failed, so it is Enforce already (or another pod's); 404: released and gone.
    if (err instanceof KubeApiError && [404, 409, 422].includes(err.code)) return false;
    throw err;
  }
  await patchQuarantineStatus(
    deps,
    q,
    { phase: 'Pending', audit: { state: 'Pending', path: q.spec.recordPath ?? '' } },
    'Upgraded',
    `DryRun quarantine upgraded: policy ${q.spec.policy} now enforces`,
  );
  return true;
}

/**
 * Steps 2–4 for a Quarantine CR; idempotent, so `resumePending` can run it again. The one pod
 * patch also strips the labels that let other NetworkPolicies still select the pod (ADR 1030);
 * a StatefulSet's pod is isolated, snapshotted and deleted so the StatefulSet recreates it
 * (ADR 1031).
 */
export async function enforce(
  deps: QuarantineDeps,
  q: Quarantine,
  action: 'Quarantine' | 'Isolate',
): Promise<ActionOutcome> {
  const ns = q.metadata.namespace!;
  const name = q.metadata.name!;
  const time = deps.now().toISOString();
  const { adminPolicy } = await ensureIsolationObjects(deps, ns);
  const ownerKeys = await ownerSelectorKeys(deps.client, deps.resolver, ns, q.spec.owner);
  const stateful = action === 'Quarantine' && q.spec.owner?.kind === 'StatefulSet';
  const pod = await deps.client
    .request<{ metadata: { labels?: Record<string, string>; annotations?: Record<string, string>; uid: string } }>({
      method: 'GET',
      path: podPath(ns, q.spec.pod.name),
    })
    .catch((e: unknown) => {
      if (isNotFound(e)) return undefined;
      throw e;
    });
  if (!pod || pod.metadata.uid !== q.spec.pod.uid) {
    // Deleted by us for its StatefulSet before a crash: the quarantine is done, not gone.
    if (q.spec.actions?.some((a) => a.type === 'Replace')) {
      await patchQuarantineStatus(
        deps,
        q,
        { phase: 'Isolated', audit: { state: 'Pending', path: q.spec.recordPath ?? '' } },
        'Replaced',
        'snapshot taken and pod deleted so its StatefulSet recreates it',
      );
      return 'done';
    }
    await patchQuarantineStatus(
      deps,
      q,
      { phase: 'Released', releasedAt: time, audit: { state: 'Pending', path: q.spec.recordPath ?? '' } },
      'PodGone',
      'the pod no longer exists',
    );
    return 'gone';
  }
  const labels = pod.metadata.labels ?? {};
  // Detach takes the owner's keys; an Isolate keeps the pod in its workload, and a StatefulSet
  // pod stays owned until it is deleted (the StatefulSet then recreates it at once).
  const detachKeys = action === 'Quarantine' && !stateful ? ownerKeys : [];
  const policies = await listNetworkPolicies(deps.client, ns);
  // Keys the detach removes anyway are not counted twice; kept keys are never stripped.
  const strip = labelsToStrip(policies, labels, new Set(ownerKeys));
  const plan = planDetach(labels, [...detachKeys, ...strip], name, pod.metadata.annotations ?? {});
  // The uid in the patch is a precondition: a same-named pod recreated meanwhile is not touched.
  await deps.client.request({
    method: 'PATCH',
    path: podPath(ns, q.spec.pod.name),
    contentType: 'application/merge-patch+json',
    body: { metadata: { ...plan.patch.metadata, uid: q.spec.pod.uid } },
  });
  const after = {
    ...Object.fromEntries(Object.entries(labels).filter(([k]) => !(k in plan.removed))),
    [LABEL.quarantined]: 'true',
  };
  const isolation = isolationCondition({
    gaps: isolationGaps(policies, after),
    adminPolicy,
    stripped: strip.filter((k) => k in plan.removed),
  });
  const actions: NonNullable<Quarantine['spec']['actions']> = [
    {
      type: 'Isolate',
      time,
      detail: `NetworkPolicy ${isolationNetworkPolicy(ns).metadata.name}${adminPolicy ? `, AdminNetworkPolicy ${ADMIN_POLICY_NAME}` : ''}${
        strip.length > 0 ? `; removed labels ${strip.join(', ')} selected by allow policies` : ''
      }`,
    },
    ...(action === 'Quarantine' && !stateful
      ? [
          {
            type: 'Detach' as const,
            time,
            detail: `removed labels ${detachKeys.filter((k) => k in plan.removed).join(', ') || '(none)'}`,
          },
        ]
      : []),
  ];
  if (stateful) {
    const secret = await takeSnapshot(deps, q);
    actions.push(
      { type: 'Snapshot', time, detail: `Secret ${secret}: manifest, status and log tails` },
      {
        type: 'Replace',
        time,
        detail: `pod deleted so StatefulSet ${q.spec.owner!.name} recreates ${q.spec.pod.name}`,
      },
    );
    // Recorded before the delete, so a crash in between is finished as Replaced on resume.
    await patchSpecRecord(deps, q, { actions, originalLabels: plan.removed });
    await deleteForReplacement(deps, q);
  } else {
    await patchSpecRecord(deps, q, { actions, originalLabels: plan.removed });
  }
  await patchQuarantineStatus(
    deps,
    q,
    { phase: 'Isolated', audit: { state: 'Pending', path: q.spec.recordPath ?? '' } },
    stateful ? 'Replaced' : 'Isolated',
    stateful ? 'snapshot taken and pod deleted so its StatefulSet recreates it' : `${action} enforced`,
    stateful ? [] : [isolation],
  );
  return 'done';
}

async function patchSpecRecord(deps: QuarantineDeps, q: Quarantine, spec: Partial<Quarantine['spec']>): Promise<void> {
  const res = await deps.resolver.resolve(API_VERSION, KIND.Quarantine);
  await deps.client.request({
    method: 'PATCH',
    path: objectPath(res, q.metadata.name!, q.metadata.namespace),
    contentType: 'application/merge-patch+json',
    body: { spec },
  });
}

export async function patchQuarantineStatus(
  deps: Pick<QuarantineDeps, 'client' | 'resolver' | 'now'>,
  q: Quarantine,
  status: Partial<NonNullable<Quarantine['status']>>,
  reason: string,
  message: string,
  /** Other condition types to set in the same write (e.g. IsolationIncomplete). */
  extra: readonly { type: string; status: 'True' | 'False'; reason: string; message: string }[] = [],
): Promise<void> {
  const res = await deps.resolver.resolve(API_VERSION, KIND.Quarantine);
  // A merge patch replaces the whole list, so it carries every condition type the CR has.
  let conditions = setCondition(
    q.status?.conditions,
    {
      type: 'Ready',
      status: 'True',
      reason,
      message,
      ...(q.metadata.generation !== undefined ? { observedGeneration: q.metadata.generation } : {}),
    },
    deps.now(),
  );
  for (const c of extra) conditions = setCondition(conditions, c, deps.now());
  await deps.client.request({
    method: 'PATCH',
    path: `${objectPath(res, q.metadata.name!, q.metadata.namespace)}/status`,
    contentType: 'application/merge-patch+json',
    body: { status: { ...status, conditions } },
  });
}

async function evict(
  deps: QuarantineDeps,
  action: PlannedAction,
  policy: string,
): Promise<Pick<TakenAction, 'outcome' | 'detail'>> {
  try {
    await deps.client.request({
      method: 'POST',
      path: `${podPath(action.pod.namespace, action.pod.name)}/eviction`,
      body: {
        apiVersion: 'policy/v1',
        kind: 'Eviction',
        metadata: { name: action.pod.name, namespace: action.pod.namespace },
        deleteOptions: { preconditions: { uid: action.pod.uid } },
      },
    });
  } catch (err) {
    // 429: a PodDisruptionBudget forbids it right now. That is the budget working, not a failure.
    if (err instanceof KubeApiError && err.code === 429) return { outcome: 'blocked', detail: 'PodDisruptionBudget' };
    if (isNotFound(err)) return { outcome: 'gone' };
    throw err;
  }
  await deps.events.emit(
    { apiVersion: 'v1', kind: 'Pod', name: action.pod.name, namespace: action.pod.namespace, uid: action.pod.uid },
    'Warning',
    'Restarted',
    `${policy}: ${action.message}`,
  );
  return { outcome: 'done' };
}

/** The policy's status says what was last done and whether the budget stopped anything. */
async function reportToPolicy(
  deps: QuarantineDeps,
  verdict: Verdict,
  budget: BudgetDecision,
  taken: TakenAction[],
  now: Date,
): Promise<void> {
  const primary = taken.find((t) => t.role === 'primary' && t.action !== 'Alert') ?? taken[0];
  const uid = deps.policyUid?.(verdict.policy);
  const policyRef = { apiVersion: API_VERSION, kind: KIND.HealthPolicy, name: verdict.policy, ...(uid ? { uid } : {}) };
  // One Event per incident on the policy (`kubectl describe healthpolicy`): what was done to
  // the failing pod(s) and, in one line, to their similar siblings.
  const incidentLine = incidentSummary(verdict, taken);
  if (incidentLine) await deps.events.emit(policyRef, incidentLine.type, incidentLine.reason, incidentLine.message);
  if (budget.exhausted) {
    const why = [...new Set(budget.downgraded.map((d) => d.why))].join(', ');
    await deps.events.emit(
      policyRef,
      'Warning',
      'BudgetExhausted',
      `held back ${budget.downgraded.length} action(s) (${why}); alerted instead`,
    );
  }
  if (!primary) return;
  const res = await deps.resolver.resolve(API_VERSION, KIND.HealthPolicy).catch(() => undefined);
  if (!res) return;
  const body = {
    status: {
      lastAction: {
        time: now.toISOString(),
        type: primary.action,
        mode: verdict.mode,
        namespace: primary.namespace,
        pod: primary.pod,
        ...(primary.quarantine ? { quarantine: primary.quarantine } : {}),
      },
      budget: { exhausted: budget.exhausted },
    },
  };
  try {
    // A merge patch of only these fields: the sync's summarizer owns the conditions.
    await deps.client.request({
      method: 'PATCH',
      path: `${objectPath(res, verdict.policy)}/status`,
      contentType: 'application/merge-patch+json',
      body,
    });
  } catch (err) {
    if (!isNotFound(err))
      deps.logger.warn({ err: errorMessage(err), policy: verdict.policy }, 'could not update policy status');
  }
}

/**
 * After a restart: every Enforce Quarantine CR without phase Isolated/Released was created but
 * not (fully) enforced before the crash. Enforcing is idempotent, so finishing is safe, and
 * no pod stays half-quarantined.
 */
export async function resumePending(deps: QuarantineDeps, quarantines: readonly Quarantine[]): Promise<number> {
  let n = 0;
  for (const q of quarantines) {
    if (q.spec.mode !== 'Enforce' || q.status?.phase === 'Isolated' || q.status?.phase === 'Released') continue;
    const action = q.metadata.labels?.[ACTION_LABEL] === 'Isolate' ? 'Isolate' : 'Quarantine';
    await enforce(deps, q, action);
    n++;
  }
  return n;
}

/** The one line an incident gets on its HealthPolicy (pure); undefined when nothing was done. */
export function incidentSummary(
  verdict: Pick<Verdict, 'mode' | 'incident'>,
  taken: readonly TakenAction[],
): { type: 'Normal' | 'Warning'; reason: string; message: string } | undefined {
  const fresh = taken.filter((t) => t.outcome !== 'already');
  if (fresh.length === 0) return undefined;
  const primaries = fresh.filter((t) => t.role === 'primary');
  const similar = fresh.filter((t) => t.role !== 'primary');
  const list = (ts: readonly TakenAction[]): string => {
    const names = ts.map((t) => `${t.namespace}/${t.pod}`);
    return names.length <= 5 ? names.join(', ') : `${names.slice(0, 5).join(', ')} and ${names.length - 5} more`;
  };
  const verb = (t: TakenAction): string =>
    `${verdict.mode === 'DryRun' ? 'would ' : ''}${t.action.toLowerCase()}${t.outcome === 'failed' ? ' (failed)' : t.outcome === 'blocked' ? ' (blocked)' : ''}`;
  const byVerb = (ts: readonly TakenAction[]): string =>
    [...new Set(ts.map(verb))].map((v) => `${v} ${list(ts.filter((t) => verb(t) === v))}`).join('; ');
  const parts = [primaries.length > 0 ? byVerb(primaries) : undefined];
  if (similar.length > 0) parts.push(`similar pods: ${byVerb(similar)}`);
  const failed = fresh.some((t) => t.outcome === 'failed');
  return {
    type: verdict.mode === 'DryRun' && !failed ? 'Normal' : 'Warning',
    reason: verdict.mode === 'DryRun' ? 'IncidentDryRun' : failed ? 'IncidentActionFailed' : 'Incident',
    message: `incident ${verdict.incident.scope} ${verdict.incident.value}: ${parts.filter(Boolean).join('; ')}`,
  };
}

export { quarantineName, NODE_TAINT_KEY };
