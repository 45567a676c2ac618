import type { KubeConfig, KubernetesListObject, KubernetesObject } from '@kubernetes/client-node';
import { Counter, type Registry } from 'prom-client';
import { FIELD_MANAGER } from '../core/kube/apply.js';
import { KubeClient } from '../core/kube/client.js';
import { startInformer, type WatchedResource } from '../core/kube/informer.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';

export interface WebhookKeeperOptions {
  kubeConfig: KubeConfig;
  names: { mutating: string; validating: string };
  /**
   * What to keep: the webhook configurations (default), or on the policy path the generated
   * admission policies and their bindings (ADR 1700). Never both: the path not in use is
   * removed on purpose, and restoring it would undo that.
   */
  objects?: readonly KeptObject[];
  /** Only the leader re-registers: with N replicas, one writer (each may have its own endpoint). */
  isLeader(): boolean;
  /** Applies the configurations as the engine wants them (server-side apply, break-glass kept). */
  register(): Promise<void>;
  /** After a deleted configuration is back: what changed while the guard was gone gets re-synced. */
  onRestored?: (what: string) => void;
  logger: Logger;
  registry: Registry;
}

/** One object kept registered: its kind, its admissionregistration.k8s.io/v1 plural, its name. */
export interface KeptObject {
  kind: string;
  plural: string;
  name: string;
}

/** The webhook path's two configurations. */
export function webhookObjects(names: { mutating: string; validating: string }): KeptObject[] {
  return [
    { kind: 'MutatingWebhookConfiguration', plural: 'mutatingwebhookconfigurations', name: names.mutating },
    { kind: 'ValidatingWebhookConfiguration', plural: 'validatingwebhookconfigurations', name: names.validating },
  ];
}

/** The policy path's four objects (ADR 1700): each policy and its binding share the webhook's name. */
export function admissionPolicyObjects(names: { mutating: string; validating: string }): KeptObject[] {
  return [
    { kind: 'MutatingAdmissionPolicy', plural: 'mutatingadmissionpolicies', name: names.mutating },
    { kind: 'MutatingAdmissionPolicyBinding', plural: 'mutatingadmissionpolicybindings', name: names.mutating },
    // The injection's warnings: a Warn-only validating policy, named as the injection.
    { kind: 'ValidatingAdmissionPolicy', plural: 'validatingadmissionpolicies', name: names.mutating },
    { kind: 'ValidatingAdmissionPolicyBinding', plural: 'validatingadmissionpolicybindings', name: names.mutating },
    { kind: 'ValidatingAdmissionPolicy', plural: 'validatingadmissionpolicies', name: names.validating },
    { kind: 'ValidatingAdmissionPolicyBinding', plural: 'validatingadmissionpolicybindings', name: names.validating },
  ];
}

const RESTORED_METRIC = 'bulkhead_admission_webhook_restored_total';

/**
 * Keeps the engine's webhook configurations (or, on the policy path, its admission policies and
 * bindings) registered (ADR 1412). Deleting the validating one
 * turns the GitOps guard off until something registers it again: the engine watches both by
 * name (RBAC `list`/`watch` limited to the two names, which needs the name field selector) and
 * on a delete re-registers at once; on a change someone else made (the newest managedFields
 * entry is not Bulkhead's) re-applies, so an edit (a rule removed, failurePolicy flipped
 * without break-glass) is taken back. Changes Bulkhead made itself start nothing, so the
 * watch and the registration never feed each other.
 */
export function keepWebhooksRegistered(opts: WebhookKeeperOptions): { stop(): Promise<void> } {
  const { logger } = opts;
  const client = new KubeClient(opts.kubeConfig);
  // One counter per registry, not per keeper: auto's switch of path (ADR 1700) starts a new
  // keeper in the same process, and a second registration of the name throws, which left the
  // switch half done (found on real nodes: no injection after a switch to the webhook path).
  const restored =
    (opts.registry.getSingleMetric(RESTORED_METRIC) as Counter<'kind' | 'event'> | undefined) ??
    new Counter({
      name: RESTORED_METRIC,
      help: 'Webhook configurations (or admission policies and bindings) re-registered after someone else deleted or changed them, by kind and event',
      labelNames: ['kind', 'event'],
      registers: [opts.registry],
    });
  let running: Promise<void> | undefined;
  let again = false;
  /** Deleted configurations seen since the last registration: said once each, after it. */
  const deleted = new Map<string, string>();
  const reapply = (): void => {
    if (!opts.isLeader()) return;
    if (running) {
      again = true;
      return;
    }
    running = (async () => {
      do {
        again = false;
        const restoring = [...deleted];
        deleted.clear();
        try {
          await opts.register();
          for (const [kind, name] of restoring) {
            restored.inc({ kind, event: 'delete' });
            logger.warn({ kind, name }, 'admission configuration was deleted; registered again');
            opts.onRestored?.(`${kind} ${name}`);
          }
        } catch (err) {
          for (const [kind, name] of restoring) deleted.set(kind, name);
          logger.warn({ err: errorMessage(err) }, 'admission configurations not restored; retried on the next event');
        }
      } while (again);
    })().finally(() => (running = undefined));
  };
  const watch = (kind: string, plural: string, name: string): WatchedResource<KubernetesObject> => {
    const collection = `/apis/admissionregistration.k8s.io/v1/${plural}`;
    const fieldSelector = `metadata.name=${name}`;
    return startInformer<KubernetesObject>({
      kubeConfig: opts.kubeConfig,
      // client-node's informer takes no field selector: it rides in the path of the watch.
      path: `${collection}?fieldSelector=${encodeURIComponent(fieldSelector)}`,
      resource: plural,
      logger,
      list: () =>
        client.request<KubernetesListObject<KubernetesObject>>({
          method: 'GET',
          path: collection,
          query: { fieldSelector },
        }),
      onEvent: (ev, obj) => {
        if (ev === 'add') return; // the first list, and our own re-create
        if (ev === 'delete') deleted.set(kind, name);
        // An update is someone else's edit only if they wrote last: our own writes (the
        // registration, the CA rotation's caBundle patch) must not start another round.
        else if (lastWriter(obj).startsWith(FIELD_MANAGER)) return;
        else restored.inc({ kind, event: 'update' });
        reapply();
      },
    });
  };
  const watches = (opts.objects ?? webhookObjects(opts.names)).map((o) => watch(o.kind, o.plural, o.name));
  return {
    async stop() {
      await Promise.all(watches.map((w) => w.stop()));
      await running;
      client.close();
    },
  };
}

/** The manager of the newest managedFields entry: who wrote the object last. */
function lastWriter(obj: KubernetesObject): string {
  const entries = [...(obj.metadata?.managedFields ?? [])].sort((a, b) =>
    String(a.time ?? '').localeCompare(String(b.time ?? '')),
  );
  return entries.at(-1)?.manager ?? '';
}
