/** A probe's outcome, as the report carries it (schemas/healthreport.schema.json). */
/** Why a probe failed, as a small closed set the engine's detectors can count. */
export type ProbeErrorClass =
  'Timeout' | 'ConnectionRefused' | 'ConnectionReset' | 'DnsFailure' | 'UnexpectedStatus' | 'Other';

export interface ProbeResult {
  type: 'http' | 'tcp' | 'grpc';
  ok: boolean;
  latencyMs: number;
  status?: number;
  error?: ProbeErrorClass;
}

/** A node error code → the closed set of failure kinds. */
export function classifyError(err: unknown): ProbeErrorClass {
  const code = (err as { code?: string }).code;
  switch (code) {
    case 'ETIMEDOUT':
    case 'BULKHEAD_PROBE_TIMEOUT':
      return 'Timeout';
    case 'ECONNREFUSED':
      return 'ConnectionRefused';
    case 'ECONNRESET':
    case 'EPIPE':
    case 'ECONNABORTED':
      return 'ConnectionReset';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'DnsFailure';
    default:
      return 'Other';
  }
}
