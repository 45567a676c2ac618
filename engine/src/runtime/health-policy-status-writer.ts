import { matchedPodCounts, type AdmissionRuntime, type PodMeta } from '../admission/index.js';
import { API_VERSION, GROUP, KIND, PLURAL, VERSION, type PolicySource } from '../core/api/index.js';
import { errorMessage } from '../core/errors.js';
import { KubeApiError, isNotFound, type KubeClient } from '../core/kube/client.js';
import type { Logger } from '../core/logger.js';
import { SOURCE_LABEL } from '../plan/index.js';
import type { HealthPolicyWatch } from './health-policy-watch.js';
import {
  fluxRevision,
  policyStatus,
  POLICY_STATUS_FIELD_MANAGER,
  type LivePolicy,
  type OwnedStatus,
} from './health-policy-status.js';

/** Pods per LIST page; pods are counted, never kept. */
const PAGE = 500;
const FLUX = { name: 'kustomize.toolkit.fluxcd.io/name', namespace: 'kustomize.toolkit.fluxcd.io/namespace' };

export interface PolicyStatusWriterOptions {
  client: KubeClient;
  logger: Logger;
  policies: HealthPolicyWatch;
  admission: AdmissionRuntime;
  isLeader(): boolean;
  intervalMs?: number;
  now?(): Date;
}

/**
 * The leader writes each HealthPolicy's status (ADR 1601): Ready (accepted and its admission
 * rules registered), observedGeneration, matchedPods and sourceRevision, by server-side apply
 * under its own field manager, so lastAction, budget and SidecarInjection (other writers')
 * stay theirs. A pass runs on a policy change, after each webhook registration and every
 * interval (pods come and go); one pass at a time, at most one queued. Followers never write:
 * with 2 replicas the Lease holder alone does, and a new leader's first pass converges.
 */
export function startPolicyStatusWriter(opts: PolicyStatusWriterOptions): {
  runOnce(): Promise<number>;
  stop(): void;
} {
  const now = opts.now ?? (() => new Date());
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;
  let queued = false;
  let stopped = false;

  const pass = async (): Promise<number> => {
    if (!opts.isLeader()) return 0;
    const policies = opts.policies.list() as LivePolicy[];
    if (policies.length === 0) return 0;
    const counts = await countMatched(opts);
    const revisions = await revisionFinder(opts.client);
    let written = 0;
    for (const p of policies) {
      const { status, changed } = policyStatus(
        p,
        {
          registration: opts.admission.registration(),
          matchedPods: counts.get(p.metadata.name) ?? 0,
          ...(await revisions(p).then((r) => (r ? { sourceRevision: r } : {}))),
        },
        now(),
      );
      if (!changed) continue;
      if (!opts.isLeader()) return written;
      if (await writeStatus(opts, p.metadata.name, status)) written++;
    }
    return written;
  };
  const runOnce = (): Promise<number> => {
    if (running) {
      queued = true;
      return running;
    }
    running = pass()
      .catch((err: unknown) => {
        opts.logger.warn({ err: errorMessage(err) }, 'HealthPolicy status pass failed; retried next pass');
        return 0;
      })
      .finally(() => {
        running = undefined;
        if (queued && !stopped) {
          queued = false;
          void runOnce();
        }
      });
    return running;
  };
  const tick = (): void => {
    if (stopped) return;
    timer = setTimeout(() => void runOnce().finally(tick), opts.intervalMs ?? 15_000);
  };
  opts.policies.forAdmission().onChange(() => void (stopped || runOnce()));
  opts.admission.onRegistration(() => void (stopped || runOnce()));
  tick();
  void runOnce();
  return {
    runOnce,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

async function countMatched(opts: PolicyStatusWriterOptions): Promise<Map<string, number>> {
  const pods: PodMeta[] = [];
  const counts = new Map<string, number>();
  const labels = new Map<string, Record<string, string>>();
  let cont: string | undefined;
  do {
    const page = await opts.client.request<{ items: PodMeta[]; metadata?: { continue?: string } }>({
      method: 'GET',
      path: '/api/v1/pods',
      query: { limit: String(PAGE), ...(cont ? { continue: cont } : {}) },
    });
    pods.length = 0;
    for (const pod of page.items) {
      const ns = pod.metadata?.namespace ?? '';
      if (!labels.has(ns)) labels.set(ns, await opts.admission.namespaceLabels(ns));
      pods.push(pod);
    }
    for (const [k, v] of matchedPodCounts(pods, opts.admission.index(), (ns) => labels.get(ns)))
      counts.set(k, (counts.get(k) ?? 0) + v);
    cont = page.metadata?.continue || undefined;
  } while (cont);
  return counts;
}

/**
 * Where each policy was applied from, per pass: its PolicySource's applied revision (the
 * engine applied it), or the Flux Kustomization's lastAppliedRevision (Flux applied it, in
 * --apply=false). A Kustomization the engine may not read (no Flux, RBAC) gives none.
 */
async function revisionFinder(client: KubeClient): Promise<(p: LivePolicy) => Promise<string | undefined>> {
  const sources = new Map<string, PolicySource>();
  try {
    const list = await client.request<{ items: PolicySource[] }>({
      method: 'GET',
      path: `/apis/${GROUP}/${VERSION}/${PLURAL.PolicySource}`,
    });
    for (const s of list.items) if (s.metadata.name) sources.set(s.metadata.name, s);
  } catch {
    // No revision this pass; the rest of the status is still written.
  }
  const kustomizations = new Map<string, Promise<string | undefined>>();
  return async (p) => {
    const labels = p.metadata.labels ?? {};
    const srcName = labels[SOURCE_LABEL];
    const src = srcName ? sources.get(srcName) : undefined;
    if (src?.status?.lastAppliedRevision) return fluxRevision(src.spec.ref, src.status.lastAppliedRevision);
    const name = labels[FLUX.name];
    const ns = labels[FLUX.namespace];
    if (!name || !ns) return undefined;
    const key = `${ns}/${name}`;
    if (!kustomizations.has(key))
      kustomizations.set(
        key,
        client
          .request<{ status?: { lastAppliedRevision?: string } }>({
            method: 'GET',
            path: `/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/${encodeURIComponent(ns)}/kustomizations/${encodeURIComponent(name)}`,
          })
          .then((k) => k.status?.lastAppliedRevision)
          .catch(() => undefined),
      );
    return kustomizations.get(key);
  };
}

async function writeStatus(opts: PolicyStatusWriterOptions, name: string, status: OwnedStatus): Promise<boolean> {
  try {
    await opts.client.request({
      method: 'PATCH',
      path: `/apis/${GROUP}/${VERSION}/${PLURAL.HealthPolicy}/${encodeURIComponent(name)}/status`,
      query: { fieldManager: POLICY_STATUS_FIELD_MANAGER, force: 'true' },
      contentType: 'application/apply-patch+yaml',
      body: { apiVersion: API_VERSION, kind: KIND.HealthPolicy, metadata: { name }, status },
    });
    opts.logger.debug(
      { policy: name, ready: status.conditions[0]?.status, matchedPods: status.matchedPods },
      'HealthPolicy status written',
    );
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    opts.logger.warn(
      { policy: name, err: errorMessage(err), code: err instanceof KubeApiError ? err.code : undefined },
      'HealthPolicy status not written',
    );
    return false;
  }
}
