// Webhook configurations (and the admission policies that replace them, issue 17) are
// cluster-scoped and fail closed: one left behind by a test file,
// pointing at a server that test has stopped, refuses every later write it matches in the
// shared control plane, and the failures then show up in unrelated files. A configuration
// seen after a file's last test that still exists when the next file's first test starts
// (the previous file's after() hooks have all run by then) was left behind by that file: it
// is named, deleted so the rest of the run is not poisoned by one leak, and fails the run at
// its end. (A throw from a root hook would skip every test that follows instead.)
import { AdmissionregistrationV1Api, KubernetesObjectApi, type KubeConfig } from '@kubernetes/client-node';

type Config = { kind: string; name: string; uid: string };

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
    ...policies.flatMap((l, i) =>
      l.items.map((c) => ({ kind: POLICY_KINDS[i]!, name: c.metadata!.name!, uid: c.metadata!.uid! })),
    ),
    ...validating.items.map((c) => ({
      kind: 'ValidatingWebhookConfiguration' as const,
      name: c.metadata!.name!,
      uid: c.metadata!.uid!,
    })),
    ...mutating.items.map((c) => ({
      kind: 'MutatingWebhookConfiguration' as const,
      name: c.metadata!.name!,
      uid: c.metadata!.uid!,
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
  let file: string | undefined;
  let seenAfterLastTest: Config[] = [];
  const leaks: string[] = [];
  const check = async (): Promise<void> => {
    if (file === undefined || seenAfterLastTest.length === 0) return;
    const now = new Set((await listConfigs(kc())).map((c) => c.uid));
    const left = seenAfterLastTest.filter((c) => now.has(c.uid));
    if (left.length === 0) return;
    await deleteConfigs(kc(), left);
    const leak = `${file} left webhook configurations behind (now deleted): ${left.map((c) => `${c.kind}/${c.name}`).join(', ')}`;
    leaks.push(leak);
    say(leak);
  };
  return {
    /** Root beforeEach: on the first test of a new file, blame the previous file's leftovers. */
    async beforeTest(testFile: string | undefined): Promise<void> {
      if (testFile === file) return;
      await check();
      file = testFile;
      seenAfterLastTest = [];
    },
    /** Root afterEach: what exists after this test (the last one of a file is what counts). */
    async afterTest(): Promise<void> {
      seenAfterLastTest = await listConfigs(kc());
    },
    /**
     * After the last test. The last file's after() hooks have run by the global teardown, so
     * what it still holds is a leak too. Throws if any file leaked.
     */
    async atEnd(): Promise<void> {
      await check();
      if (leaks.length > 0) throw new Error(leaks.join('\n'));
    },
  };
}
