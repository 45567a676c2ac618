import type { KubeConfig, KubernetesListObject, KubernetesObject } from '@kubernetes/client-node';
import { Counter, type Registry } from 'prom-client';
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
 * on a delete re-registers at once; on any other change re-applies, so an edit (a rule
 * removed, failurePolicy flipped without break-glass) is taken back. A server-side apply that
 * changes nothing writes nothing and sends no event, so this never loops.
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
  const reapply = (kind: string, event: string, name: string): void => {
    if (!opts.isLeader()) return;
    if (running) {
      again = true;
      return;
    }
    running = (async () => {
      do {
        again = false;
        try {
          await opts.register();
          if (event === 'delete') {
            restored.inc({ kind, event });
            logger.warn({ kind, name }, 'webhook configuration was deleted; registered again');
            opts.onRestored?.(`${kind} ${name}`);
          }
        } catch (err) {
          logger.warn(
            { err: errorMessage(err), kind, name },
            'webhook configuration not restored; retried on the next event',
          );
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
        // Our own apply after a change is seen too; it is a no-op the second time.
        if (ev === 'add') return;
        if (ev === 'update' && obj.metadata?.deletionTimestamp) return;
        reapply(kind, ev, name);
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
