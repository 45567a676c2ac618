import type { Router } from '@koa/router';
import type { KubeConfig, V1Namespace } from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import {
  buildMutatingWebhookConfiguration,
  buildValidatingWebhookConfiguration,
  excludedNamespaces,
  WEBHOOK_NAMES,
  type WebhookConfigOptions,
} from './webhook-config.js';
import { createAdmissionApp } from './app.js';
import { breakGlassReader } from './break-glass.js';
import { watchNamespaceLabels } from './cluster-views.js';
import { defaultSourceReader } from './guard/default-source.js';
import type { GuardConfig } from './guard/guard.js';
import type { SidecarSettings } from './inject/patch.js';
import { PolicyIndex } from './inject/policy-index.js';
import type { InjectablePolicy } from './inject/policy.js';
import { createMutateProcessor, createValidateProcessor } from './processors.js';
import { registerWebhooks } from './register.js';
import { buildGuardPolicy } from './policy/guard-policy.js';
import { buildInjectionPolicy } from './policy/inject-policy.js';
import { webhookOnly, type AdmissionMode } from './policy/mode.js';
import { pauseEnds } from './inject/pull-pause.js';
import {
  deleteAdmissionObjects,
  policyRefs,
  registerAdmissionPolicies,
  webhookRefs,
} from './policy/register-policies.js';
import { admissionPolicyObjects, keepWebhooksRegistered, webhookObjects } from './webhook-keeper.js';
import { startAdmissionServer, type AdmissionServer } from './server.js';
import { patchCaBundles } from './tls/ca-bundle.js';
import { NamespaceCaPublisher, publishCaConfigMaps } from './tls/ca-publisher.js';
import { TlsManager } from './tls/manager.js';
import type { TlsSettings } from './tls/material.js';
import { kubeSecretStore } from './tls/secret-store.js';

export interface AdmissionRuntimeOptions {
  kubeConfig: KubeConfig;
  logger: Logger;
  registry: Registry;
  engineNamespace: string;
  /** Usernames the guard treats as the engine. */
  engineUsernames: string[];
  /** Usernames of the GitOps tools that apply HealthPolicies and PolicySources (`--gitops-writers`). */
  gitopsWriters?: string[];
  breakGlassGroups: string[];
  sidecar: SidecarSettings;
  tls: { secretName: string; settings: TlsSettings; intervalMs?: number; clock?: () => Date };
  /** Only the leader rotates the TLS material (default: this process is the only one). */
  isLeader?: () => boolean;
  listen: { host?: string; port?: number };
  /** How the apiserver reaches us: a URL (local runs) or the engine's Service. Default: the listen URL. */
  endpoint?: WebhookConfigOptions['endpoint'];
  names?: { mutating: string; validating: string };
  /** Where HealthPolicies come from: the engine's HealthPolicy watch (runtime/), or fixed ones in tests. */
  policies: { list(): InjectablePolicy[]; onChange(cb: () => void): void; stop(): Promise<void> };
  /** Register the webhook configurations once policies are loaded (default true). */
  register?: boolean;
  /**
   * `policy`: the apiserver injects and guards by the generated MutatingAdmissionPolicy and
   * ValidatingAdmissionPolicy, and the webhook configurations are removed; `webhook` (default):
   * the other way round (ADR 1700). The caller resolves `auto` (policy/mode.ts).
   */
  mode?: AdmissionMode;
  /**
   * `--admission=auto` resolved to policy: the webhook path instead while a policy needs it
   * (policy/mode.ts webhookOnly), switching back when none does.
   */
  auto?: boolean;
  maxBodyBytes?: number;
  exposeMetrics?: boolean;
  /** Other routes on the same HTTPS server and TLS (report ingest, verdicts, dashboard). */
  extraRouters?: Router[];
  /** Nodes new pods of an owner must avoid (quarantine's view); see MutateDeps. */
  avoidNodes?: (namespace: string, ownerUid: string) => readonly string[];
  /** A deleted webhook configuration was registered again: what was written meanwhile needs a re-sync. */
  onWebhooksRestored?: (what: string) => void;
}

export interface AdmissionRuntime {
  url: string;
  port: number;
  server: AdmissionServer;
  tls: TlsManager;
  index(): PolicyIndex;
  mode: AdmissionMode;
  /** Re-generate and apply this mode's admission objects from the current policies. */
  register(): Promise<void>;
  /**
   * The last registration: the policies (name → generation) whose rules the webhook
   * configurations (or, in policy mode, the admission policies) carry since then, or the error it failed with (HealthPolicy Ready reads it).
   */
  registration(): { policies: ReadonlyMap<string, number>; error?: string } | undefined;
  /** Called after each registration attempt (the status writer's cue). */
  onRegistration(cb: () => void): void;
  /** Namespace labels as the webhook sees them (matchedPods counts with them). */
  namespaceLabels(namespace: string): Promise<Record<string, string>>;
  /** Stops serving. Never deletes the webhook configurations. */
  close(): Promise<void>;
}

/**
 * The admission side of the engine, wired: TLS from the shared Secret (hot reload), the
 * HTTPS app, the policy index kept current from the cluster, and webhook registration after
 * the policies are loaded. The engine process mounts this; `bulkhead admission serve` runs it
 * alone.
 */
export async function startAdmission(opts: AdmissionRuntimeOptions): Promise<AdmissionRuntime> {
  const { kubeConfig: kc, logger } = opts;
  const names = opts.names ?? { mutating: WEBHOOK_NAMES.mutating, validating: WEBHOOK_NAMES.validating };
  // The TLS manager starts before the server exists; reloads reach it through this holder.
  const live: {
    server?: AdmissionServer;
    publishCa?: (bundle: string) => Promise<unknown>;
    onNamespace?: (ns: V1Namespace) => void;
  } = {};
  const tls = new TlsManager({
    store: kubeSecretStore(kc, opts.engineNamespace, opts.tls.secretName),
    settings: opts.tls.settings,
    logger,
    registry: opts.registry,
    onMaterial: (m) => live.server?.reload(m.serving),
    publishBundle: async (bundle) => {
      await patchCaBundles(kc, { mutating: [names.mutating], validating: [names.validating] }, bundle);
      await live.publishCa?.(bundle);
    },
    ...(opts.isLeader ? { isLeader: opts.isLeader } : {}),
    ...(opts.tls.intervalMs ? { intervalMs: opts.tls.intervalMs } : {}),
    ...(opts.tls.clock ? { clock: opts.tls.clock } : {}),
  });
  const material = await tls.start();
  // Whatever started before a failure is stopped again, so a failed start leaves nothing running.
  const started: (() => Promise<void>)[] = [async () => tls.stop()];
  try {
    return await serve();
  } catch (err) {
    for (const stop of started.reverse()) await stop().catch(() => {});
    throw err;
  }

  async function serve(): Promise<AdmissionRuntime> {
    const excluded = excludedNamespaces(opts.engineNamespace);
    // Namespace events before the publisher is wired are covered by the first publish below.
    const namespaces = await watchNamespaceLabels(kc, logger, (ns) => live.onNamespace?.(ns));
    started.push(() => namespaces.stop());
    const policies = opts.policies;
    started.push(() => policies.stop());
    let index = new PolicyIndex(policies.list(), { excludedNamespaces: excluded });

    const guard: GuardConfig = {
      engineUsernames: opts.engineUsernames,
      gitopsWriters: opts.gitopsWriters ?? [],
      breakGlassGroups: opts.breakGlassGroups,
    };
    const app = createAdmissionApp({
      logger,
      registry: opts.registry,
      mutate: createMutateProcessor({
        policies: () => index,
        namespaceLabels: (ns) => namespaces.labels(ns),
        sidecar: opts.sidecar,
        ...(opts.avoidNodes ? { avoidNodes: opts.avoidNodes } : {}),
      }),
      validate: createValidateProcessor({
        guard,
        breakGlass: breakGlassReader(kc, names.validating),
        defaultSource: defaultSourceReader(kc),
      }),
      ...(opts.maxBodyBytes ? { maxBodyBytes: opts.maxBodyBytes } : {}),
      ...(opts.exposeMetrics ? { exposeMetrics: true } : {}),
      ...(opts.extraRouters ? { extraRouters: opts.extraRouters } : {}),
    });
    const server = await startAdmissionServer(app, tls.material?.serving ?? material.serving, opts.listen);
    live.server = server;
    started.push(() => server.close());
    const endpoint = opts.endpoint ?? { url: server.url };

    const flagged = opts.mode ?? 'webhook';
    // The path in use; with auto it follows the policies (webhookOnly).
    let mode: AdmissionMode = flagged;
    let keeper: { stop(): Promise<void> } | undefined;
    const keep = (): { stop(): Promise<void> } =>
      keepWebhooksRegistered({
        kubeConfig: kc,
        names,
        objects: mode === 'webhook' ? webhookObjects(names) : admissionPolicyObjects(names),
        isLeader: opts.isLeader ?? (() => true),
        register,
        ...(opts.onWebhooksRestored ? { onRestored: opts.onWebhooksRestored } : {}),
        logger,
        registry: opts.registry,
      });
    const readDefaultSource = defaultSourceReader(kc, 0);
    let pauseTimer: NodeJS.Timeout | undefined;
    let closed = false;
    let registration: { policies: ReadonlyMap<string, number>; error?: string } | undefined;
    const registrationListeners: (() => void)[] = [];
    const register = async (): Promise<void> => {
      const list = policies.list();
      if (opts.auto && flagged === 'policy') {
        const needs = webhookOnly(list);
        const want: AdmissionMode = needs.length > 0 ? 'webhook' : 'policy';
        if (want !== mode) {
          mode = want;
          logger.info({ mode, because: needs }, 'admission path switched (auto)');
          // The keeper guards the objects of the path in use, never the other's.
          if (keeper) {
            const old = keeper;
            keeper = keep();
            void old.stop();
          }
          if (mode === 'webhook') clearTimeout(pauseTimer);
        }
      }
      try {
        await registerPath(list);
        registration = { policies: new Map(list.map((p) => [p.metadata.name, p.metadata.generation ?? 0])) };
      } catch (err) {
        registration = { policies: registration?.policies ?? new Map(), error: errorMessage(err) };
        throw err;
      } finally {
        for (const l of registrationListeners) l();
      }
    };
    // One path at a time: the webhook configurations, or the generated admission policies.
    const registerPath = async (list: InjectablePolicy[]): Promise<void> => {
      if (mode === 'webhook') {
        const caBundle = Buffer.from(tls.material?.bundle ?? material.bundle).toString('base64');
        const base = { engineNamespace: opts.engineNamespace, endpoint, caBundle, names, guardWriters: guard };
        await registerWebhooks(kc, [
          buildMutatingWebhookConfiguration(list, base),
          buildValidatingWebhookConfiguration(base),
        ]);
        await removeOtherPath(policyRefs(names));
        logger.info({ policies: list.length, mode }, 'webhook configurations registered');
        return;
      }
      const now = Date.now();
      const inject = buildInjectionPolicy(list, {
        name: names.mutating,
        excludedNamespaces: excluded,
        sidecar: opts.sidecar,
        now,
      });
      // The webhook names the cluster's PolicySources in a denial of an object that names no
      // source; the policy carries them as they are now (ADR 1700).
      const defaultSource = await readDefaultSource();
      const guardPolicy = buildGuardPolicy(
        { ...guard, ...(defaultSource ? { defaultSource } : {}) },
        { name: names.validating },
      );
      await registerAdmissionPolicies(kc, [
        inject.policy,
        inject.binding,
        inject.warning.policy,
        inject.warning.binding,
        guardPolicy.policy,
        guardPolicy.binding,
      ]);
      await removeOtherPath(webhookRefs(names));
      logger.info({ policies: list.length, mode }, 'admission policies registered');
      // A paused injection (ADR 1700: decided when generated) resumes when the pause ends.
      clearTimeout(pauseTimer);
      const next = Math.min(...pauseEnds(list, opts.sidecar.image, now));
      if (Number.isFinite(next) && !closed) {
        pauseTimer = setTimeout(
          () => {
            register().catch((err: unknown) => logger.warn({ err }, 'admission policy registration failed'));
          },
          next - now + 1000,
        );
        pauseTimer.unref();
      }
    };
    // Switching paths removes the other one, so a pod is never handled twice and the engine's
    // outage never blocks writes through a guard webhook it no longer serves.
    const removeOtherPath = async (refs: { apiVersion: string; kind: string; name: string }[]): Promise<void> => {
      try {
        const deleted = await deleteAdmissionObjects(kc, refs);
        if (deleted.length > 0) logger.info({ deleted, mode }, 'removed the other admission path');
      } catch (err) {
        logger.warn({ err, mode }, 'could not remove the other admission path');
      }
    };
    // Sidecars' trust: the CA bundle as ConfigMap `bulkhead-ca` in every selected namespace.
    const selectedNamespaces = (): string[] =>
      namespaces
        .list()
        .filter((n) => index.candidates(n.name, n.labels).length > 0)
        .map((n) => n.name);
    live.publishCa = (bundle) => publishCaConfigMaps(kc, selectedNamespaces(), bundle, logger);
    // A namespace a policy selects gets the bundle as soon as the watch sees it (created, or
    // labelled into a policy's selector): a pod created there a moment later finds its CA.
    const newNamespaces = new NamespaceCaPublisher({
      bundle: async () => (await tls.refresh())?.bundle,
      publish: (list, bundle) => publishCaConfigMaps(kc, list, bundle, logger),
      logger,
    });
    started.push(() => newNamespaces.stop());
    live.onNamespace = (ns) => {
      const name = ns.metadata?.name;
      if (!name || ns.status?.phase === 'Terminating') return;
      if (index.candidates(name, ns.metadata?.labels ?? {}).length > 0) newNamespaces.add(name);
    };

    policies.onChange(() => {
      index = new PolicyIndex(policies.list(), { excludedNamespaces: excluded });
      void live.publishCa?.(tls.material?.bundle ?? material.bundle);
      if (opts.register !== false)
        register().catch((err: unknown) => logger.warn({ err }, 'webhook registration failed'));
    });
    // Registered only now that the policies are loaded: never a webhook without its rules.
    if (opts.register !== false) {
      await register();
      // ...and kept registered: a deleted guard is a guard turned off (ADR 1412).
      keeper = keep();
      started.push(() => keeper!.stop());
    }
    await live.publishCa(tls.material?.bundle ?? material.bundle);

    return {
      url: server.url,
      port: server.port,
      server,
      tls,
      index: () => index,
      get mode() {
        return mode;
      },
      register,
      registration: () => registration,
      onRegistration: (cb) => registrationListeners.push(cb),
      namespaceLabels: async (ns) => ({ ...(await namespaces.labels(ns)) }),
      async close() {
        closed = true;
        clearTimeout(pauseTimer);
        await keeper?.stop();
        tls.stop();
        live.onNamespace = undefined;
        await newNamespaces.stop();
        await server.close();
        await namespaces.stop();
        await policies.stop();
      },
    };
  }
}
