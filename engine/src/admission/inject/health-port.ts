import type { ContainerLike } from './probe-target.js';

/** Annotation on a pod: the sidecar's /healthz port (a number; "0" turns /healthz and its liveness probe off). */
export const HEALTH_PORT_ANNOTATION = 'bulkhead.dev/sidecar-health-port';
/** Where the search for a free health port starts (and the sidecar's default). */
export const DEFAULT_HEALTH_PORT = 9901;
export const HEALTH_PORT_SEARCH_END = 9999;

export interface HealthPortChoice {
  /** 0: no health server, no liveness probe. */
  port: number;
  why: string;
}

/**
 * The sidecar's health port for this pod. Every port the pod declares (containerPort,
 * hostPort) or probes is taken; the first free one from 9901 up is the sidecar's. The
 * sidecar starts before the app (native sidecar), so a clash with a port the app uses but does
 * not declare would break the app, not us: the annotation moves it. hostNetwork pods get none,
 * as their port would be the node's and clash across pods on the node.
 */
export function chooseHealthPort(
  annotations: Record<string, string>,
  containers: readonly ContainerLike[],
  hostNetwork: boolean,
): HealthPortChoice {
  const asked = annotations[HEALTH_PORT_ANNOTATION];
  // Plain digits only, as the generated admission policy reads it (ADR 1700): "0x10" or "1e3"
  // are not ports anyone means, and both paths must choose the same port.
  if (asked !== undefined && /^\d{1,5}$/.test(asked)) {
    const n = Number(asked);
    if (n <= 65535) return { port: n, why: `${HEALTH_PORT_ANNOTATION}: "${asked}"` };
  }
  if (hostNetwork) return { port: 0, why: 'hostNetwork pod: no health port (it would be the node port)' };
  const taken = new Set<number>();
  for (const c of containers) {
    for (const p of c.ports ?? []) {
      taken.add(p.containerPort);
      if (p.hostPort) taken.add(p.hostPort);
    }
    for (const probe of [c.readinessProbe, c.livenessProbe, c.startupProbe]) {
      for (const port of [probe?.httpGet?.port, probe?.tcpSocket?.port, probe?.grpc?.port])
        if (typeof port === 'number') taken.add(port);
        else if (typeof port === 'string' && /^\d+$/.test(port)) taken.add(Number(port));
    }
  }
  for (let port = DEFAULT_HEALTH_PORT; port <= HEALTH_PORT_SEARCH_END; port++)
    if (!taken.has(port))
      return {
        port,
        why: port === DEFAULT_HEALTH_PORT ? 'default' : `${DEFAULT_HEALTH_PORT}-${port - 1} declared by the pod`,
      };
  return { port: 0, why: `every port ${DEFAULT_HEALTH_PORT}-${HEALTH_PORT_SEARCH_END} is declared by the pod` };
}
