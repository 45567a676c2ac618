// Webhook configurations (and the admission policies that replace them, issue 17) are
// cluster-scoped and fail closed: one left behind by a test file, pointing at a server that
// test has stopped (or naming a ServiceAccount it deleted), refuses every later write it
// matches in the shared control plane, and the failures then show up in unrelated files.
// So the check runs at each file's end, after that file's own after() hooks and before the
// next file's before() hooks: whatever exists then was left behind by that file. It is named,
// deleted so the rest of the run is not poisoned by one leak, and fails the run at its end.
// (A throw from a hook would skip the tests that follow instead.) No file owns an admission
// object across files, so none is expected at a file boundary.
import { AdmissionregistrationV1Api, KubernetesObjectApi, type KubeConfig } from '@kubernetes/client-node';

type Config = { kind: string; name: string };

/** The generated admission policies and bindings (no typed client for the mutating kinds). */
const POLICY_KINDS = [
  'MutatingAdmissionPolicyBinding',
  'MutatingAdmissionPolicy',
  'ValidatingAdmissionPolicyBinding',
  'ValidatingAdmissionPolicy',
];

async function listConfigs(kc: KubeConfig): Promise<Config[]> {
  const api = kc.makeApiClient(AdmissionregistrationV1Api);
  const objects = KubernetesObjectApi.makeApiClient(kc);
  const [validating, mutating, ...policies] = await Promise.all([
    api.listValidatingWebhookConfiguration(),
    api.listMutatingWebhookConfiguration(),
    ...POLICY_KINDS.map((kind) => objects.list('admissionregistration.k8s.io/v1', kind)),
  ]);
  return [
    ...policies.flatMap((l, i) => l.items.map((c) => ({ kind: POLICY_KINDS[i]!, name: c.metadata!.name! }))),
    ...validating.items.map((c) => ({
      kind: 'ValidatingWebhookConfiguration' as const,
      name: c.metadata!.name!,
    })),
    ...mutating.items.map((c) => ({
      kind: 'MutatingWebhookConfiguration' as const,
      name: c.metadata!.name!,
    })),
  ];
}

async function deleteConfigs(kc: KubeConfig, configs: Config[]): Promise<void> {
  const objects = KubernetesObjectApi.makeApiClient(kc);
  await Promise.all(
    configs.map(({ kind, name }) =>
      objects.delete({ apiVersion: 'admissionregistration.k8s.io/v1', kind, metadata: { name } }),
    ),
  );
}

export function leftoverWebhookCheck(kc: () => KubeConfig, say: (line: string) => void) {
  const leaks: string[] = [];
  const check = async (file: string): Promise<void> => {
    const left = await listConfigs(kc());
    if (left.length === 0) return;
    await deleteConfigs(kc(), left);
    // A deleted admission policy stays enforced until the apiserver's next 1 s policy refresh.
    if (left.some((c) => c.kind.endsWith('Policy') || c.kind.endsWith('PolicyBinding')))
      await new Promise((ok) => setTimeout(ok, 2_000));
    const leak = `${file} left admission objects behind (now deleted): ${left.map((c) => `${c.kind}/${c.name}`).join(', ')}`;
    leaks.push(leak);
    say(leak);
  };
  return {
    /** At a file's end, after its own after() hooks: anything left is that file's leak. */
    afterFile: check,
    /** After the last file (and any root-level hooks): throws if any file leaked. */
    async atEnd(): Promise<void> {
      await check('the run (root-level hooks)');
      if (leaks.length > 0) throw new Error(leaks.join('\n'));
    },
  };
}
