import { errorMessage } from '../core/errors.js';
import { HttpError } from '../core/http/http-error.js';
/**
 * AdmissionReview v1, in and out. Parsing is strict about the envelope (kind, apiVersion,
 * request.uid) and says exactly what is wrong, because the only readers of a 400 are humans
 * debugging a webhook configuration.
 */
export interface UserInfo {
  username?: string;
  uid?: string;
  groups?: string[];
}

export interface AdmissionRequest {
  uid: string;
  kind: { group: string; version: string; kind: string };
  resource: { group: string; version: string; resource: string };
  subResource?: string;
  name?: string;
  namespace?: string;
  operation: 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
  userInfo: UserInfo;
  object?: Record<string, unknown> | null;
  oldObject?: Record<string, unknown> | null;
  dryRun?: boolean;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: { code?: number; reason?: string; message?: string };
  patchType?: 'JSONPatch';
  /** base64 of the JSON patch. */
  patch?: string;
  warnings?: string[];
  auditAnnotations?: Record<string, string>;
}

export interface AdmissionReview {
  apiVersion: 'admission.k8s.io/v1';
  kind: 'AdmissionReview';
  request?: AdmissionRequest;
  response?: AdmissionResponse;
}

/** A malformed AdmissionReview: a 400 naming the problem. */
export class ReviewError extends HttpError {
  constructor(message: string) {
    super(400, message);
    this.name = 'ReviewError';
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Raw body → AdmissionRequest, or a ReviewError naming the problem. */
export function parseAdmissionReview(body: Buffer | string): AdmissionRequest {
  let doc: unknown;
  try {
    doc = JSON.parse(typeof body === 'string' ? body : body.toString('utf8'));
  } catch (err) {
    throw new ReviewError(`body is not valid JSON: ${errorMessage(err)}`);
  }
  if (!isObject(doc)) throw new ReviewError('body must be a JSON object (an AdmissionReview)');
  if (doc.kind !== 'AdmissionReview')
    throw new ReviewError(`kind must be "AdmissionReview", got ${JSON.stringify(doc.kind ?? null)}`);
  if (doc.apiVersion !== 'admission.k8s.io/v1') {
    throw new ReviewError(
      `apiVersion must be "admission.k8s.io/v1" (set admissionReviewVersions: [v1]), got ${JSON.stringify(doc.apiVersion ?? null)}`,
    );
  }
  const req = doc.request;
  if (!isObject(req)) throw new ReviewError('request is missing');
  if (typeof req.uid !== 'string' || req.uid === '') throw new ReviewError('request.uid is missing');
  if (!isObject(req.kind) || typeof req.kind.kind !== 'string') throw new ReviewError('request.kind is missing');
  if (typeof req.operation !== 'string') throw new ReviewError('request.operation is missing');
  if (req.userInfo !== undefined && !isObject(req.userInfo))
    throw new ReviewError('request.userInfo must be an object');
  if (req.object !== undefined && req.object !== null && !isObject(req.object))
    throw new ReviewError('request.object must be an object');
  return { ...(req as unknown as AdmissionRequest), userInfo: (req.userInfo as UserInfo | undefined) ?? {} };
}

export function reviewResponse(response: AdmissionResponse): AdmissionReview {
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response };
}

export const allow = (uid: string, extra: Partial<AdmissionResponse> = {}): AdmissionResponse => ({
  uid,
  allowed: true,
  ...extra,
});

export const deny = (uid: string, code: number, reason: string, message: string): AdmissionResponse => ({
  uid,
  allowed: false,
  status: { code, reason, message },
});
