import { strict as assert } from 'node:assert';
import { request, Agent } from 'node:https';
import { Registry } from 'prom-client';
import { createCertificateAuthority, issueCertificate } from '../core/pki.js';
import { silentLogger } from '../core/logger.js';
import { createAdmissionApp, type Processor } from './app.js';
import { startAdmissionServer, type AdmissionServer } from './server.js';
import type { AdmissionReview } from './review.js';

interface Reply {
  status: number;
  body: string;
  json: () => AdmissionReview & { error?: string };
}

describe('admission app over HTTPS', () => {
  let server: AdmissionServer;
  let ca: string;
  let registry: Registry;
  let agent: Agent;
  const behaviour: { mutate: Processor; validate: Processor } = {
    mutate: (r) => ({ outcome: 'unchanged', response: { uid: r.uid, allowed: true } }),
    validate: (r) => ({ outcome: 'allowed', response: { uid: r.uid, allowed: true } }),
  };

  before(async () => {
    const authority = await createCertificateAuthority('t', 1);
    ca = authority.cert;
    const serving = await issueCertificate(authority, {
      commonName: '127.0.0.1',
      ipAddresses: ['127.0.0.1'],
      usage: 'server',
      validForDays: 1,
    });
    registry = new Registry();
    const app = createAdmissionApp({
      logger: silentLogger(),
      registry,
      mutate: (r) => behaviour.mutate(r),
      validate: (r) => behaviour.validate(r),
      maxBodyBytes: 64 * 1024,
      exposeMetrics: true,
    });
    server = await startAdmissionServer(app, serving);
    agent = new Agent({ ca, keepAlive: true });
  });
  after(async () => {
    agent.destroy();
    await server.close();
  });

  const send = (path: string, body: string | Buffer, method = 'POST'): Promise<Reply> =>
    new Promise((ok, fail) => {
      const req = request(
        `${server.url}${path}`,
        { method, agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            ok({
              status: res.statusCode ?? 0,
              body: text,
              json: () => JSON.parse(text) as AdmissionReview & { error?: string },
            });
          });
        },
      );
      req.on('error', fail);
      req.end(body);
    });

  const review = (request: Record<string, unknown>): string =>
    JSON.stringify({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: {
        uid: 'abc',
        kind: { group: '', version: 'v1', kind: 'Pod' },
        operation: 'CREATE',
        namespace: 'ns',
        object: {},
        ...request,
      },
    });

  it('answers a valid review with the same uid in an AdmissionReview v1 envelope', async () => {
    const r = await send('/mutate', review({}));
    assert.equal(r.status, 200);
    assert.deepEqual(r.json(), {
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: { uid: 'abc', allowed: true },
    });
  });

  const bad: [string, string, RegExp][] = [
    ['malformed JSON', '{"apiVersion": ', /not valid JSON/],
    ['a JSON array', '[]', /must be a JSON object/],
    [
      'the wrong kind',
      JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'Pod', request: { uid: 'x' } }),
      /kind must be "AdmissionReview"/,
    ],
    [
      'the wrong version',
      JSON.stringify({ apiVersion: 'admission.k8s.io/v1beta1', kind: 'AdmissionReview', request: { uid: 'x' } }),
      /apiVersion must be "admission.k8s.io\/v1"/,
    ],
    [
      'no request',
      JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }),
      /request is missing/,
    ],
    ['no uid', review({ uid: undefined }), /request.uid is missing/],
    ['an empty uid', review({ uid: '' }), /request.uid is missing/],
    ['an empty body', '', /empty body/],
  ];
  for (const [what, body, message] of bad) {
    it(`400s ${what} with a clear message, on both endpoints`, async () => {
      for (const path of ['/mutate', '/validate']) {
        const r = await send(path, body);
        assert.equal(r.status, 400, `${path}: ${r.body}`);
        assert.match(r.json().error ?? '', message);
      }
    });
  }

  it('413s an oversized body without reading it all, and keeps serving', async () => {
    const big = Buffer.alloc(200 * 1024, 'a');
    const r = await send('/mutate', big);
    assert.equal(r.status, 413);
    assert.match(r.json().error ?? '', /exceeds the limit of 65536 bytes/);
    assert.equal((await send('/mutate', review({}))).status, 200);
  });

  it('413s an oversized chunked body (no content-length)', async () => {
    const r = await new Promise<number>((ok, fail) => {
      const req = request(`${server.url}/validate`, { method: 'POST', agent: new Agent({ ca }) }, (res) => {
        res.resume();
        ok(res.statusCode ?? 0);
      });
      req.on('error', fail);
      for (let i = 0; i < 20; i++) req.write(Buffer.alloc(8 * 1024, 'b'));
      req.end();
    });
    assert.equal(r, 413);
  });

  it('404s unknown paths and 405s GET on an endpoint', async () => {
    assert.equal((await send('/nope', review({}))).status, 404);
    assert.equal((await send('/mutate', '', 'GET')).status, 405);
  });

  it('/mutate fails open on an internal error: allowed, unpatched, counted', async () => {
    behaviour.mutate = () => {
      throw new Error('index exploded');
    };
    try {
      const r = await send('/mutate', review({ uid: 'm1' }));
      assert.equal(r.status, 200);
      const res = r.json().response!;
      assert.equal(res.uid, 'm1');
      assert.equal(res.allowed, true);
      assert.equal(res.patch, undefined);
      assert.match(res.warnings?.[0] ?? '', /index exploded/);
      const counter = await registry.getSingleMetric('bulkhead_admission_mutate_errors_total')!.get();
      assert.equal(counter.values[0]!.value, 1);
    } finally {
      behaviour.mutate = (r) => ({ outcome: 'unchanged', response: { uid: r.uid, allowed: true } });
    }
  });

  it('/validate fails closed on an internal error: denied', async () => {
    behaviour.validate = async () => {
      throw new Error('no idea');
    };
    try {
      const res = (await send('/validate', review({ uid: 'v1' }))).json().response!;
      assert.equal(res.allowed, false);
      assert.equal(res.status?.code, 500);
      assert.match(res.status?.message ?? '', /guard failed, write denied: no idea/);
    } finally {
      behaviour.validate = (r) => ({ outcome: 'allowed', response: { uid: r.uid, allowed: true } });
    }
  });

  it('records latency per endpoint and outcome, served at /metrics', async () => {
    const text = (await send('/metrics', '', 'GET')).body;
    assert.match(text, /bulkhead_admission_duration_seconds_count\{endpoint="mutate",outcome="unchanged"\} \d+/);
    assert.match(text, /bulkhead_admission_duration_seconds_count\{endpoint="mutate",outcome="bad_request"\} \d+/);
    assert.match(text, /bulkhead_admission_duration_seconds_count\{endpoint="mutate",outcome="error"\} 1/);
    assert.match(text, /bulkhead_admission_duration_seconds_count\{endpoint="validate",outcome="error"\} 1/);
  });

  it('survives a burst of garbage and keeps answering', async () => {
    const junk = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        send(i % 2 ? '/mutate' : '/validate', i % 3 ? '{{{' : Buffer.alloc(70 * 1024)),
      ),
    );
    assert.ok(junk.every((r) => r.status === 400 || r.status === 413));
    assert.equal((await send('/validate', review({}))).status, 200);
  });
});
