import { X509Certificate } from 'node:crypto';
import { createCertificateAuthority, issueCertificate, type KeyPair } from '../../core/pki.js';

/**
 * The webhook's TLS material and its rotation, as a small state machine (I/O-free apart from
 * key generation). Rotation never leaves the apiserver without trust in the cert we serve:
 *   - the serving cert is re-issued from the same CA before it expires (caBundle unchanged);
 *   - a new CA is first only *added* to the trusted bundle (`next`), and becomes the signer
 *     of the serving cert only after `caOverlapMs`, when every apiserver and every sidecar
 *     has the new bundle;
 *   - the CAs it replaced stay in the bundle for another `caOverlapMs` (`retiring`), until
 *     every replica serves a cert from the new one, then leave it: a CA rotated because its
 *     key leaked stops being trusted, instead of lingering until it expires.
 */
export interface TlsMaterial {
  /** Signs the serving cert. */
  ca: KeyPair;
  serving: KeyPair;
  /** PEM bundle the apiserver trusts (caBundle): current CA, plus next or previous during a rotation. */
  bundle: string;
  next?: { ca: KeyPair; since: string };
  /** Since when the bundle's CAs other than `ca` (and `next`) are only kept for replicas not yet reloaded. */
  retiring?: { since: string };
  /**
   * The step interval of the rotation under way, when an operator chose it (ROTATE_CA_STEP_ANNOTATION):
   * stored with the rotation state so every replica, and a leader elected mid-rotation, keep to it.
   * Absent: `caOverlapMs`. Dropped when the rotation completes.
   */
  stepMs?: number;
}

export interface TlsSettings {
  dnsNames: string[];
  ipAddresses: string[];
  caValidityMs: number;
  servingValidityMs: number;
  /** Re-issue when less than this is left (defaults: a third of the validity). */
  caRenewBeforeMs?: number;
  servingRenewBeforeMs?: number;
  /**
   * How long a new CA is trusted before it signs (the bundle reaching every apiserver and,
   * through the kubelet's projected ConfigMap, every sidecar), and how long a replaced CA is
   * still trusted after (every replica re-reading the Secret).
   */
  caOverlapMs: number;
}

const DAY_MS = 86_400_000;

export const DEFAULT_TLS_TIMING = {
  caValidityMs: 365 * DAY_MS,
  servingValidityMs: 30 * DAY_MS,
  caOverlapMs: 10 * 60_000,
} as const;

export function notAfter(pem: string): Date {
  return new Date(new X509Certificate(pem).validTo);
}

export function fingerprint(pem: string): string {
  return new X509Certificate(pem).fingerprint256;
}

/** Splits a PEM bundle into its certificates. */
export function splitPem(bundle: string): string[] {
  return (
    bundle
      .match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g)
      ?.map((c) => (c.endsWith('\n') ? c : `${c}\n`)) ?? []
  );
}

const joinPem = (certs: string[]): string => [...new Set(certs.map((c) => (c.endsWith('\n') ? c : `${c}\n`)))].join('');

async function issueServing(ca: KeyPair, s: TlsSettings, now: Date): Promise<KeyPair> {
  return issueCertificate(ca, {
    commonName: s.dnsNames[0] ?? s.ipAddresses[0] ?? 'bulkhead-webhook',
    dnsNames: s.dnsNames,
    ipAddresses: s.ipAddresses,
    usage: 'server',
    validForDays: s.servingValidityMs / DAY_MS,
    notBefore: now,
  });
}

async function newCa(s: TlsSettings, now: Date): Promise<KeyPair> {
  return createCertificateAuthority(`bulkhead-webhook-ca-${now.getTime()}`, s.caValidityMs / DAY_MS, now);
}

export async function createMaterial(s: TlsSettings, now: Date): Promise<TlsMaterial> {
  const ca = await newCa(s, now);
  return { ca, serving: await issueServing(ca, s, now), bundle: joinPem([ca.cert]) };
}

export type RotationStep = 'ca-staged' | 'ca-promoted' | 'ca-retired' | 'serving-reissued' | 'sans-changed';

/** One rotation step at `now`; returns the same object when nothing is due. */
export async function rotate(
  m: TlsMaterial,
  s: TlsSettings,
  now: Date,
  force?: { ca?: boolean; serving?: boolean; caStepMs?: number },
): Promise<{ material: TlsMaterial; steps: RotationStep[] }> {
  const t = now.getTime();
  const step = m.stepMs ?? s.caOverlapMs;
  const caRenew = s.caRenewBeforeMs ?? s.caValidityMs / 3;
  const servingRenew = s.servingRenewBeforeMs ?? s.servingValidityMs / 3;
  const alive = (pem: string): boolean => notAfter(pem).getTime() > t;

  if (m.next && t - Date.parse(m.next.since) >= step) {
    // Every apiserver and sidecar has trusted the next CA for the overlap: it signs from now
    // on. The old CA stays in the bundle for another overlap, for the replicas that still
    // serve its cert until they re-read the Secret.
    const ca = m.next.ca;
    return {
      material: {
        ca,
        serving: await issueServing(ca, s, now),
        bundle: joinPem([ca.cert, ...splitPem(m.bundle).filter(alive)]),
        retiring: { since: now.toISOString() },
        ...(m.stepMs !== undefined ? { stepMs: m.stepMs } : {}),
      },
      steps: ['ca-promoted'],
    };
  }
  if (!m.next && (force?.ca || notAfter(m.ca.cert).getTime() - t < caRenew)) {
    const next = await newCa(s, now);
    // A forced rotation may set its own step; a scheduled one (expiry) and one forced without it
    // use the default, also when a previous rotation's step is still recorded.
    const { stepMs: _previous, ...base } = m;
    return {
      material: {
        ...base,
        bundle: joinPem([m.ca.cert, next.cert, ...splitPem(m.bundle).filter(alive)]),
        next: { ca: next, since: now.toISOString() },
        ...(force?.ca && force.caStepMs !== undefined ? { stepMs: force.caStepMs } : {}),
      },
      steps: ['ca-staged'],
    };
  }
  if (m.retiring && t - Date.parse(m.retiring.since) >= step) {
    // Every replica has re-read the Secret since the promotion: nothing serves a cert of the
    // replaced CA any more. The rotation is over, and its step with it.
    const { retiring: _done, stepMs: _step, ...rest } = m;
    return {
      material: { ...rest, bundle: joinPem([m.ca.cert, ...(m.next ? [m.next.ca.cert] : [])]) },
      steps: ['ca-retired'],
    };
  }
  const sansChanged = !sameSans(m.serving.cert, s);
  if (force?.serving || sansChanged || notAfter(m.serving.cert).getTime() - t < servingRenew) {
    return {
      material: { ...m, serving: await issueServing(m.ca, s, now) },
      steps: [sansChanged ? 'sans-changed' : 'serving-reissued'],
    };
  }
  return { material: m, steps: [] };
}

function sameSans(pem: string, s: TlsSettings): boolean {
  const san = new X509Certificate(pem).subjectAltName ?? '';
  const have = new Set(san.split(', ').filter(Boolean));
  const want = [...s.dnsNames.map((d) => `DNS:${d}`), ...s.ipAddresses.map((ip) => `IP Address:${ip}`)];
  return want.length === have.size && want.every((w) => have.has(w));
}

/** SANs of the engine's Service, plus loopback for local runs. */
export function serviceSans(service: string, namespace: string): string[] {
  return [
    service,
    `${service}.${namespace}`,
    `${service}.${namespace}.svc`,
    `${service}.${namespace}.svc.cluster.local`,
  ];
}
