import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION } from '../../core/api/index.js';

interface SourceItem {
  metadata?: { name?: string };
  spec?: { url?: string; path?: string };
}

/** The PolicySources' locations as one "where" for a message (pure): one source exactly, several as a list. */
export function describeSources(items: readonly SourceItem[]): { repo: string; path: string } | undefined {
  const located = items
    .filter((i) => i.spec?.url)
    .sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
  if (located.length === 0) return undefined;
  if (located.length === 1) return { repo: located[0]!.spec!.url!, path: `${located[0]!.spec?.path ?? '.'}/policies/` };
  const urls = [...new Set(located.map((i) => i.spec!.url!))];
  const repo = urls.length <= 3 ? urls.join(' or ') : `${urls.slice(0, 3).join(', ')} or ${urls.length - 3} more`;
  return { repo, path: 'policies/' };
}

/**
 * Where an object that names no source is kept: the cluster's PolicySources (the engine syncs
 * them, so it may list them), read only when the guard denies such a write and cached for
 * `ttlMs`. A failed read gives undefined: the message then says the object names no source.
 */
export function defaultSourceReader(
  kc: KubeConfig,
  ttlMs = 10_000,
  clock: () => number = Date.now,
): () => Promise<{ repo: string; path: string } | undefined> {
  const api = kc.makeApiClient(CustomObjectsApi);
  let cached: { value: { repo: string; path: string } | undefined; at: number } | undefined;
  return async () => {
    const now = clock();
    if (cached && now - cached.at < ttlMs) return cached.value;
    let value: { repo: string; path: string } | undefined;
    try {
      const list = (await api.listClusterCustomObject({
        group: GROUP,
        version: VERSION,
        plural: PLURAL.PolicySource,
      })) as {
        items: SourceItem[];
      };
      value = describeSources(list.items);
    } catch {
      value = undefined;
    }
    cached = { value, at: now };
    return value;
  };
}
