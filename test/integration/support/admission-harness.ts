import { randomBytes } from 'node:crypto';
import {
  AdmissionregistrationV1Api,
  CoreV1Api,
  KubernetesObjectApi,
  RbacAuthorizationV1Api,
  type KubeConfig,
  type V1Pod,
} from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { injectedSidecar, startAdmission, type AdmissionRuntime } from '../../../engine/src/admission/index.js';
import { type TlsSettings } from '../../../engine/src/admission/tls/material.js';
import type { InjectablePolicy } from '../../../engine/src/admission/inject/policy.js';
import { createLogger } from '../../../engine/src/core/logger.js';
import type { AdmissionMode } from '../../../engine/src/admission/policy/mode.js';
import { deleteAdmissionObjects, policyRefs } from '../../../engine/src/admission/policy/register-policies.js';
import { serviceAccountKubeConfig } from '../../../tools/local-cluster/index.js';
import { eventually, getCluster } from '../../harness/index.js';

export interface LogLine {
  level: number;
  msg: string;
  endpoint?: string;
  outcome?: string;
  namespace?: string;
  name?: string;
  operation?: string;
  user?: string;
  note?: string;
  steps?: string[];
}

export interface TestAdmission {
  rt: AdmissionRuntime;
  registry: Registry;
  names: { mutating: string; validating: string };
  /** Every log line of the runtime (debug level: one per admission request). */
  logs: LogLine[];
  /** Admission requests the webhook served for pods in `namespace`. */
  reviewsIn(namespace: string): LogLine[];
  /** Stops serving; the webhook configurations stay (as in production). */
  stop(): Promise<void>;
  /** Test cleanup: stop, then delete the configurations this run registered. */
  cleanup(): Promise<void>;
  /** Replaces the policies and tells the runtime, as the engine's HealthPolicy watch does. */
  setPolicies(policies: InjectablePolicy[]): void;
}

export const SIDECAR = {
  image: 'registry.invalid/bulkhead-sidecar:0.1.0',
  version: '0.1.0',
  reportUrl: 'https://bulkhead.bulkhead-system.svc:8443/v1/reports',
};

export const staticPolicies = (
  policies: InjectablePolicy[],
): { list(): InjectablePolicy[]; onChange(cb: () => void): void; stop(): Promise<void> } => ({
  list: () => policies,
  onChange: () => {},
  stop: async () => {},
});

/** Policies a test can change while the runtime runs (listeners called as the watch calls them). */
function changeablePolicies(initial: InjectablePolicy[]) {
  let policies = initial;
  const listeners: (() => void)[] = [];
  return {
    source: {
      list: () => policies,
      onChange: (cb: () => void) => void listeners.push(cb),
      stop: async () => {},
    },
    set(next: InjectablePolicy[]): void {
      policies = next;
      for (const l of listeners) l();
    },
  };
}

/**
 * Runs the real admission runtime in the test process against the shared control plane. The
 * policies are given in-process (not watched) so HealthPolicies of other test files never
 * make this webhook inject their pods; configuration names carry a suffix for the same reason.
 */
export async function startTestAdmission(opts: {
  engineNamespace: string;
  policies: InjectablePolicy[];
  engineUsernames?: string[];
  gitopsWriters?: string[];
  breakGlassGroups?: string[];
  tls?: Partial<TlsSettings> & { intervalMs?: number; clock?: () => Date };
  names?: { mutating: string; validating: string };
  port?: number;
  /** false: a second replica that shares the Secret but does not point the webhooks at itself. */
  register?: boolean;
  /** Whether this replica holds the Lease (only the leader rotates); default: the only replica. */
  isLeader?: () => boolean;
  /** The engine's view of nodes an owner's new pods must avoid (quarantine's watch). */
  avoidNodes?: (namespace: string, ownerUid: string) => readonly string[];
  /** Which admission path registers (default webhook): see ADMISSION_MODES. */
  mode?: AdmissionMode;
  /** `--admission=auto` resolved to `mode` (policy): follow the policies (ADR 1700). */
  auto?: boolean;
}): Promise<TestAdmission> {
  const kc = getCluster().kubeConfig();
  const logs: LogLine[] = [];
  const logger = createLogger({
    level: 'debug',
    name: 'admission-test',
    destination: { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) },
  });
  const suffix = randomBytes(3).toString('hex');
  const names = opts.names ?? { mutating: `bulkhead-inject-${suffix}`, validating: `bulkhead-guard-${suffix}` };
  const registry = new Registry();
  const policies = changeablePolicies(opts.policies);
  const { intervalMs, clock, ...tlsOverrides } = opts.tls ?? {};
  const rt = await startAdmission({
    kubeConfig: kc,
    logger,
    registry,
    engineNamespace: opts.engineNamespace,
    engineUsernames: opts.engineUsernames ?? [`system:serviceaccount:${opts.engineNamespace}:bulkhead`],
    breakGlassGroups: opts.breakGlassGroups ?? ['bulkhead:break-glass'],
    ...(opts.gitopsWriters ? { gitopsWriters: opts.gitopsWriters } : {}),
    sidecar: SIDECAR,
    tls: {
      secretName: 'bulkhead-webhook-tls',
      settings: {
        dnsNames: [`bulkhead.${opts.engineNamespace}.svc`],
        ipAddresses: ['127.0.0.1'],
        caValidityMs: 3_600_000,
        servingValidityMs: 1_800_000,
        caOverlapMs: 3_000,
        ...tlsOverrides,
      },
      ...(intervalMs ? { intervalMs } : {}),
      ...(clock ? { clock } : {}),
    },
    listen: { host: '127.0.0.1', port: opts.port ?? 0 },
    names,
    policies: policies.source,
    ...(opts.register === false ? { register: false } : {}),
    ...(opts.isLeader ? { isLeader: opts.isLeader } : {}),
    ...(opts.avoidNodes ? { avoidNodes: opts.avoidNodes } : {}),
    ...(opts.mode ? { mode: opts.mode } : {}),
    ...(opts.auto ? { auto: true } : {}),
  });
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await rt.close();
  };
  return {
    rt,
    registry,
    names,
    logs,
    reviewsIn: (namespace) => logs.filter((l) => l.msg === 'admission' && l.namespace === namespace),
    stop,
    async cleanup() {
      await stop();
      await deleteWebhookConfigs(kc, names);
    },
    setPolicies: (next) => policies.set(next),
  };
}

export async function deleteWebhookConfigs(
  kc: KubeConfig,
  names: { mutating: string; validating: string },
): Promise<void> {
  const api = kc.makeApiClient(AdmissionregistrationV1Api);
  await api.deleteMutatingWebhookConfiguration({ name: names.mutating }).catch(() => {});
  await api.deleteValidatingWebhookConfiguration({ name: names.validating }).catch(() => {});
  const deleted = await deleteAdmissionObjects(kc, policyRefs(names));
  if (deleted.length > 0) await policiesRefreshed();
}

/**
 * The apiserver compiles admission policies from its informer on a 1 s tick
 * (k8s.io/apiserver .../policy/generic/policy_source.go, policyRefreshInterval): a policy just
 * deleted is still enforced until the next tick. Cleanup waits it out, or the next write
 * (this file's own deletes, the next file's creates) meets a guard that no longer exists.
 */
export async function policiesRefreshed(): Promise<void> {
  await new Promise((ok) => setTimeout(ok, POLICY_REFRESH_MS));
}

/** Two of the apiserver's 1 s policy refresh ticks. */
const POLICY_REFRESH_MS = 2_000;

/**
 * Both admission paths, for the test files that run once per path against the same control
 * plane (issue 17): `webhook` (the engine's /mutate and /validate) and `policy` (the generated
 * MutatingAdmissionPolicy and ValidatingAdmissionPolicy, run inside the apiserver).
 */
/** An admissionregistration.k8s.io/v1 object by kind (the client has no typed API for MutatingAdmissionPolicy). */
export async function readAdmissionObject(kind: string, name: string): Promise<unknown> {
  return KubernetesObjectApi.makeApiClient(getCluster().kubeConfig()).read({
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind,
    metadata: { name },
  });
}

export const MODES: readonly AdmissionMode[] = ['webhook', 'policy'];

/** A namespaced user with nothing but pod create/get/list: how a developer creates pods. */
export async function podUser(namespace: string, name = 'dev'): Promise<CoreV1Api> {
  const admin = getCluster().kubeConfig();
  const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
  await rbac.createNamespacedRole({
    namespace,
    body: {
      metadata: { name: `${name}-pods` },
      rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['create', 'get', 'list'] }],
    },
  });
  await rbac.createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name: `${name}-pods` },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: `${name}-pods` },
      subjects: [{ kind: 'ServiceAccount', name, namespace }],
    },
  });
  const { kubeConfig } = await serviceAccountKubeConfig(admin, getCluster(), namespace, name);
  const core = kubeConfig.makeApiClient(CoreV1Api);
  await eventually(() => core.listNamespacedPod({ namespace }), { what: `${name} may list pods in ${namespace}` });
  return core;
}

export const simplePod = (
  name: string,
  labels: Record<string, string> = {},
  annotations?: Record<string, string>,
): V1Pod => ({
  metadata: { name, labels, ...(annotations ? { annotations } : {}) },
  spec: {
    containers: [{ name: 'app', image: 'registry.invalid/web:1', ports: [{ name: 'http', containerPort: 8080 }] }],
    tolerations: [{ key: 'kwok.x-k8s.io/node', operator: 'Exists', effect: 'NoSchedule' }],
  },
});

export const hasSidecar = (p: V1Pod): boolean => injectedSidecar(p) !== undefined;

/** Creates throwaway pods until one comes back injected: webhook configurations apply asynchronously. */
export async function waitUntilInjecting(
  core: CoreV1Api,
  namespace: string,
  labels: Record<string, string> = {},
  opts: { dryRun?: boolean } = {},
): Promise<void> {
  let n = 0;
  await eventually(
    async () => {
      // A dry run goes through admission (injection included) and stores nothing: no warmup
      // pod is left to count among the policy's pods.
      const p = await core.createNamespacedPod({
        namespace,
        body: simplePod(`warmup-${n++}`, labels),
        ...(opts.dryRun ? { dryRun: 'All' } : {}),
      });
      if (!hasSidecar(p)) throw new Error('not injected yet');
    },
    { what: `webhook injecting in ${namespace}`, timeoutMs: 30_000, intervalMs: 200 },
  );
}
