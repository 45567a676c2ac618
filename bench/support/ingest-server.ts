// A child process for bench/ingest.bench.ts and bench/ha.bench.ts (bundled to plain JS first):
// `node ingest-server.mjs observe|baseline|leader|follower <certDir>`.
//  observe:  the real observe routes (authn with its cache, rate limit, schema, windows) with the
//            TokenReview answered from a table (the bench measures the cached path; every token's
//            first review is one table lookup instead of an apiserver round trip)
//  baseline: a minimal koa HTTPS server that reads the JSON body and answers 202 (the koa ceiling)
// Prints the port on stdout.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import Koa from 'koa';
import { Registry } from 'prom-client';
import { silentLogger } from '../../engine/src/core/logger.js';
import { HealthStore, TokenAuthenticator } from '../../engine/src/observe/index.js';
import { createObserveMetrics } from '../../engine/src/observe/metrics.js';
import { createObserveRouter } from '../../engine/src/observe/routes.js';
import { createReportValidator } from '../../engine/src/observe/report-validator.js';
import { RateLimiter } from '../../engine/src/observe/rate-limiter.js';
import { ReadAuthorizer } from '../../engine/src/observe/read-authorizer.js';

const [mode, certDir] = process.argv.slice(2);
const app = new Koa();
// leader / follower (bench/ha.bench.ts): the same routes behind the leader gate, as a replica
// that holds the Lease serves them, or one that answers 421 naming the holder (ADR 1500).
const leader =
  mode === 'leader' || mode === 'follower'
    ? { isLeader: () => mode === 'leader', holder: () => 'bench-leader' }
    : undefined;
if (mode === 'observe' || leader) {
  const router = createObserveRouter({
    authenticator: new TokenAuthenticator({
      audience: 'bulkhead',
      review: async (token) => {
        const i = /^pod-(\d+)$/.exec(token)?.[1];
        if (i === undefined) return { authenticated: false };
        return {
          authenticated: true,
          audiences: ['bulkhead'],
          user: {
            username: 'system:serviceaccount:bench:default',
            extra: {
              'authentication.kubernetes.io/pod-name': [`pod-${i}`],
              'authentication.kubernetes.io/pod-uid': [`uid-${i}`],
            },
          },
        };
      },
    }),
    readAuthorizer: new ReadAuthorizer(async () => true),
    store: new HealthStore({ maxPods: 10_000, samplesPerPod: 120 }),
    validate: createReportValidator(),
    rateLimiter: new RateLimiter(5, 20),
    metrics: createObserveMetrics(new Registry()),
    logger: silentLogger(),
    ...(leader ? { leader } : {}),
  });
  app.use(router.routes());
} else {
  app.use(async (ctx) => {
    const chunks: Buffer[] = [];
    for await (const c of ctx.req) chunks.push(c as Buffer);
    JSON.parse(Buffer.concat(chunks).toString('utf8'));
    ctx.status = 202;
    ctx.body = { accepted: 1 };
  });
}
const server = createServer(
  { cert: readFileSync(join(certDir!, 'tls.crt')), key: readFileSync(join(certDir!, 'tls.key')) },
  app.callback(),
);
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as AddressInfo).port}\n`));
// The bench asks for memory after a full GC (node --expose-gc), over the IPC channel.
process.on('message', () => {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  process.send?.({ rss: m.rss, heapUsed: m.heapUsed, arrayBuffers: m.arrayBuffers });
});
