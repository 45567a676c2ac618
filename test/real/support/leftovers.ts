// What of Bulkhead's is still in the real cluster: the uninstall tests (the CLI's and Helm's)
// assert on the same reading, so "left behind" means one thing in both.
import { ENGINE_NAMESPACE } from './installed-engine.js';
import { kubectlOk } from './kubectl.js';
import { getRealCluster } from './state.js';

/** Both admission paths' objects (ADR 1700): webhook configurations, admission policies, bindings. */
export const ADMISSION_KINDS =
  'validatingwebhookconfigurations,mutatingwebhookconfigurations,validatingadmissionpolicies,validatingadmissionpolicybindings,mutatingadmissionpolicies,mutatingadmissionpolicybindings';

interface Item {
  kind?: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  subjects?: { kind: string; name: string; namespace?: string }[];
  roleRef?: { name: string };
}

/** Anything of Bulkhead's: by name, by its labels, or (bindings) granting to its ServiceAccount. */
const isBulkhead = (i: Item): boolean =>
  i.metadata.name.startsWith('bulkhead') ||
  i.metadata.labels?.['app.kubernetes.io/name'] === 'bulkhead' ||
  i.metadata.labels?.['app.kubernetes.io/managed-by'] === 'bulkhead' ||
  (i.subjects ?? []).some((s) => s.namespace === ENGINE_NAMESPACE) ||
  (i.roleRef?.name ?? '').startsWith('bulkhead');

/** `kind/namespace/name` of each object of `kinds` (kubectl's comma list) that is Bulkhead's. */
export async function leftovers(kinds: string): Promise<string[]> {
  const list = JSON.parse(await kubectlOk(getRealCluster(), ['get', kinds, '-A', '-o', 'json'])) as { items: Item[] };
  return list.items.filter(isBulkhead).map((i) => `${i.kind}/${i.metadata.namespace ?? ''}/${i.metadata.name}`);
}
