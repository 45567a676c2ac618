// spec.forward: accepted reports go on to an external analytics endpoint. The endpoint hangs,
// then answers 500, then recovers; ingest keeps answering 202 throughout (each POST completes
// while the endpoint is still holding a forward request open), and every report arrives once
// the endpoint recovers, in order, exactly once.
import { strict as assert } from 'node:assert';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { ServerResponse } from 'node:http';
import { eventually, newNamespace } from '../harness/index.js';
import {
  createPod,
  httpsCall,
  killAll,
  makeTls,
  metric,
  podToken,
  startIngest,
  type Ingest,
  type TestPod,
} from './support/observe-processes.js';

interface Endpoint {
  url: string;
  mode: 'hang' | 'fail' | 'ok';
  /** Forward requests currently held open (hang mode). */
  held: ServerResponse[];
  attempts: number;
  received: { seq: number; pod: string }[];
  close(): Promise<void>;
}

async function startEndpoint(cert: { cert: string; key: string }): Promise<Endpoint> {
  const ep: Endpoint = {
    url: '',
    mode: 'hang',
    held: [],
    attempts: 0,
    received: [],
    close: async () => {},
  };
  const server: Server = createServer(cert, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      ep.attempts++;
      if (ep.mode === 'hang') {
        ep.held.push(res);
        return;
      }
      if (ep.mode === 'fail') {
        res.writeHead(500).end();
        return;
      }
      const batch = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        kind: string;
        reports: { pod: { name: string }; samples: { seq: number }[] }[];
      };
      assert.equal(batch.kind, 'HealthReportBatch');
      for (const r of batch.reports) for (const s of r.samples) ep.received.push({ seq: s.seq, pod: r.pod.name });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  ep.url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/v1/health-batches`;
  ep.close = async () => {
    for (const r of ep.held) r.destroy();
    server.closeAllConnections();
    await new Promise<void>((ok) => server.close(() => ok()));
  };
  return ep;
}

describe('observe: forwarding to an analytics endpoint (real ingest process)', () => {
  let ns: string;
  let ingest: Ingest;
  let endpoint: Endpoint;
  let pod: TestPod;
  let token: string;

  before(async () => {
    ns = await newNamespace('forward');
    const tls = await makeTls('analytics');
    endpoint = await startEndpoint(tls.serving);
    ingest = await startIngest(
      [
        '--rate',
        '100',
        '--burst',
        '100',
        '--forward',
        endpoint.url,
        '--forward-ca',
        tls.caPath,
        '--forward-timeout',
        '2s',
        '--forward-max-wait',
        '100ms',
      ],
      'observe-forwarding',
    );
    pod = await createPod(ns, 'fw-1');
    token = await podToken(pod);
  });
  after(async () => {
    await ingest?.stop();
    await endpoint?.close();
    await killAll();
  });

  let seq = 0;
  const postOne = async (): Promise<number> => {
    seq++;
    const body = JSON.stringify({
      apiVersion: 'bulkhead.dev/v1alpha1',
      kind: 'HealthReport',
      pod: { namespace: pod.namespace, name: pod.name, uid: pod.uid },
      policy: 'web',
      sidecar: { version: '0.1.0', instance: 'fw', startedAt: new Date().toISOString() },
      dropped: 0,
      samples: [{ seq, time: new Date().toISOString(), probe: { type: 'http', ok: true, latencyMs: 2, status: 200 } }],
    });
    const res = await httpsCall(`${ingest.url}/api/v1/reports`, {
      ca: ingest.tls.ca.cert,
      method: 'POST',
      body,
      token,
    });
    return res.status;
  };

  it('keeps accepting reports while the endpoint hangs, then answers 500, and delivers all once it recovers', async () => {
    endpoint.mode = 'hang';
    assert.equal(await postOne(), 202);
    await eventually(() => assert.ok(endpoint.held.length >= 1, 'the forwarder is stuck on the hanging endpoint'), {
      what: 'a forward request held open',
    });
    for (let i = 0; i < 15; i++) {
      assert.equal(await postOne(), 202, 'ingest answers while the endpoint hangs');
      assert.ok(
        endpoint.held.length >= 1 || endpoint.attempts > 1,
        'the endpoint is still hanging (or timed out and is being retried)',
      );
    }
    assert.equal(endpoint.received.length, 0);
    assert.ok((await metric(ingest, 'bulkhead_observe_forward_queue_depth')) >= 1, 'reports wait in the bounded queue');

    endpoint.mode = 'fail';
    for (const r of endpoint.held.splice(0)) r.writeHead(500).end();
    for (let i = 0; i < 10; i++) assert.equal(await postOne(), 202, 'ingest answers while the endpoint fails');
    await eventually(async () => assert.ok((await metric(ingest, 'bulkhead_observe_forward_failures_total')) >= 2), {
      what: 'failed forwards counted',
    });
    assert.equal(endpoint.received.length, 0);

    endpoint.mode = 'ok';
    await eventually(() => assert.equal(endpoint.received.length, seq), {
      what: `all ${seq} reports forwarded`,
      timeoutMs: 40_000,
    });
    assert.deepEqual(
      endpoint.received.map((r) => r.seq),
      Array.from({ length: seq }, (_, i) => i + 1),
      'in order, exactly once',
    );
    assert.ok(endpoint.received.every((r) => r.pod === 'fw-1'));
    assert.equal(await metric(ingest, 'bulkhead_observe_forward_dropped_total'), 0);
    await eventually(async () => assert.equal(await metric(ingest, 'bulkhead_observe_forward_queue_depth'), 0), {
      what: 'queue drained',
    });
    assert.equal(await metric(ingest, 'bulkhead_observe_requests_total', { route: 'reports', code: '202' }), seq);
  });
});
