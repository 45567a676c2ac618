import { WEBHOOK_LABEL_SELECTOR, WEBHOOK_NAMES } from '../../admission/index.js';
import { LABEL, MANAGED_BY, PLURAL, GROUP, VERSION } from '../../core/api/index.js';
import { isBulkheadError } from '../../core/errors.js';
import { SOURCE_LABEL } from '../../plan/index.js';
import { deleteObject } from '../../core/kube/apply.js';
import { isNotFound, type KubeClient } from '../../core/kube/client.js';
import { objectPath, type KubeObject, type ResourceResolver } from '../../core/kube/resources.js';
import { ENGINE, applyOrder, isCrd, objectKey } from './manifests.js';
import { pollUntil, type Progress } from './progress.js';

export interface UninstallOptions {
  objects: KubeObject[];
  /** Also delete the CRDs, and with them every HealthPolicy, Quarantine and PolicySource. */
  crds: boolean;
  /**
   * Leave deploy/'s objects to the tool that installed them (Helm's pre-delete hook): remove the
   * webhook configurations, stop the engine by scaling its Deployment to 0 (not deleting it),
   * remove the webhooks again and sweep the engine's runtime objects; nothing else (ADR 1902).
   */
  leaveManifests?: boolean;
  deadline: number;
}

export interface UninstallResult {
  webhooks: string[];
  /** What the engine created at run time in workload namespaces (isolation NetworkPolicies, CA ConfigMaps). */
  swept: string[];
  deleted: string[];
  absent: string[];
  /** Custom resources left in place because the CRDs were kept. */
  kept: Record<string, number>;
}

interface Deps {
  client: KubeClient;
  resolver: ResourceResolver;
  progress: Progress;
}

const WEBHOOK_KINDS = [
  { kind: 'MutatingWebhookConfiguration', plural: 'mutatingwebhookconfigurations', name: WEBHOOK_NAMES.mutating },
  { kind: 'ValidatingWebhookConfiguration', plural: 'validatingwebhookconfigurations', name: WEBHOOK_NAMES.validating },
  // The policy path (ADR 1700), bindings before their policies. A cluster that does not serve
  // these kinds answers 404 for the list, and has none.
  {
    kind: 'MutatingAdmissionPolicyBinding',
    plural: 'mutatingadmissionpolicybindings',
    name: WEBHOOK_NAMES.mutating,
  },
  { kind: 'MutatingAdmissionPolicy', plural: 'mutatingadmissionpolicies', name: WEBHOOK_NAMES.mutating },
  {
    kind: 'ValidatingAdmissionPolicyBinding',
    plural: 'validatingadmissionpolicybindings',
    name: WEBHOOK_NAMES.mutating,
  },
  { kind: 'ValidatingAdmissionPolicy', plural: 'validatingadmissionpolicies', name: WEBHOOK_NAMES.mutating },
  {
    kind: 'ValidatingAdmissionPolicyBinding',
    plural: 'validatingadmissionpolicybindings',
    name: WEBHOOK_NAMES.validating,
  },
  { kind: 'ValidatingAdmissionPolicy', plural: 'validatingadmissionpolicies', name: WEBHOOK_NAMES.validating },
] as const;

/**
 * Every Bulkhead webhook configuration and generated admission policy (and binding): the
 * engine's fixed names, and anything carrying the labels the engine puts on what it registers
 * (as break-glass finds them). Both paths, whichever the engine used: a guard policy left
 * behind would keep refusing edits with no engine to apply git.
 */
export async function findWebhookConfigurations(
  client: KubeClient,
): Promise<{ kind: string; name: string; uid?: string }[]> {
  const found = new Map<string, { kind: string; name: string; uid?: string }>();
  for (const w of WEBHOOK_KINDS) {
    const base = `/apis/admissionregistration.k8s.io/v1/${w.plural}`;
    let list: { items: KubeObject[] };
    try {
      list = await client.request<{ items: KubeObject[] }>({
        method: 'GET',
        path: base,
        query: { labelSelector: WEBHOOK_LABEL_SELECTOR },
      });
    } catch (err) {
      if (isNotFound(err)) continue;
      throw err;
    }
    for (const item of list.items)
      found.set(`${w.kind}/${item.metadata.name}`, {
        kind: w.kind,
        name: item.metadata.name,
        ...(item.metadata.uid ? { uid: item.metadata.uid } : {}),
      });
    try {
      const named = await client.request<KubeObject>({ method: 'GET', path: `${base}/${w.name}` });
      found.set(`${w.kind}/${w.name}`, {
        kind: w.kind,
        name: w.name,
        ...(named.metadata.uid ? { uid: named.metadata.uid } : {}),
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
  return [...found.values()];
}

async function removeWebhooks(d: Deps): Promise<string[]> {
  const removed: string[] = [];
  for (const w of await findWebhookConfigurations(d.client)) {
    if (
      await deleteObject(d.client, d.resolver, {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: w.kind,
        name: w.name,
        ...(w.uid ? { uid: w.uid } : {}),
      })
    )
      removed.push(`${w.kind}/${w.name}`);
  }
  return removed;
}

/**
 * What the running engine created outside deploy/, in the namespaces it works in: the
 * quarantine isolation NetworkPolicies and the sidecars' CA ConfigMaps. Both carry the
 * managed-by label; objects synced from git carry the policy-source label as well and belong
 * to the repository, so they are left alone. Run after the engine has stopped, so nothing
 * re-creates them. A quarantined pod kept without --crds stays detached and labelled, but is
 * no longer isolated: the output says so.
 */
const RUNTIME_KINDS = [
  { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', path: '/apis/networking.k8s.io/v1/networkpolicies' },
  { apiVersion: 'v1', kind: 'ConfigMap', path: '/api/v1/configmaps' },
  // The cluster-wide quarantine deny, where the cluster serves the network policy API (ADR
  // 1030): it outlives the engine's namespace, so only uninstall can take it away.
  {
    apiVersion: 'policy.networking.k8s.io/v1alpha1',
    kind: 'AdminNetworkPolicy',
    path: '/apis/policy.networking.k8s.io/v1alpha1/adminnetworkpolicies',
  },
] as const;
const RUNTIME_SELECTOR = `${LABEL.managedBy}=${MANAGED_BY},!${SOURCE_LABEL}`;

async function sweepRuntimeObjects(d: Deps): Promise<string[]> {
  const swept: string[] = [];
  for (const k of RUNTIME_KINDS) {
    const list = await d.client
      .request<{ items: KubeObject[] }>({ method: 'GET', path: k.path, query: { labelSelector: RUNTIME_SELECTOR } })
      .catch((err: unknown) => {
        if (isNotFound(err)) return { items: [] }; // the API is not served here: nothing of that kind exists
        throw err;
      });
    for (const item of list.items) {
      const ref = {
        apiVersion: k.apiVersion,
        kind: k.kind,
        name: item.metadata.name,
        ...(item.metadata.namespace ? { namespace: item.metadata.namespace } : {}),
      };
      if (await deleteObject(d.client, d.resolver, ref)) swept.push(objectKey({ ...item, kind: k.kind }));
    }
  }
  return swept;
}

async function exists(d: Deps, obj: KubeObject): Promise<boolean> {
  const res = await d.resolver.resolve(obj.apiVersion, obj.kind).catch(() => undefined);
  if (!res) return false; // the kind is not served at all (e.g. its CRD is gone): nothing to find
  try {
    await d.client.request({
      method: 'GET',
      path: objectPath(res, obj.metadata.name, res.namespaced ? obj.metadata.namespace : undefined),
    });
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

async function deleteAll(d: Deps, objs: KubeObject[], result: UninstallResult): Promise<string[]> {
  const deleted: string[] = [];
  for (const obj of objs) {
    const ref = {
      apiVersion: obj.apiVersion,
      kind: obj.kind,
      name: obj.metadata.name,
      ...(obj.metadata.namespace ? { namespace: obj.metadata.namespace } : {}),
    };
    let removed: boolean;
    try {
      removed = await deleteObject(d.client, d.resolver, ref);
    } catch (err) {
      // The kind is not served (its CRD is gone): no such object can exist.
      if (!(isBulkheadError(err) && err.code === 'BH_KUBE_KIND_NOT_SERVED')) throw err;
      removed = false;
    }
    (removed ? deleted : result.absent).push(objectKey(obj));
  }
  result.deleted.push(...deleted);
  return deleted;
}

async function waitGone(d: Deps, objs: KubeObject[], deadline: number): Promise<void> {
  for (const obj of objs) {
    await pollUntil(async () => ((await exists(d, obj)) ? undefined : true), {
      deadline,
      intervalMs: 250,
      what: `${objectKey(obj)} to be deleted`,
    });
  }
}

async function enginePods(d: Deps, deployment: KubeObject | undefined): Promise<number> {
  const labels = (deployment as { spec?: { selector?: { matchLabels?: Record<string, string> } } } | undefined)?.spec
    ?.selector?.matchLabels;
  if (!labels) return 0;
  const pods = await d.client.request<{ items: unknown[] }>({
    method: 'GET',
    path: `/api/v1/namespaces/${ENGINE.namespace}/pods`,
    query: {
      labelSelector: Object.entries(labels)
        .map(([k, v]) => `${k}=${v}`)
        .join(','),
    },
  });
  return pods.items.length;
}

async function countCustomResources(d: Deps): Promise<Record<string, number>> {
  const kept: Record<string, number> = {};
  for (const plural of Object.values(PLURAL)) {
    try {
      const list = await d.client.request<{ items: unknown[] }>({
        method: 'GET',
        path: `/apis/${GROUP}/${VERSION}/${plural}`,
      });
      if (list.items.length > 0) kept[plural] = list.items.length;
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
  return kept;
}

/** Stops the engine without deleting its Deployment (the installer deletes it): replicas 0 through the scale subresource. */
async function scaleToZero(d: Deps, engine: KubeObject | undefined): Promise<string[]> {
  if (!engine) return [];
  try {
    await d.client.request({
      method: 'PATCH',
      path: `/apis/apps/v1/namespaces/${ENGINE.namespace}/deployments/${engine.metadata.name}/scale`,
      contentType: 'application/merge-patch+json',
      body: { spec: { replicas: 0 } },
    });
  } catch (err) {
    if (isNotFound(err)) return [];
    throw err;
  }
  return [objectKey(engine)];
}

const listOrNone = (xs: string[]): string => (xs.length > 0 ? xs.join(', ') : 'none found');

/**
 * `bulkhead uninstall`, in the one safe order:
 *  1. delete every Bulkhead webhook configuration, so from here on the apiserver never calls
 *     a webhook whose backend is going away;
 *  2. delete the engine Deployment and wait until its pods are gone;
 *  3. sweep the webhook configurations again: a still-running leader could have re-registered
 *     them between 1 and 2 (the engine registers webhooks on start and never removes them);
 *  4. delete what the engine created in workload namespaces (isolation NetworkPolicies, CA
 *     ConfigMaps), now that nothing re-creates them;
 *  5. delete the rest of deploy/ (Service, policies, RBAC) with the namespace last, and wait
 *     until the namespace is gone so an immediate re-install does not hit a terminating one;
 *  6. only with `crds`: the CRDs, which deletes every HealthPolicy, Quarantine and PolicySource.
 * Each delete treats 404 as done, so running it again succeeds and deletes nothing.
 */
export async function uninstall(d: Deps, o: UninstallOptions): Promise<UninstallResult> {
  const result: UninstallResult = { webhooks: [], swept: [], deleted: [], absent: [], kept: {} };
  const ordered = applyOrder(o.objects.filter((x) => !isCrd(x))).reverse();
  const deployments = ordered.filter((x) => x.kind === 'Deployment');
  const rest = ordered.filter((x) => x.kind !== 'Deployment');

  result.webhooks.push(
    ...(await d.progress.step('webhook configurations removed', () => removeWebhooks(d), listOrNone)),
  );
  await d.progress.step(
    'engine stopped',
    async () => {
      const engine = deployments.find((x) => x.metadata.name === ENGINE.deployment);
      const deleted = o.leaveManifests ? await scaleToZero(d, engine) : await deleteAll(d, deployments, result);
      let last = -1;
      await pollUntil(
        async () => {
          const n = await enginePods(d, engine);
          if (n > 0 && n !== last) d.progress.detail(`${n} engine pod${n === 1 ? '' : 's'} terminating`);
          last = n;
          return n > 0 ? undefined : true;
        },
        {
          deadline: o.deadline,
          intervalMs: 250,
          what: 'the engine pods to terminate',
          lastState: () => `${last} pods left`,
        },
      );
      return deleted;
    },
    (xs) =>
      xs.length > 0
        ? `${o.leaveManifests ? 'scaled to 0' : 'deleted'} ${xs.join(', ')}, no engine pod left`
        : 'no engine Deployment found',
  );
  const late = await removeWebhooks(d);
  result.webhooks.push(...late);
  if (late.length > 0)
    d.progress.detail(`removed webhook configurations the stopping engine re-registered: ${late.join(', ')}`);
  result.swept.push(
    ...(await d.progress.step(
      'isolation policies (NetworkPolicies, the AdminNetworkPolicy) and CA ConfigMaps the engine created removed',
      () => sweepRuntimeObjects(d),
      listOrNone,
    )),
  );
  if (o.leaveManifests) return result;
  await d.progress.step(
    `engine namespace, RBAC and network policy removed`,
    async () => {
      const deleted = await deleteAll(d, rest, result);
      await waitGone(d, rest, o.deadline);
      return deleted;
    },
    (xs) => `${xs.length} deleted, ${rest.length - xs.length} already absent`,
  );
  const crds = o.objects.filter(isCrd);
  if (o.crds) {
    await d.progress.step(
      `CustomResourceDefinitions removed (with every HealthPolicy, Quarantine and PolicySource)`,
      async () => {
        const deleted = await deleteAll(d, crds, result);
        await waitGone(d, crds, o.deadline);
        return deleted;
      },
      (xs) => `${xs.length} deleted, ${crds.length - xs.length} already absent`,
    );
  } else {
    result.kept = await countCustomResources(d);
  }
  return result;
}
