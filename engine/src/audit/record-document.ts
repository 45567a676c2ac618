import { dump } from 'js-yaml';
import { API_VERSION, KIND, type Quarantine } from '../core/api/index.js';

/** Names the Quarantine CR a record was written from: the key of exactly-once. */
export const RECORD_UID_ANNOTATION = 'bulkhead.dev/quarantine-uid';

/**
 * The git audit record of one quarantine (pure): the Quarantine's decision (spec) without
 * server-managed metadata, plus the CR's uid. A reviewer reads it in a pull request; deleting
 * or reverting it releases the pod.
 */
export function recordDocument(q: Quarantine): string {
  const doc = {
    apiVersion: API_VERSION,
    kind: KIND.Quarantine,
    metadata: {
      name: q.metadata.name,
      namespace: q.metadata.namespace,
      annotations: { [RECORD_UID_ANNOTATION]: q.metadata.uid ?? '' },
    },
    spec: q.spec,
  };
  const header =
    `# Written by Bulkhead: ${q.spec.mode === 'DryRun' ? 'WOULD quarantine (DryRun, nothing was done)' : 'quarantine record'} of pod ${q.metadata.namespace}/${q.spec.pod.name}.\n` +
    (q.spec.mode === 'DryRun' ? '' : '# Delete or revert this file (in a reviewed pull request) to release the pod.\n');
  return header + dump(doc, { lineWidth: 120, noRefs: true, sortKeys: false });
}

/** The uid a record file names, or undefined for a file that is not a record. */
export function recordUid(content: string): string | undefined {
  return new RegExp(`${RECORD_UID_ANNOTATION.replace(/[./]/g, '\\$&')}:\\s*'?([0-9a-f-]{8,64})'?`).exec(content)?.[1];
}

/** The mode a record file says (`spec.mode`), or undefined. */
export function recordMode(content: string): 'Enforce' | 'DryRun' | undefined {
  return /^ {2}mode: '?(Enforce|DryRun)'?$/m.exec(content)?.[1] as 'Enforce' | 'DryRun' | undefined;
}
