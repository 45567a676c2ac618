import type { Logger } from '../logger.js';
import type { KubeClient } from './client.js';
import type { KubeMetrics } from './metrics.js';
import { errorMessage } from '../errors.js';

export interface InvolvedObject {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
  uid?: string;
}

export type EventType = 'Normal' | 'Warning';

/**
 * Writes core/v1 Events. It does not decide WHEN: reconcilers call it from their summarizer
 * on a condition transition only, so a resync loop never floods the Event stream. Events of
 * cluster-scoped objects go to `clusterScopedNamespace` ("default", where `kubectl describe`
 * looks for them). A failed Event write is logged, never fatal.
 */
export class EventRecorder {
  constructor(
    private readonly client: KubeClient,
    private readonly opts: {
      component: string;
      instance: string;
      clusterScopedNamespace?: string;
      logger: Logger;
      metrics?: KubeMetrics;
    },
  ) {}

  async emit(obj: InvolvedObject, type: EventType, reason: string, message: string): Promise<void> {
    const namespace = obj.namespace ?? this.opts.clusterScopedNamespace ?? 'default';
    const now = new Date();
    const body = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { generateName: `${obj.name}.`, namespace },
      involvedObject: {
        apiVersion: obj.apiVersion,
        kind: obj.kind,
        name: obj.name,
        ...(obj.namespace ? { namespace: obj.namespace } : {}),
        ...(obj.uid ? { uid: obj.uid } : {}),
      },
      type,
      reason,
      // Event messages are capped by the apiserver at 1 KiB.
      message: message.length > 1000 ? `${message.slice(0, 997)}...` : message,
      source: { component: this.opts.component },
      reportingComponent: this.opts.component,
      reportingInstance: this.opts.instance,
      firstTimestamp: now.toISOString(),
      lastTimestamp: now.toISOString(),
      count: 1,
    };
    try {
      await this.client.request({
        method: 'POST',
        path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/events`,
        body,
      });
      this.opts.metrics?.eventsEmitted.inc({ type, reason });
    } catch (err) {
      this.opts.logger.warn({ err: errorMessage(err), reason }, 'could not write Event');
    }
  }
}
