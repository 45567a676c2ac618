import { describeGaps, type IsolationGap } from './network-policy-gaps.js';

export const ISOLATION_INCOMPLETE = 'IsolationIncomplete';

export interface IsolationFacts {
  /** Allow policies that still select the pod once quarantined. */
  gaps: readonly IsolationGap[];
  /** Whether the cluster-wide AdminNetworkPolicy deny is in place (the API is served). */
  adminPolicy: boolean;
  /** Labels removed so label-selected allow policies stop selecting the pod. */
  stripped: readonly string[];
}

/**
 * The Quarantine's IsolationIncomplete condition (pure): True, with the policies and the fix,
 * when a NetworkPolicy still admits traffic to or from the pod and nothing overrides it; False
 * otherwise, saying why isolation holds as far as the API objects go. (Whether the CNI enforces
 * them at all is not visible through the API; ADR 1030.)
 */
export function isolationCondition(f: IsolationFacts): {
  type: string;
  status: 'True' | 'False';
  reason: string;
  message: string;
} {
  const stripped =
    f.stripped.length > 0
      ? ` Removed labels ${f.stripped.join(', ')} so the allow policies selecting on them stopped selecting the pod.`
      : '';
  if (f.gaps.length === 0)
    return {
      type: ISOLATION_INCOMPLETE,
      status: 'False',
      reason: 'NoAllowPolicySelectsPod',
      message: `No NetworkPolicy admits traffic to or from the quarantined pod.${stripped}`,
    };
  if (f.adminPolicy)
    return {
      type: ISOLATION_INCOMPLETE,
      status: 'False',
      reason: 'OverriddenByAdminNetworkPolicy',
      message:
        `NetworkPolicies ${f.gaps.map((g) => g.policy).join(', ')} still select the pod, but AdminNetworkPolicy ` +
        `bulkhead-quarantine denies its traffic first (an admin Deny is evaluated before any NetworkPolicy).${stripped}`,
    };
  return {
    type: ISOLATION_INCOMPLETE,
    status: 'True',
    reason: 'AllowPolicySelectsPod',
    message: `${describeGaps(f.gaps)}${stripped}`,
  };
}
