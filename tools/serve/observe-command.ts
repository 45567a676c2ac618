import { readFile } from 'node:fs/promises';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Command } from 'commander';
import Koa from 'koa';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { parseDuration } from '../../engine/src/core/duration.js';
import { loadKubeConfig } from '../../engine/src/core/kube/kubeconfig.js';
import { createLogger } from '../../engine/src/core/logger.js';
import { createObserve, injectedBySidecar, type ForwardTarget } from '../../engine/src/observe/index.js';
import type { CommandRegistrar } from '../../engine/src/cli/command.js';

interface ServeOptions {
  host: string;
  port: number;
  tlsCert: string;
  tlsKey: string;
  kubeconfig?: string;
  forward: string[];
  forwardCa?: string;
  forwardTimeout: string;
  forwardQueue: number;
  forwardMaxWait: string;
  rate: number;
  burst: number;
  bodyLimit: number;
  watchNamespace?: string;
  watchSelector?: string;
  watchInjectedOnly: boolean;
  windowSamples: number;
  maxPods: number;
  logLevel: string;
}

/**
 * `bulkhead observe serve`: report ingest on its own HTTPS port, until the engine process
 * (`bulkhead run`) mounts the same routes. Used by the integration tests and benches as a
 * real, separate process. `--forward` sends every accepted report to the given endpoints
 * (the engine resolves them per policy from spec.forward instead).
 */
export const registerObserveCommand: CommandRegistrar = (program: Command, setExit) => {
  const observe = program.command('observe').description('health report ingest from the sidecars');
  observe
    .command('serve')
    .description('serve POST /api/v1/reports and GET /api/v1/health over HTTPS')
    .requiredOption('--tls-cert <file>', 'serving certificate (PEM)')
    .requiredOption('--tls-key <file>', 'serving key (PEM)')
    .option('--host <host>', 'listen address', '127.0.0.1')
    .option('--port <port>', 'listen port (0: any free port)', (v) => Number.parseInt(v, 10), 8443)
    .option(
      '--kubeconfig <file>',
      'kubeconfig for TokenReview, SubjectAccessReview and the pod watch (default: $KUBECONFIG)',
    )
    .option(
      '--forward <url>',
      'forward accepted reports to this https endpoint (repeatable)',
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .option('--forward-ca <file>', 'extra CA certificates to trust for forward endpoints')
    .option('--forward-timeout <duration>', 'timeout of one forward request', '5s')
    .option('--forward-queue <n>', 'reports held per forward endpoint', (v) => Number.parseInt(v, 10), 10_000)
    .option('--forward-max-wait <duration>', 'send a forward batch at least this often', '1s')
    .option('--rate <n>', 'reports per second per pod (sustained)', Number, 5)
    .option('--burst <n>', 'reports per pod at once', Number, 20)
    .option('--body-limit <bytes>', 'largest report body', (v) => Number.parseInt(v, 10), 256 * 1024)
    .option('--watch-namespace <ns>', 'watch pods of this namespace for restarts, OOM kills, crash loops, readiness')
    .option('--watch-selector <selector>', 'label selector for the pod watch')
    .option('--watch-injected-only', 'only pods carrying the bulkhead.dev/injected annotation', false)
    .option('--window-samples <n>', 'samples kept per pod', (v) => Number.parseInt(v, 10), 120)
    .option(
      '--max-pods <n>',
      'pods kept in memory (least recently reporting evicted first)',
      (v) => Number.parseInt(v, 10),
      10_000,
    )
    .option('--log-level <level>', 'log level', 'info')
    .action(async (o: ServeOptions) => {
      const logger = createLogger({ level: o.logLevel, name: 'bulkhead-observe' });
      const kc = loadKubeConfig(o.kubeconfig);
      const registry = new Registry();
      collectDefaultMetrics({ register: registry, prefix: 'bulkhead_observe_process_' });
      const targets: ForwardTarget[] = o.forward.map((url) => ({
        url,
        batch: { maxWaitMs: parseDuration(o.forwardMaxWait) },
      }));
      for (const t of targets) {
        if (new URL(t.url).protocol !== 'https:') {
          process.stderr.write(`forward endpoint must be https: ${t.url}\n`);
          setExit(2);
          return;
        }
      }
      const obs = createObserve({
        kubeConfig: kc,
        registry,
        logger,
        rate: { perSecond: o.rate, burst: o.burst },
        store: { samplesPerPod: o.windowSamples, maxPods: o.maxPods },
        bodyLimitBytes: o.bodyLimit,
        ...(targets.length > 0
          ? {
              forward: {
                targets: () => targets,
                queueCapacity: o.forwardQueue,
                requestTimeoutMs: parseDuration(o.forwardTimeout),
                ...(o.forwardCa ? { ca: await readFile(o.forwardCa, 'utf8') } : {}),
              },
            }
          : {}),
        ...(o.watchNamespace || o.watchSelector
          ? {
              podWatch: {
                ...(o.watchNamespace ? { namespace: o.watchNamespace } : {}),
                ...(o.watchSelector ? { labelSelector: o.watchSelector } : {}),
                ...(o.watchInjectedOnly ? { matches: injectedBySidecar } : {}),
              },
            }
          : {}),
      });
      const app = new Koa();
      app.use(async (ctx, next) => {
        try {
          await next();
        } catch (err) {
          logger.error({ err, path: ctx.path }, 'request failed');
          ctx.status = 500;
          ctx.body = { status: 500, reason: 'InternalError', message: 'internal error' };
        }
      });
      app.use(async (ctx, next) => {
        if (ctx.method === 'GET' && ctx.path === '/metrics') {
          ctx.type = registry.contentType;
          ctx.body = await registry.metrics();
          return;
        }
        if (ctx.method === 'GET' && ctx.path === '/healthz') {
          ctx.body = { status: 'ok' };
          return;
        }
        await next();
      });
      app.use(obs.router.routes()).use(obs.router.allowedMethods());
      const server = createServer(
        { cert: await readFile(o.tlsCert, 'utf8'), key: await readFile(o.tlsKey, 'utf8') },
        app.callback(),
      );
      server.keepAliveTimeout = 65_000;
      await new Promise<void>((ok, fail) => {
        server.once('error', fail);
        server.listen(o.port, o.host, ok);
      });
      const port = (server.address() as AddressInfo).port;
      // The one stdout line: tests and scripts read the URL from it.
      process.stdout.write(`listening on https://${o.host}:${port}\n`);
      logger.info({ port, forward: o.forward }, 'observe ingest serving');
      await new Promise<void>((ok) => {
        process.once('SIGTERM', ok);
        process.once('SIGINT', ok);
      });
      logger.info('stopping');
      server.close();
      server.closeAllConnections();
      await obs.close();
    });
};
