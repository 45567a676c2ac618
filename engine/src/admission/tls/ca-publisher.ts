import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../../core/logger.js';
import { SIDECAR_CA_CONFIGMAP } from '../sidecar-env.js';

/**
 * Sidecars trust the engine through `BULKHEAD_CA_PATH`, projected from the ConfigMap
 * `bulkhead-ca` in their own namespace (a pod can only mount its namespace's ConfigMaps). This
 * keeps that ConfigMap, in every namespace a policy selects, equal to the current CA bundle,
 * so a CA rotation reaches running sidecars (the kubelet refreshes projected ConfigMaps).
 * Only changed or missing ConfigMaps are written; errors are per namespace and logged. Every
 * replica publishes what it read from the Secret: a create or replace that loses to another
 * replica (409) is left to that one, and the next pass compares again.
 */
export async function publishCaConfigMaps(
  kc: KubeConfig,
  namespaces: readonly string[],
  bundle: string,
  logger: Logger,
): Promise<number> {
  const core = kc.makeApiClient(CoreV1Api);
  let written = 0;
  for (const namespace of namespaces) {
    try {
      let current: { data?: Record<string, string>; metadata?: { resourceVersion?: string } } | undefined;
      try {
        current = await core.readNamespacedConfigMap({ namespace, name: SIDECAR_CA_CONFIGMAP });
      } catch (e) {
        if ((e as { code?: number }).code !== 404) throw e;
      }
      if (current?.data?.['ca.crt'] === bundle) continue;
      const body = {
        metadata: {
          name: SIDECAR_CA_CONFIGMAP,
          namespace,
          labels: { 'app.kubernetes.io/managed-by': 'bulkhead', 'app.kubernetes.io/component': 'admission' },
          ...(current?.metadata?.resourceVersion ? { resourceVersion: current.metadata.resourceVersion } : {}),
        },
        data: { 'ca.crt': bundle },
      };
      if (current) await core.replaceNamespacedConfigMap({ namespace, name: SIDECAR_CA_CONFIGMAP, body });
      else await core.createNamespacedConfigMap({ namespace, body });
      written++;
    } catch (err) {
      if ((err as { code?: number }).code === 409) {
        logger.debug({ namespace }, 'another replica wrote the CA bundle ConfigMap first');
        continue;
      }
      logger.warn({ err, namespace }, 'could not publish the CA bundle ConfigMap; retrying on the next pass');
    }
  }
  return written;
}

/**
 * Publishes the CA bundle into namespaces as they appear (on the namespace watch's events,
 * not only on the next tick), coalesced: names that arrive while a pass runs are taken by the
 * next one. The queue is a set, so it holds at most one entry per namespace of the cluster.
 * Each pass asks `bundle()` first, which re-reads the Secret, so a replica that has not
 * ticked since a rotation publishes the current bundle, not its old one.
 */
export class NamespaceCaPublisher {
  private readonly pending = new Set<string>();
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly deps: {
      bundle(): Promise<string | undefined>;
      publish(namespaces: string[], bundle: string): Promise<unknown>;
      logger: Logger;
    },
  ) {}

  add(namespace: string): void {
    if (this.stopped) return;
    this.pending.add(namespace);
    this.running ??= this.drain();
  }

  /** Resolves when nothing is pending (tests, shutdown). */
  idle(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.pending.clear();
    await this.idle();
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending.size > 0 && !this.stopped) {
        const batch = [...this.pending];
        this.pending.clear();
        const bundle = await this.deps.bundle();
        if (bundle) await this.deps.publish(batch, bundle);
      }
    } catch (err) {
      // The periodic pass publishes to every selected namespace anyway.
      this.deps.logger.warn({ err }, 'could not publish the CA bundle to new namespaces; the next pass will');
    } finally {
      this.running = undefined;
    }
  }
}
