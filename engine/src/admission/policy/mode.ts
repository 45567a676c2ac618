import { AdmissionregistrationV1Api, KubernetesObjectApi, type KubeConfig } from '@kubernetes/client-node';
import type { InjectablePolicy } from '../inject/policy.js';

/** `--admission`: how pods are injected and Bulkhead's objects guarded (ADR 1700). */
export type AdmissionModeFlag = 'auto' | 'policy' | 'webhook';
export type AdmissionMode = 'policy' | 'webhook';
export const ADMISSION_MODES: readonly AdmissionModeFlag[] = ['auto', 'policy', 'webhook'];

/** What the apiserver must serve for the policy path: both kinds and their bindings, GA. */
export const POLICY_RESOURCES = [
  'mutatingadmissionpolicies',
  'mutatingadmissionpolicybindings',
  'validatingadmissionpolicies',
  'validatingadmissionpolicybindings',
] as const;

export interface ModeChoice {
  mode: AdmissionMode;
  /**
   * `auto` on a cluster that serves the policy path: the runtime still takes the webhook while a
   * policy needs what only the webhook does (webhookOnly).
   */
  auto?: boolean;
  /** One line for the log and `bulkhead plan`. */
  why: string;
}

/** Pure: the mode for a flag and the resources admissionregistration.k8s.io/v1 serves. */
export function chooseMode(flag: AdmissionModeFlag, served: readonly string[] | undefined): ModeChoice {
  const missing = POLICY_RESOURCES.filter((r) => !served?.includes(r));
  if (flag === 'webhook') return { mode: 'webhook', why: '--admission=webhook' };
  if (flag === 'policy') {
    if (missing.length > 0)
      throw new Error(
        `--admission=policy, but the API server does not serve admissionregistration.k8s.io/v1 ${missing.join(', ')} ` +
          `(Kubernetes 1.36+ serves them by default); use --admission=auto or webhook`,
      );
    return { mode: 'policy', why: '--admission=policy' };
  }
  return missing.length === 0
    ? {
        mode: 'policy',
        auto: true,
        why: 'auto: the API server serves MutatingAdmissionPolicy and ValidatingAdmissionPolicy v1',
      }
    : {
        mode: 'webhook',
        why: `auto: the API server does not serve admissionregistration.k8s.io/v1 ${missing.join(', ')}`,
      };
}

/** Asks discovery which admissionregistration.k8s.io/v1 resources the API server serves. */
export async function servedAdmissionResources(kc: KubeConfig): Promise<string[]> {
  const list = await kc.makeApiClient(AdmissionregistrationV1Api).getAPIResources();
  return list.resources.map((r) => r.name);
}

export async function resolveAdmissionMode(kc: KubeConfig, flag: AdmissionModeFlag): Promise<ModeChoice> {
  if (flag === 'webhook') return chooseMode(flag, undefined);
  return chooseMode(flag, await servedAdmissionResources(kc));
}

export interface PathInUse {
  path: AdmissionMode | 'none';
  /** One line: what is registered, so what the apiserver does with a new pod. */
  why: string;
}

/**
 * Which admission path the cluster uses now, read from what is registered under the engine's
 * names (`bulkhead plan`): the injection policy's binding, else the mutating webhook
 * configuration. An object the caller may not read, or a kind not served, counts as absent.
 */
export async function admissionPathInUse(kc: KubeConfig, names: { mutating: string }): Promise<PathInUse> {
  const objects = KubernetesObjectApi.makeApiClient(kc);
  const exists = async (kind: string): Promise<boolean> =>
    objects.read({ apiVersion: 'admissionregistration.k8s.io/v1', kind, metadata: { name: names.mutating } }).then(
      () => true,
      () => false,
    );
  if (await exists('MutatingAdmissionPolicyBinding'))
    return {
      path: 'policy',
      why: `MutatingAdmissionPolicy ${names.mutating} is registered: the apiserver injects new pods itself, without calling the engine`,
    };
  if (await exists('MutatingWebhookConfiguration'))
    return {
      path: 'webhook',
      why: `MutatingWebhookConfiguration ${names.mutating} is registered: the apiserver asks the engine's /mutate for new pods`,
    };
  return { path: 'none', why: `neither path is registered under ${names.mutating}: is the engine running?` };
}

/**
 * Pure: the policies that need the webhook path, and why (ADR 1700). `replacement.avoidNode:
 * AntiAffinity` keeps an owner's new pods off a quarantined pod's node, from the engine's live
 * Quarantine watch: a generated policy would carry it only as of its last generation.
 */
export function webhookOnly(policies: readonly InjectablePolicy[]): string[] {
  return policies
    .filter((p) => p.spec.action?.replacement?.avoidNode === 'AntiAffinity')
    .map((p) => `${p.metadata.name}: replacement.avoidNode AntiAffinity`);
}
