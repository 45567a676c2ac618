import { resolve } from 'node:path';
import type { Command } from 'commander';
import { parseDuration } from '../core/duration.js';
import { errorMessage, isBulkheadError } from '../core/errors.js';
import { KubeClient } from '../core/kube/client.js';
import { loadKubeConfig } from '../core/kube/kubeconfig.js';
import { ResourceResolver } from '../core/kube/resources.js';
import { EXIT, type CommandRegistrar } from './command.js';
import { install } from './install/install.js';
import { DEFAULT_MANIFEST_DIR, ENGINE, renderKustomization, withEngineImage } from './install/manifests.js';
import { Progress } from './install/progress.js';
import { withSidecarImage } from './install/sidecar-image.js';
import { uninstall } from './install/uninstall.js';

interface CommonFlags {
  kubeconfig?: string;
  output: string;
  timeout: string;
  manifests: string;
}
interface InstallFlags extends CommonFlags {
  repo?: string;
  ref?: string;
  path?: string;
  secret?: string;
  interval?: string;
  sourceName: string;
  image?: string;
  sidecarImage?: string;
  dryRun: boolean;
  forceConflicts: boolean;
}
interface UninstallFlags extends CommonFlags {
  crds: boolean;
  leaveManifests: boolean;
}

const out = (line: string): void => {
  process.stdout.write(`${line}\n`);
};
const errLine = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

/** Human output on stdout; with `--output json` the progress goes to stderr and stdout holds one JSON object. */
function outputs(f: CommonFlags): { say: (line: string) => void; json: boolean } {
  if (f.output !== 'human' && f.output !== 'json') throw new Error(`--output must be human or json, got "${f.output}"`);
  return f.output === 'json' ? { say: errLine, json: true } : { say: out, json: false };
}

/**
 * Everything both commands need before their first write: the rendered deploy/, a client for
 * the current context (refusing client-node's silent localhost fallback), and the apiserver's
 * version as proof it answers. Failures here are usage/I-O errors (exit 2).
 */
async function connect(flags: CommonFlags, progress: Progress) {
  const deadline = Date.now() + parseDuration(flags.timeout);
  const dir = resolve(flags.manifests);
  const objects = await progress.step(
    `rendered ${dir}`,
    () => renderKustomization(dir),
    (objs) => `${objs.length} objects`,
  );
  const kc = loadKubeConfig(flags.kubeconfig);
  const client = new KubeClient(kc, { timeoutMs: 15_000 });
  const server = kc.getCurrentCluster()?.server ?? '';
  await progress.step(
    `connected to ${server} (context ${kc.getCurrentContext()})`,
    () => client.request<{ gitVersion?: string }>({ method: 'GET', path: '/version' }),
    (v) => `Kubernetes ${v.gitVersion ?? 'unknown'}`,
  );
  return { objects: objects.map((o) => o.obj), client, resolver: new ResourceResolver(client), deadline };
}

/** A failed step is exit 1 (the cluster refused or did not get ready); setup problems are exit 2. */
function exitCodeFor(err: unknown, connected: boolean): number {
  if (!connected) return EXIT.usage;
  if (isBulkheadError(err) && err.code === 'BH_KUBE_UNREACHABLE') return EXIT.usage;
  return EXIT.invalid;
}

function nextSteps(f: InstallFlags): string[] {
  const rows: [string, string][] = [
    ['kubectl get policysources,healthpolicies,quarantines', 'what the engine syncs and does'],
    [`kubectl -n ${ENGINE.namespace} logs deploy/${ENGINE.deployment}`, "the engine's log"],
    f.repo
      ? [`kubectl get policysource ${f.sourceName} -w`, 'wait for Ready with the synced revision']
      : ['bulkhead install --repo <git url> [--ref <branch>]', 'point the engine at your policy repository'],
    [
      `kubectl -n ${ENGINE.namespace} create secret generic git-credentials --from-literal=token=<token>`,
      'a private repository: then install again with --secret git-credentials',
    ],
    ['bulkhead validate <policy checkout>', 'check policies before you push them'],
    ['bulkhead break-glass on', 'in an incident: every Bulkhead webhook fails open'],
    ['bulkhead uninstall', 'webhooks first, then the engine (CRDs kept unless --crds)'],
  ];
  return ['Next:', ...rows.map(([cmd, why]) => `  ${cmd}\n      ${why}`)];
}

/**
 * `bulkhead install` / `bulkhead uninstall`: put deploy/ on the current kube context with
 * server-side apply and wait for the engine; take it off again, webhooks first.
 * Exit codes: 0 done (also when nothing changed), 1 a step failed (rejected apply, conflict,
 * timeout), 2 usage or connection error.
 */
export const registerInstallCommand: CommandRegistrar = (program: Command, setExit) => {
  program
    .command('install')
    .description(
      'apply deploy/ to the current kube context (server-side apply), create the PolicySource, wait until the engine is Available',
    )
    .option(
      '--repo <url>',
      'policy repository to sync: creates PolicySource <source-name> (https://, ssh:// or file://)',
    )
    .option('--ref <branch>', 'branch of --repo to follow (default: main)')
    .option('--path <dir>', 'folder of --repo holding policies/ and bulkhead.yaml (default: .)')
    .option('--secret <name>', `Secret in ${ENGINE.namespace} with git credentials for --repo`)
    .option(
      '--interval <duration>',
      'how often the engine fetches --repo (PolicySource spec.interval; default 1m; push webhooks make it immediate)',
    )
    .option('--source-name <name>', 'name of the PolicySource created from --repo', 'default')
    .option(
      '--image <ref>',
      'engine image to run instead of the one in deploy/ (e.g. one loaded with kind load docker-image)',
    )
    .option(
      '--sidecar-image <ref>',
      'sidecar image the engine injects instead of the one in deploy/ (e.g. one loaded with kind load docker-image)',
    )
    .option('--kubeconfig <path>', 'kubeconfig (default: $KUBECONFIG, ~/.kube/config)')
    .option('--timeout <duration>', 'give up after this long (whole install)', '5m')
    .option('--dry-run', 'server-side dry run: validate every object on the apiserver, store nothing', false)
    .option('--force-conflicts', 'take fields another field manager owns instead of failing on the conflict', false)
    .option('--manifests <dir>', 'kustomization to apply', DEFAULT_MANIFEST_DIR)
    .option('-o, --output <format>', 'human, or json (progress on stderr, the result as JSON on stdout)', 'human')
    .action(async (f: InstallFlags) => {
      let connected = false;
      let client: KubeClient | undefined;
      let progress = new Progress(errLine);
      try {
        const { say, json } = outputs(f);
        progress = new Progress(say);
        if (
          f.repo === undefined &&
          (f.ref !== undefined || f.path !== undefined || f.secret !== undefined || f.interval !== undefined)
        )
          throw new Error('--ref, --path, --secret and --interval describe --repo: pass --repo too');
        if (f.interval !== undefined) parseDuration(f.interval);
        say(`bulkhead install${f.dryRun ? ' (dry run)' : ''}`);
        const c = await connect(f, progress);
        client = c.client;
        connected = true;
        const engineImage = f.image ? withEngineImage(c.objects, f.image) : c.objects;
        const objects = f.sidecarImage ? withSidecarImage(engineImage, f.sidecarImage) : engineImage;
        const result = await install(
          { client: c.client, resolver: c.resolver, progress },
          {
            objects,
            ...(f.repo
              ? {
                  source: {
                    name: f.sourceName,
                    url: f.repo,
                    ...(f.ref ? { branch: f.ref } : {}),
                    ...(f.path ? { path: f.path } : {}),
                    ...(f.secret ? { secret: f.secret } : {}),
                    ...(f.interval ? { interval: f.interval } : {}),
                  },
                }
              : {}),
            dryRun: f.dryRun,
            force: f.forceConflicts,
            deadline: c.deadline,
          },
        );
        if (json) out(JSON.stringify({ dryRun: f.dryRun, ...result }));
        if (f.dryRun) {
          const skipped = result.applied.filter((r) => r.outcome === 'skipped').length;
          say(
            `Dry run passed in ${progress.total()}: the apiserver accepted ${result.applied.length - skipped} objects` +
              `${skipped > 0 ? `; ${skipped} could not be checked before the namespace or CRDs they need exist` : ''}; nothing was stored.`,
          );
        } else {
          say(
            `Bulkhead is installed and Ready (${result.ready?.ready ?? 0}/${result.ready?.replicas ?? 0} engine replicas) in ${progress.total()}.`,
          );
          for (const l of nextSteps(f)) say(l);
        }
        setExit(EXIT.ok);
      } catch (err) {
        if (!connected) process.stderr.write(`error: ${errorMessage(err)}\n`);
        else
          process.stderr.write(
            `install failed after ${progress.total()}; run it again once the cause is fixed (it is idempotent)\n`,
          );
        setExit(exitCodeFor(err, connected));
      } finally {
        client?.close();
      }
    });

  program
    .command('uninstall')
    .description(
      'remove Bulkhead: webhook configurations first, then the engine, its namespace and RBAC; the CRDs only with --crds',
    )
    .option(
      '--crds',
      'also delete the CRDs, and with them EVERY HealthPolicy, Quarantine and PolicySource in the cluster',
      false,
    )
    .option(
      '--leave-manifests',
      "only what the engine made: webhooks, the engine scaled to 0, its runtime objects; leave deploy/'s objects (Helm's pre-delete hook)",
      false,
    )
    .option('--kubeconfig <path>', 'kubeconfig (default: $KUBECONFIG, ~/.kube/config)')
    .option('--timeout <duration>', 'give up after this long', '5m')
    .option('--manifests <dir>', 'kustomization that was installed', DEFAULT_MANIFEST_DIR)
    .option('-o, --output <format>', 'human, or json (progress on stderr, the result as JSON on stdout)', 'human')
    .action(async (f: UninstallFlags) => {
      let connected = false;
      let client: KubeClient | undefined;
      let progress = new Progress(errLine);
      try {
        const { say, json } = outputs(f);
        progress = new Progress(say);
        if (f.crds && f.leaveManifests)
          throw new Error('--crds deletes manifests that --leave-manifests leaves: pass one');
        say('bulkhead uninstall');
        const c = await connect(f, progress);
        client = c.client;
        connected = true;
        const result = await uninstall(
          { client: c.client, resolver: c.resolver, progress },
          { objects: c.objects, crds: f.crds, leaveManifests: f.leaveManifests, deadline: c.deadline },
        );
        if (json) out(JSON.stringify(result));
        if (f.leaveManifests) {
          say(
            `The engine is stopped and no Bulkhead webhook configuration is left (${progress.total()}); deploy/'s objects are left to their installer.`,
          );
          setExit(EXIT.ok);
          return;
        }
        say(`Bulkhead is uninstalled (${progress.total()}); no Bulkhead webhook configuration is left.`);
        const kept = Object.entries(result.kept);
        if (!f.crds && (result.kept.quarantines ?? 0) > 0)
          say(
            'Quarantined pods stay detached and labelled, but their isolation NetworkPolicy is gone: delete them once forensics are done.',
          );
        if (!f.crds) {
          say(
            `Kept the CRDs${kept.length > 0 ? ` and ${kept.map(([k, n]) => `${n} ${k}`).join(', ')}` : ''}; \`bulkhead uninstall --crds\` deletes them (and every such object).`,
          );
        }
        setExit(EXIT.ok);
      } catch (err) {
        if (!connected) process.stderr.write(`error: ${errorMessage(err)}\n`);
        else process.stderr.write(`uninstall failed after ${progress.total()}; run it again (it is idempotent)\n`);
        setExit(exitCodeFor(err, connected));
      } finally {
        client?.close();
      }
    });
};
