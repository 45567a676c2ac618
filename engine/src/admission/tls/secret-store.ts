import { CoreV1Api, type KubeConfig, type V1Secret } from '@kubernetes/client-node';
import type { TlsMaterial } from './material.js';
import { MAX_CA_STEP_MS, MIN_CA_STEP_MS, ROTATE_CA_STEP_ANNOTATION } from './rotation-step.js';

/**
 * TLS material in one Secret, shared by every replica. Writes carry the resourceVersion they
 * read, so when two replicas rotate at once one wins and the other re-reads (409).
 */
export interface StoredMaterial {
  material: TlsMaterial;
  version: string;
  /** An operator asked for a CA rotation (the annotation below is on the Secret). */
  rotateCaRequested?: boolean;
  /** The step interval asked for with it (ROTATE_CA_STEP_ANNOTATION, raw: parseCaStep judges it). */
  rotateCaStep?: string;
}

/**
 * How an operator forces a CA rotation while the engine runs:
 * `kubectl -n bulkhead-system annotate secret bulkhead-webhook-tls bulkhead.dev/rotate-ca=now`.
 * The leader stages a new CA on its next pass; its write (a replace without the annotation)
 * is the acknowledgement. `bulkhead.dev/rotate-ca-step=90s` alongside sets that rotation's step
 * interval (ROTATE_CA_STEP_ANNOTATION); the write removes it too.
 */
export const ROTATE_CA_ANNOTATION = 'bulkhead.dev/rotate-ca';

export interface SecretStore {
  read(): Promise<StoredMaterial | undefined>;
  /** Creates the Secret; undefined when another replica created it first. */
  create(m: TlsMaterial): Promise<StoredMaterial | undefined>;
  /** Replaces it if still at `version`; undefined on a conflict. */
  replace(m: TlsMaterial, version: string): Promise<StoredMaterial | undefined>;
}

const KEYS = {
  cert: 'tls.crt',
  key: 'tls.key',
  bundle: 'ca.crt',
  caCert: 'signing-ca.crt',
  caKey: 'signing-ca.key',
  nextCert: 'next-ca.crt',
  nextKey: 'next-ca.key',
  nextSince: 'next-ca.since',
  retiringSince: 'retiring-cas.since',
  stepMs: 'ca-rotation-step.ms',
} as const;

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: string | undefined): string | undefined =>
  s === undefined ? undefined : Buffer.from(s, 'base64').toString('utf8');

export function toSecretData(m: TlsMaterial): Record<string, string> {
  const data: Record<string, string> = {
    [KEYS.cert]: b64(m.serving.cert),
    [KEYS.key]: b64(m.serving.key),
    [KEYS.bundle]: b64(m.bundle),
    [KEYS.caCert]: b64(m.ca.cert),
    [KEYS.caKey]: b64(m.ca.key),
  };
  if (m.next) {
    data[KEYS.nextCert] = b64(m.next.ca.cert);
    data[KEYS.nextKey] = b64(m.next.ca.key);
    data[KEYS.nextSince] = b64(m.next.since);
  }
  if (m.retiring) data[KEYS.retiringSince] = b64(m.retiring.since);
  if (m.stepMs !== undefined) data[KEYS.stepMs] = b64(String(m.stepMs));
  return data;
}

export function fromSecretData(data: Record<string, string> | undefined): TlsMaterial | undefined {
  const get = (k: string): string | undefined => unb64(data?.[k]);
  const cert = get(KEYS.cert);
  const key = get(KEYS.key);
  const bundle = get(KEYS.bundle);
  const caCert = get(KEYS.caCert);
  const caKey = get(KEYS.caKey);
  if (!cert || !key || !bundle || !caCert || !caKey) return undefined;
  const m: TlsMaterial = { serving: { cert, key }, bundle, ca: { cert: caCert, key: caKey } };
  const nextCert = get(KEYS.nextCert);
  const nextKey = get(KEYS.nextKey);
  const since = get(KEYS.nextSince);
  if (nextCert && nextKey && since) m.next = { ca: { cert: nextCert, key: nextKey }, since };
  const retiring = get(KEYS.retiringSince);
  if (retiring) m.retiring = { since: retiring };
  // Written by toSecretData from a judged value; anything else there (a hand edit past the
  // bounds) is ignored, so the default applies rather than a step propagation cannot keep up with.
  const stepMs = Number(get(KEYS.stepMs) ?? NaN);
  if (Number.isInteger(stepMs) && stepMs >= MIN_CA_STEP_MS && stepMs <= MAX_CA_STEP_MS) m.stepMs = stepMs;
  return m;
}

const code = (e: unknown): number | undefined => (e as { code?: number }).code;

export function kubeSecretStore(kc: KubeConfig, namespace: string, name: string): SecretStore {
  const core = kc.makeApiClient(CoreV1Api);
  const stored = (s: V1Secret): StoredMaterial | undefined => {
    const material = fromSecretData(s.data);
    if (!material) return undefined;
    const annotations = s.metadata?.annotations ?? {};
    const requested = annotations[ROTATE_CA_ANNOTATION] !== undefined;
    const step = annotations[ROTATE_CA_STEP_ANNOTATION];
    return {
      material,
      version: s.metadata?.resourceVersion ?? '',
      ...(requested ? { rotateCaRequested: true } : {}),
      ...(requested && step !== undefined ? { rotateCaStep: step } : {}),
    };
  };
  const body = (m: TlsMaterial, resourceVersion?: string): V1Secret => ({
    metadata: {
      name,
      namespace,
      labels: { 'app.kubernetes.io/managed-by': 'bulkhead', 'app.kubernetes.io/component': 'admission' },
      ...(resourceVersion ? { resourceVersion } : {}),
    },
    type: 'kubernetes.io/tls',
    data: toSecretData(m),
  });
  return {
    async read() {
      try {
        return stored(await core.readNamespacedSecret({ name, namespace }));
      } catch (e) {
        if (code(e) === 404) return undefined;
        throw e;
      }
    },
    async create(m) {
      try {
        return stored(await core.createNamespacedSecret({ namespace, body: body(m) }));
      } catch (e) {
        if (code(e) === 409) return undefined;
        throw e;
      }
    },
    async replace(m, version) {
      try {
        return stored(await core.replaceNamespacedSecret({ name, namespace, body: body(m, version) }));
      } catch (e) {
        if (code(e) === 409) return undefined;
        throw e;
      }
    },
  };
}
