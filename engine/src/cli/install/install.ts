import { API_VERSION, KIND } from '../../core/api/index.js';
import { BulkheadError, isBulkheadError } from '../../core/errors.js';
import { serverSideApply } from '../../core/kube/apply.js';
import { isNotFound, type KubeClient } from '../../core/kube/client.js';
import { objectPath, type KubeObject, type ResourceResolver } from '../../core/kube/resources.js';
import { DASHBOARD_SECRET, ensureDashboardSecret } from './dashboard-secret.js';
import { ENGINE, applyOrder, isCrd, objectKey } from './manifests.js';
import { pollUntil, type Progress } from './progress.js';

export interface InstallOptions {
  objects: KubeObject[];
  /** PolicySource to create (from --repo), or none. */
  source?: { name: string; url: string; branch?: string; path?: string; secret?: string; interval?: string };
  dryRun: boolean;
  /** Take fields other managers own (kubectl apply --server-side --force-conflicts). */
  force: boolean;
  deadline: number;
}

export type ApplyOutcome = 'created' | 'configured' | 'unchanged' | 'skipped';

export interface InstallResult {
  applied: { key: string; outcome: ApplyOutcome; note?: string }[];
  ready?: { replicas: number; ready: number };
}

interface Deps {
  client: KubeClient;
  resolver: ResourceResolver;
  progress: Progress;
}

/**
 * Applies one object with server-side apply and says what happened. The GET before it is
 * only for the report (created / configured / unchanged): apply itself is idempotent, and an
 * unchanged apply does not bump resourceVersion.
 */
async function applyOne(
  d: Deps,
  obj: KubeObject,
  o: InstallOptions,
): Promise<{ key: string; outcome: ApplyOutcome; note?: string }> {
  const key = objectKey(obj);
  let before: string | undefined;
  try {
    const res = await d.resolver.resolve(obj.apiVersion, obj.kind);
    const live = await d.client.request<KubeObject>({
      method: 'GET',
      path: objectPath(res, obj.metadata.name, res.namespaced ? obj.metadata.namespace : undefined),
    });
    before = live.metadata.resourceVersion;
  } catch (err) {
    // A dry run creates nothing, so what depends on an object it would create (a namespace,
    // a CRD) cannot be checked yet: say so instead of failing.
    if (o.dryRun && isBulkheadError(err) && err.code === 'BH_KUBE_KIND_NOT_SERVED')
      return { key, outcome: 'skipped', note: 'its CRD is not installed yet (dry run)' };
    if (!isNotFound(err)) throw err;
  }
  try {
    const after = await serverSideApply(d.client, d.resolver, obj, { dryRun: o.dryRun, force: o.force });
    const outcome: ApplyOutcome =
      before === undefined ? 'created' : after.metadata.resourceVersion === before ? 'unchanged' : 'configured';
    return { key, outcome };
  } catch (err) {
    if (o.dryRun && isBulkheadError(err) && err.code === 'BH_APPLY_NOT_FOUND')
      return { key, outcome: 'skipped', note: 'its namespace does not exist yet (dry run)' };
    throw err;
  }
}

const summarize = (rs: { outcome: ApplyOutcome }[], dryRun: boolean): string => {
  const counts = new Map<string, number>();
  for (const r of rs) counts.set(r.outcome, (counts.get(r.outcome) ?? 0) + 1);
  const parts = [...counts].map(([k, n]) => `${n} ${k}`);
  return `${parts.join(', ') || 'nothing'}${dryRun ? ' (server dry run, nothing stored)' : ''}`;
};

interface Crd extends KubeObject {
  spec: { group: string; names: { plural: string }; versions: { name: string; served: boolean }[] };
  status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] };
}

/** Established is not yet servable: list once per CRD until storage answers (not 429/503). */
async function waitCrdsServed(d: Deps, crds: Crd[], deadline: number): Promise<void> {
  for (const crd of crds) {
    let last = 'not read yet';
    await pollUntil(
      async () => {
        const live = await d.client.request<Crd>({
          method: 'GET',
          path: `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`,
        });
        const est = live.status?.conditions?.find((c) => c.type === 'Established');
        last = est
          ? `Established=${est.status}${est.message ? `: ${est.message}` : ''}`
          : 'no Established condition yet';
        if (est?.status !== 'True') return undefined;
        const version = crd.spec.versions.find((v) => v.served)?.name ?? '';
        try {
          await d.client.request({
            method: 'GET',
            path: `/apis/${crd.spec.group}/${version}/${crd.spec.names.plural}`,
            query: { limit: '1' },
          });
          return true;
        } catch {
          last = 'Established, not served yet';
          return undefined;
        }
      },
      { deadline, intervalMs: 200, what: `CRD ${crd.metadata.name} to be Established`, lastState: () => last },
    );
  }
}

interface DeploymentState extends KubeObject {
  spec: { replicas?: number; selector: { matchLabels?: Record<string, string> } };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
}

interface PodList {
  items: {
    metadata: { name: string };
    spec?: { nodeName?: string };
    status?: { phase?: string; containerStatuses?: { state?: { waiting?: { reason?: string } } }[] };
  }[];
}

/** Why pods are not ready, in a few words (Pending unscheduled, ImagePullBackOff, …). */
async function podSummary(d: Deps, selector: Record<string, string>): Promise<string> {
  const pods = await d.client.request<PodList>({
    method: 'GET',
    path: `/api/v1/namespaces/${ENGINE.namespace}/pods`,
    query: {
      labelSelector: Object.entries(selector)
        .map(([k, v]) => `${k}=${v}`)
        .join(','),
    },
  });
  const states = pods.items.map((p) => {
    const waiting = p.status?.containerStatuses?.map((c) => c.state?.waiting?.reason).find(Boolean);
    return `${p.metadata.name}: ${waiting ?? p.status?.phase ?? 'unknown'}${p.spec?.nodeName ? '' : ' (unscheduled)'}`;
  });
  return states.length > 0 ? states.join('; ') : 'no pods yet';
}

/** Available = rolled out (current generation, all replicas updated) and every replica available. */
async function waitDeploymentAvailable(d: Deps, deadline: number): Promise<{ replicas: number; ready: number }> {
  const path = `/apis/apps/v1/namespaces/${ENGINE.namespace}/deployments/${ENGINE.deployment}`;
  let last = '';
  let lastState = '';
  let selector: Record<string, string> = {};
  try {
    return await pollUntil(
      async () => {
        const dep = await d.client.request<DeploymentState>({ method: 'GET', path });
        selector = dep.spec.selector.matchLabels ?? {};
        const want = dep.spec.replicas ?? 1;
        const s = dep.status ?? {};
        const line = `${s.readyReplicas ?? 0}/${want} ready, ${s.updatedReplicas ?? 0} updated, ${s.availableReplicas ?? 0} available`;
        if (line !== last) d.progress.detail(line);
        last = line;
        lastState = line;
        const available = s.conditions?.some((c) => c.type === 'Available' && c.status === 'True') ?? false;
        const done =
          (s.observedGeneration ?? 0) >= (dep.metadata.generation ?? 0) &&
          (s.updatedReplicas ?? 0) === want &&
          (s.availableReplicas ?? 0) === want &&
          (s.replicas ?? 0) === want &&
          available;
        return done ? { replicas: want, ready: s.readyReplicas ?? 0 } : undefined;
      },
      {
        deadline,
        intervalMs: 500,
        what: `Deployment ${ENGINE.namespace}/${ENGINE.deployment} to be Available`,
        lastState: () => lastState,
      },
    );
  } catch (err) {
    if (isBulkheadError(err) && err.code === 'BH_INSTALL_TIMEOUT')
      d.progress.detail(`pods: ${await podSummary(d, selector).catch(() => 'unreadable')}`);
    throw err;
  }
}

interface LivePolicySource {
  spec?: {
    url?: string;
    ref?: { branch?: string; tag?: string; commit?: string };
    path?: string;
    secretRef?: { name?: string };
    interval?: string;
  };
}

async function readPolicySource(d: Deps, name: string): Promise<LivePolicySource | undefined> {
  try {
    return await d.client.request<LivePolicySource>({
      method: 'GET',
      path: `/apis/${API_VERSION}/policysources/${encodeURIComponent(name)}`,
    });
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** PolicySource spec.interval's default (schemas/policysource.schema.json). */
const DEFAULT_INTERVAL = '1m';

/** True when applying `s` would leave the live spec's url, ref, path and secretRef as they are. */
export function sameSource(live: LivePolicySource, s: NonNullable<InstallOptions['source']>): boolean {
  const spec = live.spec ?? {};
  const ref = spec.ref ?? {};
  const refSame = s.branch
    ? ref.branch === s.branch && !ref.tag && !ref.commit
    : !ref.branch && !ref.tag && !ref.commit;
  const pathSame = (s.path ?? '.') === (spec.path ?? '.');
  // The CRD defaults interval to 1m: no --interval means the default.
  const intervalSame = (s.interval ?? DEFAULT_INTERVAL) === (spec.interval ?? DEFAULT_INTERVAL);
  return spec.url === s.url && refSame && pathSame && intervalSame && spec.secretRef?.name === s.secret;
}

export function policySourceObject(s: NonNullable<InstallOptions['source']>): KubeObject {
  return {
    apiVersion: API_VERSION,
    kind: KIND.PolicySource,
    metadata: { name: s.name },
    spec: {
      url: s.url,
      ...(s.branch ? { ref: { branch: s.branch } } : {}),
      ...(s.path ? { path: s.path } : {}),
      ...(s.secret ? { secretRef: { name: s.secret } } : {}),
      ...(s.interval ? { interval: s.interval } : {}),
    },
  };
}

/**
 * `bulkhead install`, as ordered steps: CRDs (then wait until they are Established and
 * served), everything but the engine Deployment in dependency order plus the dashboard token
 * Secret (created once), the PolicySource, the Deployment, then wait for it to be Available.
 * Every apply is a server-side apply with field manager `bulkhead`, so running it again
 * changes nothing and an upgrade changes only what differs.
 */
export async function install(d: Deps, o: InstallOptions): Promise<InstallResult> {
  const result: InstallResult = { applied: [] };
  const crds = o.objects.filter(isCrd) as Crd[];
  const rest = applyOrder(o.objects.filter((x) => !isCrd(x)));
  const applyAll = async (objs: KubeObject[]): Promise<InstallResult['applied']> => {
    const rs: InstallResult['applied'] = [];
    for (const obj of objs) rs.push(await applyOne(d, obj, o));
    result.applied.push(...rs);
    return rs;
  };
  const noteSkips = (rs: InstallResult['applied']): void => {
    for (const r of rs) if (r.outcome === 'skipped') d.progress.detail(`${r.key}: skipped, ${r.note ?? ''}`);
  };

  await d.progress.step(
    `CustomResourceDefinitions (${crds.length})`,
    () => applyAll(crds),
    (rs) => summarize(rs, o.dryRun),
  );
  if (!o.dryRun && crds.length > 0)
    await d.progress.step('CRDs Established and served', () => waitCrdsServed(d, crds, o.deadline));
  // Everything but the engine Deployment, and the dashboard token Secret, so the pods start
  // with their identity, permissions and token mount in place.
  const deployments = rest.filter((x) => x.kind === 'Deployment');
  const applied = await d.progress.step(
    `namespace, RBAC, Service and network policy (${rest.length - deployments.length} objects)`,
    async () => {
      const rs = await applyAll(rest.filter((x) => x.kind !== 'Deployment'));
      if (deployments.some((x) => x.metadata.name === ENGINE.deployment)) {
        const outcome = await ensureDashboardSecret(d.client, { dryRun: o.dryRun });
        const r = {
          key: `Secret/${ENGINE.namespace}/${DASHBOARD_SECRET.name}`,
          outcome,
          ...(outcome === 'skipped' ? { note: 'its namespace does not exist yet (dry run)' } : {}),
        };
        result.applied.push(r);
        rs.push(r);
      }
      return rs;
    },
    (rs) => summarize(rs, o.dryRun),
  );
  noteSkips(applied);
  // The PolicySource before the engine starts: once an engine replica runs, its guard refuses
  // a PolicySource written by anyone but the engine, so creating it after the Deployment
  // races the first replica (ADR 1002).
  if (o.source) {
    const src = o.source;
    const rs = await d.progress.step(
      `PolicySource ${src.name} → ${src.url}${src.branch ? ` (branch ${src.branch})` : ''}`,
      async () => {
        // Once the engine runs, its GitOps guard refuses any write to a PolicySource that is
        // not the engine's own, even a no-op apply (admission runs before the no-op check).
        // So a re-run that would change nothing writes nothing; a real change that the guard
        // refuses says how to make it.
        const live = await readPolicySource(d, src.name);
        if (live && sameSource(live, src)) {
          const r = { key: objectKey(policySourceObject(src)), outcome: 'unchanged' as const };
          result.applied.push(r);
          return [r];
        }
        try {
          return await applyAll([policySourceObject(src)]);
        } catch (err) {
          if (isBulkheadError(err) && err.code === 'BH_APPLY_FORBIDDEN') {
            throw new BulkheadError({
              kind: 'Stalled',
              code: 'BH_INSTALL_GUARDED',
              reason: 'ManagedInGit',
              message: `${err.message}\n    PolicySources are guarded once the engine runs: change it in git, or as a member of the break-glass group, or after \`bulkhead break-glass on\``,
              cause: err,
            });
          }
          throw err;
        }
      },
      (r) => summarize(r, o.dryRun),
    );
    noteSkips(rs);
  }
  if (deployments.length > 0)
    noteSkips(
      await d.progress.step(
        `engine Deployment ${ENGINE.namespace}/${ENGINE.deployment}`,
        () => applyAll(deployments),
        (rs) => summarize(rs, o.dryRun),
      ),
    );
  if (!o.dryRun)
    result.ready = await d.progress.step(
      `engine Deployment ${ENGINE.namespace}/${ENGINE.deployment} Available`,
      () => waitDeploymentAvailable(d, o.deadline),
      (r) => `${r.ready}/${r.replicas} replicas ready`,
    );
  return result;
}
