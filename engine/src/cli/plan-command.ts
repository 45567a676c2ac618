import { mkdtemp, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_ENGINE_NAMESPACE, GROUP, PLURAL, VERSION } from '../core/api/index.js';
import { silentLogger } from '../core/logger.js';
import { KubeClient } from '../core/kube/client.js';
import { loadKubeConfig } from '../core/kube/kubeconfig.js';
import { ResourceResolver } from '../core/kube/resources.js';
import {
  desiredObjects,
  dryRunPlan,
  formatPlanHuman,
  formatPlanJson,
  formatPlanMarkdown,
  hasChanges,
  listLive,
  type SourceRef,
} from '../plan/index.js';
import { loadPolicyDir } from '../policy/index.js';
import {
  admissionPathInUse,
  excludedNamespaces,
  findPodsAwaitingSidecar,
  PolicyIndex,
  WEBHOOK_NAMES,
  type InjectablePolicy,
} from '../admission/index.js';
import { CONTENT_PATHS } from '../apply/index.js';
import { GitSource } from '../source/index.js';
import { EXIT, type CommandRegistrar } from './command.js';

interface PlanFlags {
  source: string;
  ref: string;
  path: string;
  kubeconfig?: string;
  namespace: string;
  sourceName?: string;
  output: 'human' | 'json' | 'markdown';
  forceConflicts: boolean;
}

const isUrl = (s: string): boolean => /^[a-z][a-z0-9+.-]*:\/\//i.test(s) || /^[^/]+@[^:]+:/.test(s);

/**
 * `bulkhead plan`: what a commit would change in a live cluster, computed by server-side
 * apply with dryRun=All (nothing is written). Exit 0 no changes, 3 changes, 1 invalid.
 */
export const registerPlanCommand: CommandRegistrar = (program: Command, setExit) => {
  program
    .command('plan')
    .description('show what a policy checkout or git ref would change in a live cluster (server-side dry run)')
    .option('--source <dir|url>', 'a local checkout, or a git URL to fetch', '.')
    .option('--ref <branch>', 'branch to fetch when --source is a URL', 'main')
    .option('--path <path>', 'folder of the repository holding policies/ (with a URL)', '.')
    .option('--kubeconfig <path>', 'kubeconfig (default: $KUBECONFIG, ~/.kube/config, in-cluster)')
    .option(
      '--namespace <ns>',
      "the engine's namespace, as given to `bulkhead run`: never injected, so its pods are not listed as awaiting a sidecar",
      DEFAULT_ENGINE_NAMESPACE,
    )
    .option(
      '--source-name <name>',
      'the PolicySource whose inventory prunes are computed against (default: the only one in the cluster)',
    )
    .option('--output <format>', 'human | json | markdown (a pull-request comment)', 'human')
    .option('--force-conflicts', 'plan as if conflicts with other field managers were forced', false)
    .action(async (f: PlanFlags) => {
      if (!['human', 'json', 'markdown'].includes(f.output)) {
        process.stderr.write(`--output must be human, json or markdown\n`);
        setExit(EXIT.usage);
        return;
      }
      let dir = f.source;
      let revision: string | undefined;
      let cleanup: string | undefined;
      if (isUrl(f.source)) {
        cleanup = await mkdtemp(join(tmpdir(), 'bulkhead-plan-'));
        const git = new GitSource({
          cacheDir: cleanup,
          logger: silentLogger(),
          env: { path: process.env.PATH ?? '', home: process.env.HOME ?? homedir() },
        });
        const a = await git.fetch({ url: f.source, ref: { branch: f.ref }, path: f.path, contentPaths: CONTENT_PATHS });
        dir = a.dir;
        revision = a.revision;
      }
      try {
        const loaded = await loadPolicyDir(dir);
        const errors = loaded.diagnostics.filter((d) => d.severity === 'error');
        if (errors.length > 0) {
          for (const d of errors)
            process.stderr.write(`${d.file}:${d.line}:${d.column}: error ${d.code}: ${d.message}\n`);
          setExit(EXIT.invalid);
          return;
        }
        const client = new KubeClient(loadKubeConfig(f.kubeconfig));
        try {
          const resolver = new ResourceResolver(client);
          const source = await findSource(client, f.sourceName);
          const sourceName = source.name;
          const desired = desiredObjects(loaded.policies, {
            ...source,
            ...(loaded.settings?.defaults?.mode ? { defaultMode: loaded.settings.defaults.mode } : {}),
          });
          const live = await listLive(client, resolver);
          const plan = await dryRunPlan(client, resolver, desired, live, sourceName, { force: f.forceConflicts });
          // Pods that exist already get no sidecar from these policies until they are recreated.
          // Validated HealthPolicies (their selector maps only look optional in the generated type).
          const index = new PolicyIndex(loaded.policies.map((p) => p.policy) as unknown as InjectablePolicy[], {
            excludedNamespaces: excludedNamespaces(f.namespace),
          });
          // Which path a new pod takes (ADR 1700): what the engine has registered now.
          const admission = await admissionPathInUse(client.kubeConfig, WEBHOOK_NAMES);
          const awaiting = (
            await findPodsAwaitingSidecar(client.kubeConfig, index, {
              image: 'plan',
              version: 'plan',
              reportUrl: 'https://plan.invalid',
            })
          ).map((p) => ({
            namespace: p.namespace,
            pod: p.name,
            policy: p.policy,
            workload: `${p.workload.kind}/${p.workload.name}`,
            rollout: p.restart ? 'Restart' : 'None',
            path: admission.path,
          }));
          if (f.output === 'json') {
            process.stdout.write(
              `${JSON.stringify({ ...(JSON.parse(formatPlanJson(plan, revision)) as object), admissionPath: admission, awaitingSidecar: awaiting }, null, 2)}\n`,
            );
          } else {
            process.stdout.write((f.output === 'markdown' ? formatPlanMarkdown : formatPlanHuman)(plan, revision));
            process.stdout.write(`\nAdmission path for new pods: ${admission.path} (${admission.why})\n`);
            if (awaiting.length > 0) {
              const head =
                f.output === 'markdown'
                  ? '\n#### Existing pods without the sidecar\n\n'
                  : '\nExisting pods without the sidecar (injected only when recreated; rollout: Restart restarts their workload):\n';
              process.stdout.write(
                head +
                  awaiting
                    .map(
                      (a) =>
                        `${f.output === 'markdown' ? '- ' : '  '}${a.namespace}/${a.pod}  policy ${a.policy}  ${a.workload}  rollout: ${a.rollout}  path: ${a.path}`,
                    )
                    .join('\n') +
                  '\n',
              );
            }
          }
          setExit(plan.rejected.length > 0 ? EXIT.invalid : hasChanges(plan) ? EXIT.changes : EXIT.ok);
        } finally {
          client.close();
        }
      } finally {
        if (cleanup) await rm(cleanup, { recursive: true, force: true });
      }
    });
};

type SourceItem = { metadata: { name: string; uid?: string }; spec?: { url?: string } };
const sourceRefOf = (s: SourceItem): SourceRef => ({
  name: s.metadata.name,
  ...(s.metadata.uid ? { uid: s.metadata.uid } : {}),
  ...(s.spec?.url ? { url: s.spec.url } : {}),
});

/** The PolicySource named (or the only one in the cluster), with its uid and url when it exists. */
async function findSource(client: KubeClient, name: string | undefined): Promise<SourceRef> {
  const path = `/apis/${GROUP}/${VERSION}/${PLURAL.PolicySource}`;
  try {
    if (name) {
      const s = await client.request<SourceItem>({ method: 'GET', path: `${path}/${encodeURIComponent(name)}` });
      return sourceRefOf({ ...s, metadata: { ...s.metadata, name } });
    }
    const list = await client.request<{ items: SourceItem[] }>({ method: 'GET', path });
    const only = list.items.length === 1 ? list.items[0] : undefined;
    return only ? sourceRefOf(only) : { name: 'default' };
  } catch {
    return { name: name ?? 'default' };
  }
}
