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
  /** Only the leader re-registers: with N replicas, one writer (each may have its own endpoint). */
  isLeader(): boolean;
  /** Applies the configurations as the engine wants them (server-side apply, break-glass kept). */
  register(): Promise<void>;
  /** After a deleted configuration is back: what changed while the guard was gone gets re-synced. */
  onRestored?: (what: string) => void;
  logger: Logger;
  registry: Registry;
}

/**
 * Keeps the engine's webhook configurations registered (ADR 1412). Deleting the validating one
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
  const restored = new Counter({
    name: 'bulkhead_admission_webhook_restored_total',
    help: 'Webhook configurations re-registered after someone else deleted or changed them, by kind and event',
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
            logger.warn({ kind, name }, 'webhook configuration was deleted; registered again');
            opts.onRestored?.(`${kind} ${name}`);
          }
        } catch (err) {
          for (const [kind, name] of restoring) deleted.set(kind, name);
          logger.warn({ err: errorMessage(err) }, 'webhook configurations not restored; retried on the next event');
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
  const watches = [
    watch('MutatingWebhookConfiguration', 'mutatingwebhookconfigurations', opts.names.mutating),
    watch('ValidatingWebhookConfiguration', 'validatingwebhookconfigurations', opts.names.validating),
  ];
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
