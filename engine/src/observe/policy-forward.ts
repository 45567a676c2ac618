import type { ForwardTarget as PolicyForwardTarget, HealthPolicy } from '../core/api/index.js';
import { parseDuration } from '../core/duration.js';
import type { ForwardTarget } from './forwarder.js';
import type { HealthReport } from './report.js';

/** Reads a Secret key in the engine's namespace (the caller's informer or client); undefined when missing. */
export type SecretValue = (ref: { name: string; key?: string }) => string | undefined;

export interface ForwardProblem {
  policy: string;
  url: string;
  message: string;
}

/**
 * A policy's `spec.forward` → what the forwarder needs: the secretRef becomes an
 * `Authorization: Bearer` header, `batch.maxWait` milliseconds. Non-https URLs and missing
 * secrets are refused (reported, never sent: health data leaves the cluster only over TLS and
 * never to an endpoint the policy meant to authenticate to without its credentials).
 */
export function forwardTargetsOf(
  policy: HealthPolicy,
  secret: SecretValue,
): { targets: ForwardTarget[]; problems: ForwardProblem[] } {
  const targets: ForwardTarget[] = [];
  const problems: ForwardProblem[] = [];
  for (const f of policy.spec.forward ?? []) {
    const problem = check(f, secret);
    if (problem) {
      problems.push({ policy: policy.metadata.name, url: f.url, message: problem });
      continue;
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(f.headers ?? {})) if (v !== undefined) headers[k] = v;
    if (f.secretRef) headers.authorization = `Bearer ${secret(f.secretRef)!.trim()}`;
    const batch: NonNullable<ForwardTarget['batch']> = {};
    if (f.batch?.maxReports !== undefined) batch.maxReports = f.batch.maxReports;
    if (f.batch?.maxWait !== undefined) batch.maxWaitMs = parseDuration(f.batch.maxWait);
    targets.push({
      url: f.url,
      ...(Object.keys(headers).length > 0 ? { headers } : {}),
      ...(Object.keys(batch).length > 0 ? { batch } : {}),
    });
  }
  return { targets, problems };
}

function check(f: PolicyForwardTarget, secret: SecretValue): string | undefined {
  let url: URL;
  try {
    url = new URL(f.url);
  } catch {
    return 'not a URL';
  }
  if (url.protocol !== 'https:') return 'forward endpoints must be https';
  if (f.secretRef && !secret(f.secretRef))
    return `secret ${f.secretRef.name}${f.secretRef.key ? `/${f.secretRef.key}` : ''} not found`;
  if (f.batch?.maxWait !== undefined) {
    try {
      parseDuration(f.batch.maxWait);
    } catch {
      return `invalid batch.maxWait ${f.batch.maxWait}`;
    }
  }
  return undefined;
}

/**
 * Which endpoints a report goes to: those of the policy that injected the reporting pod's
 * sidecar (the report's `policy`, which the webhook set in the sidecar's env). A pod can only
 * misname the policy for its own data, which is already authenticated to be its own.
 * `update` swaps the whole index when policies or secrets change.
 */
export class PolicyForwarding {
  private byPolicy = new Map<string, ForwardTarget[]>();

  update(policies: readonly HealthPolicy[], secret: SecretValue): ForwardProblem[] {
    const next = new Map<string, ForwardTarget[]>();
    const problems: ForwardProblem[] = [];
    for (const p of policies) {
      const r = forwardTargetsOf(p, secret);
      if (r.targets.length > 0) next.set(p.metadata.name, r.targets);
      problems.push(...r.problems);
    }
    this.byPolicy = next;
    return problems;
  }

  readonly targetsFor = (report: HealthReport): readonly ForwardTarget[] =>
    report.policy ? (this.byPolicy.get(report.policy) ?? []) : [];
}
