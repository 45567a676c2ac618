import { BulkheadError } from '../errors.js';
import { isNotFound, type KubeClient } from './client.js';

/** Where a kind lives in the API: what a REST path needs. */
export interface ResourceRef {
  group: string;
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    resourceVersion?: string;
    generation?: number;
    managedFields?: { manager?: string; operation?: string; subresource?: string; fieldsV1?: unknown }[];
    [k: string]: unknown;
  };
  [k: string]: unknown;
}

export const splitApiVersion = (apiVersion: string): { group: string; version: string } => {
  const i = apiVersion.indexOf('/');
  return i < 0
    ? { group: '', version: apiVersion }
    : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
};

export function collectionPath(r: ResourceRef, namespace?: string): string {
  const prefix = r.group === '' ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
  return r.namespaced && namespace
    ? `${prefix}/namespaces/${encodeURIComponent(namespace)}/${r.plural}`
    : `${prefix}/${r.plural}`;
}

export function objectPath(r: ResourceRef, name: string, namespace?: string): string {
  return `${collectionPath(r, namespace)}/${encodeURIComponent(name)}`;
}

/**
 * Resolves kinds to resources through discovery, once per group/version (bounded by the
 * number of API groups). A miss is retried on the next call, since CRDs appear at runtime.
 */
export class ResourceResolver {
  private readonly cache = new Map<string, Map<string, ResourceRef>>();
  constructor(private readonly client: KubeClient) {}

  async resolve(apiVersion: string, kind: string): Promise<ResourceRef> {
    const cached = this.cache.get(apiVersion)?.get(kind);
    if (cached) return cached;
    const { group, version } = splitApiVersion(apiVersion);
    const path = group === '' ? `/api/${version}` : `/apis/${group}/${version}`;
    const notServed = (cause?: unknown): BulkheadError =>
      new BulkheadError({
        kind: 'Waiting',
        code: 'BH_KUBE_KIND_NOT_SERVED',
        reason: 'KindNotServed',
        message: `${kind} (${apiVersion}) is not served by the apiserver (CRD not installed?)`,
        cause,
      });
    const list = await this.client
      .request<{ resources: { name: string; kind: string; namespaced: boolean }[] }>({ method: 'GET', path })
      .catch((e: unknown) => {
        throw isNotFound(e) ? notServed(e) : e;
      });
    const byKind = new Map<string, ResourceRef>();
    for (const res of list.resources) {
      if (res.name.includes('/')) continue; // subresources
      byKind.set(res.kind, { group, version, plural: res.name, kind: res.kind, namespaced: res.namespaced });
    }
    this.cache.set(apiVersion, byKind);
    const found = byKind.get(kind);
    if (!found) {
      this.cache.delete(apiVersion);
      throw notServed();
    }
    return found;
  }
}
