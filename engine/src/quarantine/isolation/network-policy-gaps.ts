import { LABEL } from '../../core/api/index.js';

/**
 * Why a deny-all NetworkPolicy is not isolation on its own (pure): NetworkPolicies are
 * additive. Once any policy selects a pod for a direction, the pod is isolated for it and the
 * union of every selecting policy's rules is what is allowed, so our deny-all (no rules)
 * adds nothing against another policy that selects the same pod and allows traffic. Which
 * policies select the pod is decided by their `spec.podSelector` against the pod's labels
 * (namespace selectors only appear in peers, which say who may talk, not to whom).
 *
 * Two answers follow: strip the labels a label-selected allow policy needs (it then stops
 * selecting the pod; the originals are saved and restored on release), and report plainly the
 * allow policies no label change can escape (`podSelector: {}`, or a selector that only
 * excludes labels), so a human can fix them or knows the pod is not fully cut off.
 */

export interface SelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}
export interface LabelSelectorLike {
  matchLabels?: Record<string, string>;
  matchExpressions?: SelectorRequirement[];
}
export interface NetworkPolicyPeerLike {
  podSelector?: LabelSelectorLike;
  namespaceSelector?: LabelSelectorLike;
  ipBlock?: { cidr: string; except?: string[] };
}
export interface NetworkPolicyPortLike {
  protocol?: string;
  port?: number | string;
  endPort?: number;
}
export interface NetworkPolicyRuleLike {
  from?: NetworkPolicyPeerLike[];
  to?: NetworkPolicyPeerLike[];
  ports?: NetworkPolicyPortLike[];
}
export interface NetworkPolicyLike {
  metadata: { name: string };
  spec: {
    podSelector?: LabelSelectorLike;
    policyTypes?: string[];
    ingress?: NetworkPolicyRuleLike[];
    egress?: NetworkPolicyRuleLike[];
  };
}

export type Direction = 'Ingress' | 'Egress';

/** One allow policy that still selects the quarantined pod, and what it lets through. */
export interface IsolationGap {
  policy: string;
  directions: Direction[];
  /** Why label stripping cannot escape it. */
  why: string;
  /** What it admits, e.g. "ingress from anywhere on 8080/TCP". */
  admits: string[];
}

/** Kubernetes label selector semantics; an empty selector selects everything. */
export function selectorMatches(selector: LabelSelectorLike | undefined, labels: Readonly<Record<string, string>>) {
  for (const [k, v] of Object.entries(selector?.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector?.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    const inValues = has && (e.values ?? []).includes(labels[e.key]!);
    switch (e.operator) {
      case 'In':
        if (!inValues) return false;
        break;
      case 'NotIn':
        if (inValues) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false; // an unknown operator selects nothing (the apiserver rejects it anyway)
    }
  }
  return true;
}

/** The directions a policy affects: policyTypes, or the apiserver's default when absent. */
export function policyDirections(p: NetworkPolicyLike): Direction[] {
  if (p.spec.policyTypes && p.spec.policyTypes.length > 0)
    return p.spec.policyTypes.filter((t): t is Direction => t === 'Ingress' || t === 'Egress');
  return (p.spec.egress?.length ?? 0) > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
}

/** Directions in which the policy allows at least one rule's worth of traffic. */
function allowingDirections(p: NetworkPolicyLike): Direction[] {
  return policyDirections(p).filter((d) => ((d === 'Ingress' ? p.spec.ingress : p.spec.egress)?.length ?? 0) > 0);
}

/**
 * Label keys whose removal makes the selector stop matching: the keys it requires to be
 * present (matchLabels, In, Exists). NotIn and DoesNotExist keys are not among them: removing
 * such a label keeps (or makes) the selector matching.
 */
export function requiredKeys(selector: LabelSelectorLike | undefined): string[] {
  const keys = Object.keys(selector?.matchLabels ?? {});
  for (const e of selector?.matchExpressions ?? [])
    if (e.operator === 'In' || e.operator === 'Exists') keys.push(e.key);
  return [...new Set(keys)];
}

/**
 * The labels to strip from a quarantined pod so that every label-selected allow policy stops
 * selecting it. Never the quarantined label itself (the deny-all selects on it); `keep` are
 * keys that must stay (an Isolate keeps the pod in its workload, so the owner's keys stay).
 */
export function labelsToStrip(
  policies: readonly NetworkPolicyLike[],
  podLabels: Readonly<Record<string, string>>,
  keep: ReadonlySet<string> = new Set(),
): string[] {
  const out = new Set<string>();
  for (const p of policies) {
    if (allowingDirections(p).length === 0 || !selectorMatches(p.spec.podSelector, podLabels)) continue;
    for (const k of requiredKeys(p.spec.podSelector))
      if (k !== LABEL.quarantined && !keep.has(k) && podLabels[k] !== undefined) out.add(k);
  }
  return [...out].sort();
}

/** The allow policies that still select the pod with these (post-strip) labels. */
export function isolationGaps(
  policies: readonly NetworkPolicyLike[],
  podLabels: Readonly<Record<string, string>>,
): IsolationGap[] {
  const gaps: IsolationGap[] = [];
  for (const p of policies) {
    const directions = allowingDirections(p);
    if (directions.length === 0 || !selectorMatches(p.spec.podSelector, podLabels)) continue;
    const admits: string[] = [];
    for (const d of directions)
      for (const r of (d === 'Ingress' ? p.spec.ingress : p.spec.egress) ?? [])
        admits.push(describeRule(d, d === 'Ingress' ? r.from : r.to, r.ports));
    gaps.push({ policy: p.metadata.name, directions, why: whyUnescapable(p.spec.podSelector), admits });
  }
  return gaps.sort((a, b) => a.policy.localeCompare(b.policy));
}

function whyUnescapable(selector: LabelSelectorLike | undefined): string {
  const s = describeSelector(selector);
  return s === '{}'
    ? 'its podSelector {} selects every pod in the namespace'
    : `its podSelector ${s} still selects the pod after the quarantine removed the labels it could`;
}

export function describeSelector(selector: LabelSelectorLike | undefined): string {
  const parts = [
    ...Object.entries(selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`),
    ...(selector?.matchExpressions ?? []).map((e) =>
      e.operator === 'Exists' || e.operator === 'DoesNotExist'
        ? `${e.operator === 'DoesNotExist' ? '!' : ''}${e.key}`
        : `${e.key} ${e.operator.toLowerCase()} (${(e.values ?? []).join(',')})`,
    ),
  ];
  return parts.length === 0 ? '{}' : parts.join(',');
}

function describePeer(peer: NetworkPolicyPeerLike): string {
  if (peer.ipBlock)
    return `ipBlock ${peer.ipBlock.cidr}${peer.ipBlock.except?.length ? ` except ${peer.ipBlock.except.join(',')}` : ''}`;
  const parts: string[] = [];
  if (peer.namespaceSelector)
    parts.push(
      describeSelector(peer.namespaceSelector) === '{}'
        ? 'all namespaces'
        : `namespaces ${describeSelector(peer.namespaceSelector)}`,
    );
  if (peer.podSelector)
    parts.push(describeSelector(peer.podSelector) === '{}' ? 'all pods' : `pods ${describeSelector(peer.podSelector)}`);
  return parts.join(' / ');
}

function describeRule(
  d: Direction,
  peers: NetworkPolicyPeerLike[] | undefined,
  ports: NetworkPolicyPortLike[] | undefined,
) {
  const who = peers && peers.length > 0 ? peers.map(describePeer).join('; ') : 'anywhere';
  const on =
    ports && ports.length > 0
      ? ` on ${ports.map((p) => `${p.port ?? 'any'}${p.endPort ? `-${p.endPort}` : ''}/${p.protocol ?? 'TCP'}`).join(',')}`
      : '';
  return `${d === 'Ingress' ? 'ingress from' : 'egress to'} ${who}${on}`;
}

/** The condition message: which policies, why, and the one-line fix. Bounded. */
export function describeGaps(gaps: readonly IsolationGap[]): string {
  const each = gaps
    .slice(0, 10)
    .map(
      (g) => `${g.policy} (${g.why}; admits ${g.admits.slice(0, 4).join('; ')}${g.admits.length > 4 ? '; ...' : ''})`,
    );
  const more = gaps.length > 10 ? `; and ${gaps.length - 10} more` : '';
  return (
    `NetworkPolicies are additive, and ${gaps.length === 1 ? 'this one still admits' : 'these still admit'} ` +
    `traffic to or from the quarantined pod: ${each.join('; ')}${more}. ` +
    `Fix: add {key: ${LABEL.quarantined}, operator: DoesNotExist} to the podSelector.matchExpressions of ` +
    `${gaps.length === 1 ? 'that policy' : 'each'}, or use a CNI that serves AdminNetworkPolicy.`
  );
}
