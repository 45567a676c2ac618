import { AdmissionregistrationV1Api, type KubeConfig } from '@kubernetes/client-node';

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
    ? { mode: 'policy', why: 'auto: the API server serves MutatingAdmissionPolicy and ValidatingAdmissionPolicy v1' }
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
