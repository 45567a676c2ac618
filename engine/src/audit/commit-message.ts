import type { Quarantine } from '../core/api/index.js';

/**
 * One commit per batch; the subject names the pods (or their count), the policy and the
 * reason, so `git log --oneline records/` reads as the incident log.
 */
export function commitMessage(batch: readonly Quarantine[], cluster: string): string {
  if (batch.length === 0) throw new RangeError('empty batch');
  const verb = batch.every((q) => q.spec.mode === 'DryRun') ? 'would quarantine' : 'quarantine';
  const policies = [...new Set(batch.map((q) => q.spec.policy))].join(', ');
  const reasons = [...new Set(batch.map((q) => q.spec.reason))].join(', ');
  const first = batch[0]!;
  const subject =
    batch.length === 1
      ? `${verb}: ${first.metadata.namespace}/${first.spec.pod.name} (policy ${policies}, ${reasons})`
      : `${verb}: ${batch.length} pods in ${cluster} (policy ${policies}, ${reasons})`;
  const body = batch.map(
    (q) =>
      `- ${q.metadata.namespace}/${q.spec.pod.name} on ${q.spec.node ?? 'unknown node'}: ${q.spec.message ?? q.spec.reason}`,
  );
  return `${subject}\n\n${body.join('\n')}\n`;
}

export function releaseMessage(q: Quarantine, why: string): string {
  return `release: ${q.metadata.namespace}/${q.spec.pod.name} (policy ${q.spec.policy}, ${why})\n`;
}
