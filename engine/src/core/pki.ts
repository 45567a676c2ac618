import { generate } from 'selfsigned';

/**
 * Certificate issuing for the places Bulkhead needs its own PKI: the local control plane
 * (CA, apiserver serving cert, client certs) and the admission webhook's serving cert.
 * ECDSA P-256 keys: fast to generate (milliseconds, unlike RSA) and accepted by Go's TLS.
 */
export interface KeyPair {
  cert: string;
  key: string;
}

export interface CertRequest {
  commonName: string;
  /** Subject O= entries: Kubernetes reads them as the groups of a client cert. */
  organizations?: string[];
  dnsNames?: string[];
  ipAddresses?: string[];
  usage: 'server' | 'client' | 'both';
  validForDays: number;
  notBefore?: Date;
}

const DAY_MS = 24 * 60 * 60 * 1000;

export async function createCertificateAuthority(
  commonName: string,
  validForDays: number,
  now = new Date(),
): Promise<KeyPair> {
  const pems = await generate([{ name: 'commonName', value: commonName }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    // Back-date by a minute: clocks of the processes that check it may lag slightly.
    notBeforeDate: new Date(now.getTime() - 60_000),
    notAfterDate: new Date(now.getTime() + validForDays * DAY_MS),
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}

export async function issueCertificate(ca: KeyPair, req: CertRequest): Promise<KeyPair> {
  const now = req.notBefore ?? new Date();
  const attrs = [{ name: 'commonName', value: req.commonName }];
  for (const o of req.organizations ?? []) attrs.push({ name: 'organizationName', value: o });
  const altNames = [
    ...(req.dnsNames ?? []).map((value) => ({ type: 2, value })),
    ...(req.ipAddresses ?? []).map((ip) => ({ type: 7, ip })),
  ];
  const extensions: Record<string, unknown>[] = [
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    {
      name: 'extKeyUsage',
      serverAuth: req.usage !== 'client',
      clientAuth: req.usage !== 'server',
    },
  ];
  if (altNames.length > 0) extensions.push({ name: 'subjectAltName', altNames });
  const pems = await generate(attrs, {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: new Date(now.getTime() - 60_000),
    notAfterDate: new Date(now.getTime() + req.validForDays * DAY_MS),
    extensions: extensions as never,
    ca: { key: ca.key, cert: ca.cert },
  });
  return { cert: pems.cert, key: pems.private };
}
