import { API_VERSION, KIND, LABEL, MANAGED_BY } from '../../core/api/index.js';

/** Everything a snapshot may hold, decoded: well under the apiserver's 1 MiB per Secret. */
export const SNAPSHOT_LOG_BUDGET_BYTES = 640 * 1024;
/** No single log larger than this, however few containers there are. */
export const SNAPSHOT_LOG_MAX_BYTES = 128 * 1024;
/** The manifest is kept whole up to this size (a pod with a huge env is cut, and says so). */
export const SNAPSHOT_MANIFEST_MAX_BYTES = 256 * 1024;
/** At most this many logs (current and previous per container); the rest are named as dropped. */
export const SNAPSHOT_MAX_LOGS = 16;

export interface PodForSnapshot {
  metadata: { name: string; namespace?: string; uid: string; managedFields?: unknown; [k: string]: unknown };
  spec?: { initContainers?: { name: string }[]; containers?: { name: string }[]; [k: string]: unknown };
  status?: {
    initContainerStatuses?: { name: string; restartCount?: number }[];
    containerStatuses?: { name: string; restartCount?: number }[];
    [k: string]: unknown;
  };
}

export interface LogRequest {
  container: string;
  previous: boolean;
  limitBytes: number;
}

/**
 * Which logs to read (pure): every container's current log (init and sidecar containers
 * included: an attacker may live in any), and the previous one of a container that restarted,
 * within a fixed total, so a pod with many containers gets shorter tails, never a refused Secret.
 */
export function logRequests(pod: PodForSnapshot): { requests: LogRequest[]; dropped: string[] } {
  const names = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].map((c) => c.name);
  const restarted = new Set(
    [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]
      .filter((s) => (s.restartCount ?? 0) > 0)
      .map((s) => s.name),
  );
  const wanted = [
    ...names.map((container) => ({ container, previous: false })),
    ...names.filter((n) => restarted.has(n)).map((container) => ({ container, previous: true })),
  ];
  const kept = wanted.slice(0, SNAPSHOT_MAX_LOGS);
  const limitBytes = Math.min(SNAPSHOT_LOG_MAX_BYTES, Math.floor(SNAPSHOT_LOG_BUDGET_BYTES / Math.max(1, kept.length)));
  return {
    requests: kept.map((r) => ({ ...r, limitBytes })),
    dropped: wanted.slice(SNAPSHOT_MAX_LOGS).map(logKey),
  };
}

export const logKey = (r: { container: string; previous: boolean }): string =>
  `log.${r.container}${r.previous ? '.previous' : ''}.txt`;

export function snapshotSecretName(quarantine: string): string {
  return `bulkhead-forensics-${quarantine}`.slice(0, 253).replace(/[-.]+$/, '');
}

/**
 * The forensic snapshot of a pod that is about to be deleted (pure): its manifest and status
 * as they were when it was quarantined, and the tails of its logs. A Secret, because logs and
 * env may carry credentials: it is readable only by those who may read Secrets in the
 * namespace. Owned by the Quarantine, so it lives exactly as long as the cluster's record of
 * the quarantine does.
 */
export function forensicSnapshot(input: {
  pod: PodForSnapshot;
  quarantine: { name: string; uid: string };
  logs: ReadonlyMap<string, string>;
  /** Logs that could not be read, with why (a container that never started has none). */
  missing: ReadonlyMap<string, string>;
  dropped: readonly string[];
  takenAt: Date;
}) {
  const { managedFields: _drop, ...metadata } = input.pod.metadata;
  const manifest = JSON.stringify({ ...input.pod, metadata }, null, 2);
  const notes = [
    ...[...input.missing].map(([k, why]) => `${k}: not read (${why})`),
    ...input.dropped.map((k) => `${k}: not read (more than ${SNAPSHOT_MAX_LOGS} logs)`),
    ...(manifest.length > SNAPSHOT_MANIFEST_MAX_BYTES ? [`pod.json: cut at ${SNAPSHOT_MANIFEST_MAX_BYTES} bytes`] : []),
  ];
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: {
      name: snapshotSecretName(input.quarantine.name),
      namespace: input.pod.metadata.namespace,
      labels: { [LABEL.managedBy]: MANAGED_BY, 'bulkhead.dev/forensics': 'true' },
      annotations: {
        'bulkhead.dev/pod': `${input.pod.metadata.namespace}/${input.pod.metadata.name}`,
        'bulkhead.dev/pod-uid': input.pod.metadata.uid,
        'bulkhead.dev/taken-at': input.takenAt.toISOString(),
      },
      ownerReferences: [
        { apiVersion: API_VERSION, kind: KIND.Quarantine, name: input.quarantine.name, uid: input.quarantine.uid },
      ],
    },
    stringData: <Record<string, string>>{
      'pod.json': manifest.slice(0, SNAPSHOT_MANIFEST_MAX_BYTES),
      ...Object.fromEntries(input.logs),
      ...(notes.length > 0 ? { 'NOTES.txt': `${notes.join('\n')}\n` } : {}),
    },
  };
}
