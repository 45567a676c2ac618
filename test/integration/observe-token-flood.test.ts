// Issue 14, attack 5: 20,000 distinct forged tokens against the running engine process (as
// deploy/ runs it: --https, deploy/rbac), from another address than the real sidecars'. The
// TokenReviews it makes are counted by the apiserver itself (apiserver_request_total), the
// real sidecar processes keep being accepted throughout, and the engine's RSS (read from
// /proc) comes back to within 10 % of before once the flood is over (ADR 1411).
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile, mkdtemp } from 'node:fs/promises';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WEBHOOK_NAMES } from '../../engine/src/admission/index.js';
import { REVIEW_LIMITS } from '../../engine/src/observe/authenticator.js';
import { KubeClient } from '../../engine/src/core/kube/client.js';
import { installEngineRbac, startEngineProcess, type EngineProcess } from '../harness/engine-process.js';
import { eventually, getCluster, newNamespace } from '../harness/index.js';
import {
  createPod,
  httpsCall,
  killAll,
  podToken,
  quickSidecarEnv,
  readerToken,
  startApp,
  startSidecar,
  type PodHealthView,
  type SidecarProc,
} from './support/observe-processes.js';
import { deleteWebhookConfigs } from './support/admission-harness.js';

const FLOOD = 20_000;
/** The flood's own loopback address: the real sidecars connect from 127.0.0.1. */
const ATTACKER = '127.0.0.2';

/** A JWT-shaped token with our audience and a future exp, signed by nobody: only TokenReview can tell. */
function forgedToken(): string {
  const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  const exp = Math.floor(Date.now() / 1000) + 3600;
  return `${b64({ alg: 'RS256', kid: 'forged' })}.${b64({ aud: ['bulkhead'], exp, sub: 'system:serviceaccount:x:y', jti: randomBytes(12).toString('hex') })}.${randomBytes(64).toString('base64url')}`;
}

async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  assert.ok(kb, `no VmRSS in /proc/${pid}/status`);
  return Number(kb[1]) * 1024;
}

describe('a flood of forged tokens costs bounded TokenReviews and memory; real sidecars keep reporting', function () {
  this.timeout(300_000);
  let admin: KubeClient;
  let ns: string;
  let appNs: string;
  let engine: EngineProcess;
  let dataPlane: string;
  let ca: string;
  let reader: string;
  const sidecars: SidecarProc[] = [];

  /** TokenReviews the apiserver has served, by its own count. */
  const tokenReviews = async (): Promise<number> => {
    const text = await admin.request<string>({ method: 'GET', path: '/metrics', text: true });
    let total = 0;
    for (const line of text.split('\n'))
      if (line.startsWith('apiserver_request_total{') && line.includes('resource="tokenreviews"'))
        total += Number(line.split(' ').pop());
    return total;
  };
  const seqOf = async (pod: string): Promise<number> => {
    const r = await httpsCall(`${dataPlane}/api/v1/health?namespace=${appNs}&pod=${pod}`, { ca, token: reader });
    assert.equal(r.status, 200, r.body);
    const h = r.json<{ items: PodHealthView[] }>().items[0];
    return Math.max(0, ...(h?.samples ?? []).map((s) => s.seq));
  };

  before(async () => {
    admin = new KubeClient(getCluster().kubeConfig());
    ns = await newNamespace('flood');
    appNs = await newNamespace('flood-app');
    const { kubeconfigPath } = await installEngineRbac(ns);
    engine = await startEngineProcess({
      name: `${ns}-a`,
      kubeconfigPath,
      namespace: ns,
      args: ['--https', '127.0.0.1:0', '--webhook-url', 'listen'],
    });
    dataPlane = (await engine.logLines()).find((l) => l.msg === 'engine started')!.dataPlaneUrl as string;
    const tls = await admin.request<{ data: Record<string, string> }>({
      method: 'GET',
      path: `/api/v1/namespaces/${ns}/secrets/bulkhead-webhook-tls`,
    });
    ca = Buffer.from(tls.data['ca.crt']!, 'base64').toString('utf8');
    const caPath = join(await mkdtemp(join(tmpdir(), 'bulkhead-flood-ca-')), 'ca.crt');
    await writeFile(caPath, ca);
    reader = await readerToken(appNs);
    const app = await startApp('flood-app');
    for (const name of ['real-1', 'real-2']) {
      const pod = await createPod(appNs, name);
      sidecars.push(
        await startSidecar(
          pod,
          await podToken(pod),
          quickSidecarEnv(app.port, `${dataPlane}/api/v1/reports`, caPath),
          `flood-${name}`,
        ),
      );
    }
    for (const name of ['real-1', 'real-2'])
      await eventually(async () => assert.ok((await seqOf(name)) >= 3), { what: `${name} reports accepted` });
  });
  after(async () => {
    await killAll();
    await engine?.stop();
    // Whichever path the engine registered (ADR 1700: auto takes the admission policies here).
    await deleteWebhookConfigs(getCluster().kubeConfig(), WEBHOOK_NAMES);
    admin?.close();
  });

  it(`${FLOOD} distinct forged tokens: TokenReviews within the per-address budget, sidecars accepted, RSS back within 10 %`, async () => {
    const u = new URL(`${dataPlane}/api/v1/reports`);
    // Keep-alive from the attacker's address, 16 requests at a time: as fast as the engine answers.
    const agent = new Agent({ keepAlive: true, maxSockets: 16, ca, localAddress: ATTACKER });
    const post = (token: string): Promise<number> =>
      new Promise((ok, fail) => {
        const req = request(
          {
            method: 'POST',
            hostname: u.hostname,
            port: u.port,
            path: u.pathname,
            agent,
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': '2' },
          },
          (res) => {
            res.resume();
            res.on('end', () => ok(res.statusCode ?? 0));
          },
        );
        req.on('error', fail);
        req.end('{}');
      });
    // A short burst first, so the baseline is the engine as it runs under traffic (code paths
    // compiled, TLS sessions set up), not a process that has never answered a request.
    for (let i = 0; i < 200; i++) await post(forgedToken());
    const rssBefore = await rssBytes(engine.pid);
    const reviewsBefore = await tokenReviews();
    const seqBefore = await Promise.all(['real-1', 'real-2'].map(seqOf));

    const started = performance.now();
    const codes = new Map<number, number>();
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < FLOOD) {
          next++;
          const code = await post(forgedToken());
          codes.set(code, (codes.get(code) ?? 0) + 1);
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    agent.destroy();
    const seqAfter = await Promise.all(['real-1', 'real-2'].map(seqOf));
    const reviews = (await tokenReviews()) - reviewsBefore;

    // Nothing forged got in: every answer is a refusal (401 reviewed and rejected, 429 over budget).
    assert.deepEqual(
      [...codes.keys()].sort(),
      [401, 429].filter((c) => codes.has(c)),
      `status codes ${JSON.stringify([...codes])}`,
    );
    assert.equal(
      [...codes.values()].reduce((a, b) => a + b, 0),
      FLOOD,
    );
    // The bound: the attacker's address gets its burst, then its sustained rate; the sidecars'
    // cached answers expire at most once per 60 s TTL each (one review apiece, plus one spare).
    const perSource = REVIEW_LIMITS.perSource;
    const bound =
      perSource.burst + perSource.ratePerSec * Math.ceil(seconds) + sidecars.length * (2 + Math.ceil(seconds / 60));
    process.stderr.write(
      `      flood: ${FLOOD} forged tokens in ${seconds.toFixed(1)} s → ${reviews} TokenReviews (bound ${bound}); ` +
        `answers ${JSON.stringify(Object.fromEntries(codes))}\n`,
    );
    assert.ok(reviews <= bound, `${reviews} TokenReviews for ${FLOOD} forged tokens, bound ${bound}`);
    // The real sidecars kept being accepted during the flood.
    for (const [i, name] of ['real-1', 'real-2'].entries())
      assert.ok(
        seqAfter[i]! > seqBefore[i]!,
        `${name}: reports accepted during the flood (${seqBefore[i]} → ${seqAfter[i]})`,
      );
    for (const s of sidecars) assert.equal((await s.health()).dropped, 0, 'no sidecar dropped a sample');

    // Memory: back within 10 % of before, once the engine's own GC has run (nothing test-only).
    const settled = await eventually(
      async () => {
        const rss = await rssBytes(engine.pid);
        assert.ok(
          rss <= rssBefore * 1.1,
          `RSS ${(rss / 2 ** 20).toFixed(0)} MiB vs ${(rssBefore / 2 ** 20).toFixed(0)} MiB before`,
        );
        return rss;
      },
      { timeoutMs: 90_000, intervalMs: 2_000, what: 'engine RSS back within 10 % of before the flood' },
    );
    process.stderr.write(
      `      engine RSS ${(rssBefore / 2 ** 20).toFixed(0)} MiB before, ${(settled / 2 ** 20).toFixed(0)} MiB after (ratio ${(settled / rssBefore).toFixed(2)})\n`,
    );
  });
});
