import { isConflict, isNotFound, type KubeClient } from '../core/kube/client.js';
import type { Logger } from '../core/logger.js';
import type { PlannedAction } from '../analytics/index.js';
import type { BudgetDecision } from './budget.js';
import { claimsFor, LEDGER_DEFAULTS, liveClaims, mergeClaims, type BudgetClaim } from './budget-claims.js';

/** Where the claims live: ConfigMap `name` in the engine's namespace, and who claims. */
export interface BudgetLedger {
  namespace: string;
  name?: string;
  /** This replica (the Lease identity). */
  identity: string;
  ttlMs?: number;
  maxClaims?: number;
  maxAttempts?: number;
}

interface ConfigMap {
  apiVersion: 'v1';
  kind: 'ConfigMap';
  metadata: { name: string; namespace: string; resourceVersion?: string; labels?: Record<string, string> };
  data?: Record<string, string>;
}

const KEY = 'claims';

/**
 * Decides under the cluster-wide budget (ADR 1501): read the ledger, decide against its live
 * claims, and write the decision's claims back conditional on the resourceVersion read. A 409
 * means another decision claimed in between: read and decide again. A full ledger, or one
 * too contended to write in `maxAttempts`, decides with `full` set: nothing disruptive.
 */
export async function decideWithClaims(
  deps: { client: KubeClient; logger: Logger; now: () => Date },
  ledger: BudgetLedger,
  decide: (claims: readonly BudgetClaim[], full: boolean) => BudgetDecision,
): Promise<BudgetDecision> {
  const name = ledger.name ?? LEDGER_DEFAULTS.name;
  const path = `/api/v1/namespaces/${encodeURIComponent(ledger.namespace)}/configmaps`;
  const max = ledger.maxClaims ?? LEDGER_DEFAULTS.maxClaims;
  const attempts = ledger.maxAttempts ?? LEDGER_DEFAULTS.maxAttempts;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const current = await deps.client
      .request<ConfigMap>({ method: 'GET', path: `${path}/${encodeURIComponent(name)}` })
      .catch((e: unknown) => {
        if (isNotFound(e)) return undefined;
        throw e;
      });
    const nowMs = deps.now().getTime();
    const live = liveClaims(current?.data?.[KEY], nowMs, ledger.ttlMs);
    const decision = decide(live, false);
    const added = claimsFor(decision.allowed, nowMs, ledger.identity);
    if (added.length === 0) return decision;
    const next = mergeClaims(live, added);
    if (next.length > max) {
      deps.logger.warn({ ledger: name, claims: live.length, max }, 'budget ledger full: disruptive actions held back');
      return decide(live, true);
    }
    const body: ConfigMap = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name,
        namespace: ledger.namespace,
        labels: { 'app.kubernetes.io/name': 'bulkhead', 'app.kubernetes.io/component': 'budget-ledger' },
        ...(current?.metadata.resourceVersion ? { resourceVersion: current.metadata.resourceVersion } : {}),
      },
      data: { [KEY]: JSON.stringify(next) },
    };
    try {
      // The resourceVersion makes the PUT conditional: it fails with 409 if anyone wrote since our read.
      if (current) await deps.client.request({ method: 'PUT', path: `${path}/${encodeURIComponent(name)}`, body });
      else await deps.client.request({ method: 'POST', path, body });
      return decision;
    } catch (err) {
      if (!isConflict(err)) throw err;
      deps.logger.debug({ ledger: name, attempt }, 'budget ledger changed meanwhile; deciding again');
    }
  }
  deps.logger.warn({ ledger: name, attempts }, 'budget ledger too contended: disruptive actions held back');
  return decide([], true);
}

export type { BudgetClaim, PlannedAction };
