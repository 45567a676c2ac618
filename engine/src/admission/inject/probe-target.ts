import type { InjectablePolicy } from './policy.js';

/** The part of a container's readinessProbe the injector reads (core/v1 Probe). */
export interface ProbeAction {
  httpGet?: {
    path?: string;
    port?: number | string;
    host?: string;
    scheme?: string;
    httpHeaders?: { name: string; value: string }[];
  };
  tcpSocket?: { port?: number | string; host?: string };
  grpc?: { port?: number; service?: string };
  exec?: { command?: string[] };
  periodSeconds?: number;
  timeoutSeconds?: number;
}

export interface ContainerLike {
  name: string;
  ports?: { name?: string; containerPort: number; hostPort?: number }[];
  readinessProbe?: ProbeAction;
  livenessProbe?: ProbeAction;
  startupProbe?: ProbeAction;
  [k: string]: unknown;
}

/** What the sidecar probes, resolved against this pod (named ports become numbers). */
export interface ResolvedProbe {
  type: 'http' | 'tcp' | 'grpc';
  port: number;
  /** Defaults to 127.0.0.1: the sidecar shares the pod's network namespace. */
  host?: string;
  /** http only. */
  scheme?: 'http' | 'https';
  path?: string;
  headers?: { name: string; value: string }[];
  /** grpc only: the health check's service name. */
  service?: string;
  interval: string;
  timeout: string;
  expectStatus?: string;
}

/**
 * The probe a policy asks for, for this pod; a string says why it cannot be probed. With
 * `fromPod` the main container's readinessProbe is copied as the kubelet runs it: its scheme
 * (an HTTPS probe stays HTTPS), host and headers. An `exec` probe cannot be copied: a sidecar
 * cannot run a command inside another container (that takes the kubelet's CRI exec, which a
 * pod has no access to), so the policy is skipped for the pod and the admission warning says
 * so, rather than probing something else and calling it the pod's health (ADR 1010).
 */
export function resolveProbe(policy: InjectablePolicy, containers: readonly ContainerLike[]): ResolvedProbe | string {
  const p = policy.spec.probe;
  const main = p.container ? containers.find((c) => c.name === p.container) : containers[0];
  if (!main) return `container ${p.container} not found`;
  const interval = p.interval ?? '10s';
  const timeout = p.timeout ?? '2s';
  const expect = p.expectStatus && p.expectStatus.length > 0 ? { expectStatus: p.expectStatus.join(',') } : {};
  if (p.http) {
    const port = resolvePort(p.http.port, main, containers);
    return typeof port === 'string' ? port : { type: 'http', port, path: p.http.path, interval, timeout, ...expect };
  }
  if (p.tcp) {
    const port = resolvePort(p.tcp.port, main, containers);
    return typeof port === 'string' ? port : { type: 'tcp', port, interval, timeout };
  }
  if (p.fromPod) {
    const rp = main.readinessProbe;
    // The pod's own probe timing applies unless the policy sets its own.
    const timing = {
      interval: p.interval ?? (rp?.periodSeconds ? `${rp.periodSeconds}s` : interval),
      timeout: p.timeout ?? (rp?.timeoutSeconds ? `${rp.timeoutSeconds}s` : timeout),
    };
    if (rp?.httpGet?.port !== undefined) {
      const g = rp.httpGet;
      const port = resolvePort(g.port!, main, containers);
      if (typeof port === 'string') return port;
      const scheme = (g.scheme ?? 'HTTP').toUpperCase();
      if (scheme !== 'HTTP' && scheme !== 'HTTPS') return `readinessProbe scheme ${g.scheme} is neither HTTP nor HTTPS`;
      return {
        type: 'http',
        port,
        path: g.path || '/',
        scheme: scheme === 'HTTPS' ? 'https' : 'http',
        ...(g.host ? { host: g.host } : {}),
        ...(g.httpHeaders && g.httpHeaders.length > 0 ? { headers: g.httpHeaders } : {}),
        ...timing,
        ...expect,
      };
    }
    if (rp?.tcpSocket?.port !== undefined) {
      const port = resolvePort(rp.tcpSocket.port, main, containers);
      if (typeof port === 'string') return port;
      return { type: 'tcp', port, ...(rp.tcpSocket.host ? { host: rp.tcpSocket.host } : {}), ...timing };
    }
    if (rp?.grpc?.port !== undefined)
      return { type: 'grpc', port: rp.grpc.port, ...(rp.grpc.service ? { service: rp.grpc.service } : {}), ...timing };
    if (rp?.exec)
      return (
        `probe fromPod, but container ${main.name}'s readinessProbe is exec, which a sidecar cannot run ` +
        `(it would need to exec into the app container); give the policy an http, tcp or grpc probe`
      );
    return `probe fromPod, but container ${main.name} has no readinessProbe`;
  }
  return 'policy has no probe';
}

function resolvePort(port: number | string, main: ContainerLike, all: readonly ContainerLike[]): number | string {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  const named =
    main.ports?.find((p) => p.name === port) ?? all.flatMap((c) => c.ports ?? []).find((p) => p.name === port);
  return named ? named.containerPort : `named port ${port} not found in the pod`;
}
