import type { Processor } from './app.js';
import { decideGuard, type GuardConfig } from './guard/guard.js';
import { decideInjection, type PodLike, type SidecarSettings } from './inject/patch.js';
import type { PolicyIndex } from './inject/policy-index.js';
import type { Labels } from './inject/selector.js';
import { avoidNodesPatch, controllerUid } from './placement.js';
import { allow, deny } from './review.js';

export interface MutateDeps {
  /** The current index; undefined until policies are loaded (then nothing is injected). */
  policies: () => PolicyIndex | undefined;
  /** Labels of a namespace (the AdmissionRequest does not carry them). */
  namespaceLabels: (namespace: string) => Labels | Promise<Labels>;
  sidecar: SidecarSettings;
  /**
   * Nodes new pods of an owner must avoid (a quarantined pod's node, when its policy says
   * replacement.avoidNode: AntiAffinity). Applied to every pod this webhook admits, injected
   * or not.
   */
  avoidNodes?: (namespace: string, ownerUid: string) => readonly string[];
}

/** /mutate: pod CREATE → injection patch; anything else passes unchanged. */
export function createMutateProcessor(deps: MutateDeps): Processor {
  return async (req) => {
    if (req.kind.kind !== 'Pod' || req.kind.group !== '' || req.operation !== 'CREATE' || req.subResource) {
      return {
        outcome: 'unchanged',
        response: allow(req.uid),
        note: `${req.operation} ${req.kind.kind} is not injected`,
      };
    }
    const index = deps.policies();
    if (!index) return { outcome: 'unchanged', response: allow(req.uid), note: 'policies not loaded yet' };
    const namespace = req.namespace ?? '';
    const pod = (req.object ?? {}) as PodLike;
    // Only ask for labels when a label-selecting policy could care; excluded namespaces never.
    const labels = index.isExcluded(namespace) ? undefined : await deps.namespaceLabels(namespace);
    const decision = decideInjection(pod, namespace, labels, index, deps.sidecar);
    const owner = controllerUid(pod);
    const avoid = owner && deps.avoidNodes ? deps.avoidNodes(namespace, owner) : [];
    const placement = avoidNodesPatch(pod.spec as never, avoid);
    if (placement && !decision.inject) {
      return {
        outcome: 'patched',
        note: `kept off node(s) ${avoid.join(', ')} (${decision.reason})`,
        response: allow(req.uid, {
          patchType: 'JSONPatch',
          patch: Buffer.from(JSON.stringify([placement])).toString('base64'),
        }),
      };
    }
    if (!decision.inject) {
      // Matched but not injectable (e.g. fromPod without a readinessProbe): tell the user why,
      // as an admission warning kubectl prints. Unmatched pods get no warning.
      const warn =
        decision.policies.length > 0 ? { warnings: [`bulkhead: no sidecar injected: ${decision.reason}`] } : {};
      return { outcome: 'unchanged', response: allow(req.uid, warn), note: decision.reason };
    }
    return {
      outcome: 'patched',
      note: `injected ${decision.policy}${decision.explanation ? ` (${decision.explanation})` : ''}${placement ? `; kept off node(s) ${avoid.join(', ')}` : ''}`,
      response: allow(req.uid, {
        patchType: 'JSONPatch',
        patch: Buffer.from(JSON.stringify([...decision.patch, ...(placement ? [placement] : [])])).toString('base64'),
        auditAnnotations: { policy: decision.policy },
      }),
    };
  };
}

export interface ValidateDeps {
  guard: GuardConfig;
  /** Whether break-glass is on; read lazily, only when a write would be denied. */
  breakGlass: () => boolean | Promise<boolean>;
  /** The engine's PolicySource (url, path), for a denial of an object that names no source; read lazily. */
  defaultSource?: () => Promise<{ repo: string; path: string } | undefined>;
}

/** /validate: the GitOps guard. */
export function createValidateProcessor(deps: ValidateDeps): Processor {
  return async (req) => {
    let decision = decideGuard(req, deps.guard, { breakGlass: false });
    if (!decision.allowed && (await deps.breakGlass())) decision = decideGuard(req, deps.guard, { breakGlass: true });
    if (decision.allowed) return { outcome: 'allowed', response: allow(req.uid), note: decision.reason };
    if (decision.reason === 'ManagedInGit' && deps.defaultSource) {
      const defaultSource = await deps.defaultSource().catch(() => undefined);
      if (defaultSource) decision = decideGuard(req, deps.guard, { breakGlass: false, defaultSource });
    }
    return {
      outcome: 'denied',
      response: deny(req.uid, 403, 'Forbidden', decision.message),
      note: `${decision.reason}: ${req.userInfo.username ?? '?'}`,
    };
  };
}
