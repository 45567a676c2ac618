import { pino } from 'pino';
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { Command } from 'commander';
import { DEFAULT_TLS_TIMING, serviceSans, startAdmission } from '../../engine/src/admission/index.js';
import { createLogger } from '../../engine/src/core/logger.js';
import { REPORTS_PATH } from '../../engine/src/observe/index.js';
import { RUN_DEFAULTS, watchHealthPolicies } from '../../engine/src/runtime/index.js';
import { KubeClient } from '../../engine/src/core/kube/client.js';
import { loadKubeConfig } from '../../engine/src/core/kube/kubeconfig.js';
import { createKubeMetrics } from '../../engine/src/core/kube/metrics.js';
import { EXIT, type CommandRegistrar } from '../../engine/src/cli/command.js';

interface ServeOptions {
  kubeconfig?: string;
  namespace: string;
  serviceAccount: string;
  service: string;
  host: string;
  port: string;
  url?: string;
  tlsSecret: string;
  breakGlassGroup: string[];
  sidecarImage: string;
  sidecarVersion: string;
  reportUrl?: string;
  logLevel: string;
}

/**
 * `bulkhead admission serve`: the admission server on its own (the engine process mounts the
 * same runtime). Registers the webhook configurations once policies are loaded; on SIGTERM it
 * stops serving and leaves them in place (the injector fails open meanwhile). Its defaults are
 * `bulkhead run`'s (RUN_DEFAULTS: the namespace, Service and ServiceAccount deploy/ installs).
 */
export const registerAdmissionCommand: CommandRegistrar = (program: Command, setExit) => {
  const admission = program
    .command('admission')
    .description('the admission webhooks: sidecar injection and the GitOps guard');
  admission
    .command('serve')
    .description('serve /mutate and /validate over HTTPS with self-managed TLS')
    .option('--kubeconfig <path>', 'kubeconfig (default: $KUBECONFIG, ~/.kube/config, in-cluster)')
    .option(
      '--namespace <ns>',
      "the engine's namespace (always excluded from injection; holds the TLS Secret)",
      RUN_DEFAULTS.namespace,
    )
    .option(
      '--service-account <name>',
      "the engine's ServiceAccount (the guard lets it write)",
      RUN_DEFAULTS.serviceAccount,
    )
    .option('--service <name>', "the engine's Service (serving cert SANs)", RUN_DEFAULTS.service)
    .option('--host <ip>', 'listen address', '127.0.0.1')
    .option('--port <n>', 'listen port (0: any free port)', '9443')
    .option('--url <url>', 'base URL the apiserver calls (default: https://<host>:<port>)')
    .option('--tls-secret <name>', 'Secret holding the CA and serving cert', RUN_DEFAULTS.tlsSecret)
    .option('--break-glass-group <group...>', 'groups the guard lets write git-managed objects', [
      ...RUN_DEFAULTS.breakGlassGroups,
    ])
    .option('--sidecar-image <image>', 'sidecar image', RUN_DEFAULTS.sidecarImage)
    .option('--sidecar-version <v>', 'sidecar version recorded in bulkhead.dev/injected', RUN_DEFAULTS.sidecarVersion)
    .option(
      '--report-url <url>',
      `where sidecars report (default: https://<service>.<namespace>.svc${REPORTS_PATH}, served on this listener)`,
    )
    .option('--log-level <level>', 'log level', RUN_DEFAULTS.logLevel)
    .action(async (o: ServeOptions) => {
      const logger = createLogger({ level: o.logLevel, name: 'bulkhead-admission', destination: pino.destination(2) });
      const registry = new Registry();
      collectDefaultMetrics({ register: registry, prefix: 'bulkhead_admission_process_' });
      const kubeConfig = loadKubeConfig(o.kubeconfig);
      const kubeMetrics = createKubeMetrics(registry);
      const client = new KubeClient(kubeConfig, { metrics: kubeMetrics });
      // The engine's HealthPolicy watch, as `bulkhead run` starts it; the webhooks are
      // registered once its first list is over.
      const policies = watchHealthPolicies({ client, logger, metrics: kubeMetrics });
      await policies.started;
      const rt = await startAdmission({
        kubeConfig,
        logger,
        registry,
        engineNamespace: o.namespace,
        engineUsernames: [`system:serviceaccount:${o.namespace}:${o.serviceAccount}`],
        breakGlassGroups: o.breakGlassGroup,
        sidecar: {
          image: o.sidecarImage,
          version: o.sidecarVersion,
          reportUrl: o.reportUrl ?? `https://${o.service}.${o.namespace}.svc${REPORTS_PATH}`,
        },
        tls: {
          secretName: o.tlsSecret,
          settings: {
            ...DEFAULT_TLS_TIMING,
            dnsNames: serviceSans(o.service, o.namespace),
            ipAddresses: ['127.0.0.1'],
          },
        },
        listen: { host: o.host, port: Number(o.port) },
        ...(o.url ? { endpoint: { url: o.url } } : {}),
        exposeMetrics: true,
        policies: policies.forAdmission(),
      });
      // One line on stdout, for scripts and tests: where it listens.
      process.stdout.write(`${JSON.stringify({ url: rt.url, port: rt.port })}\n`);
      await new Promise<void>((ok) => {
        process.once('SIGINT', ok);
        process.once('SIGTERM', ok);
      });
      await rt.close();
      await policies.stop();
      client.close();
      setExit(EXIT.ok);
    });
};
