import { BulkheadError } from '../errors.js';
import { KubeApiError, isNotFound, type KubeClient } from './client.js';
import { objectPath, type KubeObject, type ResourceResolver } from './resources.js';

/** Bulkhead's one field manager: every write it makes is attributed to it. */
export const FIELD_MANAGER = 'bulkhead';

export interface ApplyOptions {
  /** Server-side dry run (`dryRun=All`): validated, defaulted, admitted, not stored. */
  dryRun?: boolean;
  /** Take fields another manager owns. Off by default: conflicts are reported, not won. */
  force?: boolean;
  /** `status` to apply the status subresource. */
  subresource?: 'status';
  /**
   * Another of Bulkhead's field managers, for a part of an object a different loop owns (e.g.
   * one condition type of a status the sync also writes): each loop then keeps its own fields.
   */
  fieldManager?: `${typeof FIELD_MANAGER}-${string}`;
  signal?: AbortSignal;
}

/** One field of a 409 apply conflict: which manager owns which field. */
export interface ApplyConflict {
  field: string;
  message: string;
}

/**
 * The one function for every server-side apply Bulkhead makes: field manager `bulkhead`,
 * `fieldValidation=Strict` (an unknown or duplicate field fails instead of being dropped),
 * the manifest sent verbatim as the apply body. A conflict with another field manager
 * becomes a Stalled `ApplyConflict` error naming the fields, unless `force` is set.
 */
export async function serverSideApply(
  client: KubeClient,
  resolver: ResourceResolver,
  obj: KubeObject,
  opts: ApplyOptions = {},
): Promise<KubeObject> {
  const res = await resolver.resolve(obj.apiVersion, obj.kind);
  const path =
    objectPath(res, obj.metadata.name, res.namespaced ? obj.metadata.namespace : undefined) +
    (opts.subresource ? `/${opts.subresource}` : '');
  try {
    return await client.request<KubeObject>({
      method: 'PATCH',
      path,
      query: {
        fieldManager: opts.fieldManager ?? FIELD_MANAGER,
        fieldValidation: 'Strict',
        force: opts.force ? 'true' : undefined,
        dryRun: opts.dryRun ? 'All' : undefined,
      },
      body: obj,
      contentType: 'application/apply-patch+yaml',
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  } catch (err) {
    throw classifyApplyError(err, obj);
  }
}

export function applyConflicts(err: KubeApiError): ApplyConflict[] {
  return (err.status.details?.causes ?? []).map((c) => ({ field: c.field ?? '', message: c.message ?? '' }));
}

function classifyApplyError(err: unknown, obj: KubeObject): unknown {
  if (!(err instanceof KubeApiError)) return err;
  const id = `${obj.kind}/${obj.metadata.name}`;
  if (err.code === 409) {
    const fields = applyConflicts(err);
    return new BulkheadError({
      kind: 'Stalled',
      code: 'BH_APPLY_CONFLICT',
      reason: 'ApplyConflict',
      message: `${id}: fields owned by another manager: ${fields.map((f) => f.message || f.field).join('; ') || err.status.message}`,
      cause: err,
    });
  }
  if (err.code === 422 || err.code === 400) {
    return new BulkheadError({
      kind: 'Stalled',
      code: 'BH_APPLY_INVALID',
      reason: 'ApplyRejected',
      message: `${id}: ${err.status.message ?? 'rejected'}`,
      cause: err,
    });
  }
  if (err.code === 403 || err.code === 401) {
    return new BulkheadError({
      kind: 'Stalled',
      code: 'BH_APPLY_FORBIDDEN',
      reason: 'Forbidden',
      message: `${id}: ${err.status.message ?? 'forbidden'}`,
      cause: err,
    });
  }
  if (err.code === 404) {
    return new BulkheadError({
      kind: 'Waiting',
      code: 'BH_APPLY_NOT_FOUND',
      reason: 'NotFound',
      message: `${id}: ${err.status.message ?? 'not found'}`,
      cause: err,
    });
  }
  return new BulkheadError({
    kind: 'Transient',
    code: 'BH_APPLY_FAILED',
    reason: 'ApplyFailed',
    message: `${id}: ${err.message}`,
    cause: err,
  });
}

/**
 * Deletes an object, with a uid precondition when known so an object recreated under the
 * same name by someone else is never removed. 404 is success: it is already gone.
 */
export async function deleteObject(
  client: KubeClient,
  resolver: ResourceResolver,
  ref: { apiVersion: string; kind: string; name: string; namespace?: string; uid?: string },
  opts: { dryRun?: boolean } = {},
): Promise<boolean> {
  const res = await resolver.resolve(ref.apiVersion, ref.kind);
  try {
    await client.request({
      method: 'DELETE',
      path: objectPath(res, ref.name, res.namespaced ? ref.namespace : undefined),
      query: { dryRun: opts.dryRun ? 'All' : undefined },
      body: {
        apiVersion: 'v1',
        kind: 'DeleteOptions',
        propagationPolicy: 'Background',
        ...(ref.uid ? { preconditions: { uid: ref.uid } } : {}),
      },
    });
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    if (err instanceof KubeApiError && err.code === 409) return false; // uid changed: not ours any more
    throw err;
  }
}
