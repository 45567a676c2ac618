import { KubernetesObjectApi, PatchStrategy, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { BREAK_GLASS_ANNOTATION } from '../break-glass.js';
import type {
  InjectionWarningBinding,
  InjectionWarningPolicy,
  MutatingAdmissionPolicy,
  MutatingAdmissionPolicyBinding,
} from './inject-policy.js';
import type { ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding } from './guard-policy.js';

export type AdmissionPolicyObject =
  | MutatingAdmissionPolicy
  | MutatingAdmissionPolicyBinding
  | InjectionWarningPolicy
  | InjectionWarningBinding
  | ValidatingAdmissionPolicy
  | ValidatingAdmissionPolicyBinding;

const code = (e: unknown): number | undefined => (e as { code?: number }).code;

/**
 * Applies the generated admission policies and bindings (server-side apply, field manager
 * `bulkhead`), policies before their bindings. While break-glass is on, a guard binding keeps
 * the action the switch gave it (Warn), as registerWebhooks keeps Ignore.
 */
export async function registerAdmissionPolicies(
  kc: KubeConfig,
  objects: readonly AdmissionPolicyObject[],
): Promise<void> {
  const api = KubernetesObjectApi.makeApiClient(kc);
  for (const obj of objects) {
    let desired: AdmissionPolicyObject = obj;
    if (obj.kind === 'ValidatingAdmissionPolicyBinding' && (obj.spec.validationActions as string[]).includes('Deny')) {
      try {
        const live = (await api.read({
          apiVersion: obj.apiVersion,
          kind: obj.kind,
          metadata: { name: obj.metadata.name },
        })) as KubernetesObject & ValidatingAdmissionPolicyBinding;
        if (live.metadata?.annotations?.[BREAK_GLASS_ANNOTATION] === 'on')
          desired = { ...obj, spec: { ...obj.spec, validationActions: live.spec.validationActions } };
      } catch (e) {
        if (code(e) !== 404) throw e;
      }
    }
    await api.patch(
      desired as unknown as KubernetesObject,
      undefined,
      undefined,
      'bulkhead',
      true,
      PatchStrategy.ServerSideApply,
    );
  }
}

/** Deletes objects by kind and name (bindings first); an absent one is done already. */
export async function deleteAdmissionObjects(
  kc: KubeConfig,
  refs: readonly { apiVersion: string; kind: string; name: string }[],
): Promise<string[]> {
  const api = KubernetesObjectApi.makeApiClient(kc);
  const deleted: string[] = [];
  for (const r of refs) {
    try {
      await api.delete({ apiVersion: r.apiVersion, kind: r.kind, metadata: { name: r.name } });
      deleted.push(`${r.kind}/${r.name}`);
    } catch (e) {
      if (code(e) !== 404) throw e;
    }
  }
  return deleted;
}

/**
 * The admission-policy objects, named as the webhook configurations they replace, bindings
 * first (the order to delete them).
 */
export function policyRefs(names: {
  mutating: string;
  validating: string;
}): { apiVersion: string; kind: string; name: string }[] {
  const v = 'admissionregistration.k8s.io/v1';
  return [
    { apiVersion: v, kind: 'MutatingAdmissionPolicyBinding', name: names.mutating },
    { apiVersion: v, kind: 'MutatingAdmissionPolicy', name: names.mutating },
    // The injection's warnings (a Warn-only validating policy named as the injection).
    { apiVersion: v, kind: 'ValidatingAdmissionPolicyBinding', name: names.mutating },
    { apiVersion: v, kind: 'ValidatingAdmissionPolicy', name: names.mutating },
    { apiVersion: v, kind: 'ValidatingAdmissionPolicyBinding', name: names.validating },
    { apiVersion: v, kind: 'ValidatingAdmissionPolicy', name: names.validating },
  ];
}

/** The webhook configurations of one set of names. */
export function webhookRefs(names: {
  mutating: string;
  validating: string;
}): { apiVersion: string; kind: string; name: string }[] {
  const v = 'admissionregistration.k8s.io/v1';
  return [
    { apiVersion: v, kind: 'MutatingWebhookConfiguration', name: names.mutating },
    { apiVersion: v, kind: 'ValidatingWebhookConfiguration', name: names.validating },
  ];
}
