// The real sidecar bundle as its own process, probing a real local HTTP app process, with a
// pod-bound token from the TokenRequest API, reporting to a real ingest process that asks the
// real apiserver to review the token.
//
// The engine outage is configurable so the default run is fast and the long one stays honest:
//   BULKHEAD_TEST_ENGINE_DOWN_MS (default 3000; the scenario is 60000)
//   BULKHEAD_TEST_SIDECAR_BUFFER (default 20 samples; probes run every 100 ms)
import { strict as assert } from 'node:assert';
import { eventually, newNamespace } from '../harness/index.js';
import {
  createPod,
  killAll,
  metric,
  podToken,
  readerToken,
  readHealth,
  startApp,
  startIngest,
  startSidecar,
  type Ingest,
  type PodHealthView,
} from './support/observe-processes.js';

const ENGINE_DOWN_MS = Number(process.env.BULKHEAD_TEST_ENGINE_DOWN_MS ?? 3000);
const BUFFER = Number(process.env.BULKHEAD_TEST_SIDECAR_BUFFER ?? 20);

describe('sidecar → engine delivery (real processes, real apiserver)', function () {
  this.timeout(60_000 + 2 * ENGINE_DOWN_MS);
  let ns: string;
  let ingest: Ingest;
  let reader: string;

  before(async () => {
    ns = await newNamespace('sidecar');
    ingest = await startIngest(['--rate', '50', '--burst', '100', '--window-samples', '5000']);
    reader = await readerToken(ns);
  });
  after(async () => {
    await ingest?.stop();
    await killAll();
  });

  const health = async (pod: string): Promise<PodHealthView> => {
    const [h] = await readHealth(ingest, reader, { namespace: ns, pod });
    assert.ok(h, `no health window for ${pod} yet`);
    return h;
  };

  it('delivers accepted reports, and a failing app is reported at once, not at the next report tick', async () => {
    const app = await startApp('app-1');
    const pod = await createPod(ns, 'web-1');
    const sidecar = await startSidecar(
      pod,
      await podToken(pod),
      {
        BULKHEAD_PROBE_PORT: String(app.port),
        BULKHEAD_PROBE_PATH: '/health',
        BULKHEAD_PROBE_INTERVAL: '200ms',
        BULKHEAD_PROBE_TIMEOUT: '150ms',
        // Periodic reports never come during this test: only a change of state sends.
        BULKHEAD_REPORT_INTERVAL: '1h',
        BULKHEAD_REPORT_URL: `${ingest.url}/api/v1/reports`,
        BULKHEAD_CA_PATH: ingest.tls.caPath,
        BULKHEAD_PROC_STATS: 'true',
        BULKHEAD_PROC_MATCH: `bulkhead-test-app-${app.port}`,
      },
      'sidecar-1',
    );
    const first = await eventually(
      async () => {
        const h = await health('web-1');
        assert.ok(h.samples.length >= 1);
        return h;
      },
      { what: 'first (healthy) sample accepted' },
    );
    assert.equal(first.uid, pod.uid);
    assert.deepEqual(
      [first.samples[0]!.seq, first.samples[0]!.probe.ok, first.samples[0]!.probe.status],
      [1, true, 200],
    );
    assert.ok((await metric(ingest, 'bulkhead_observe_requests_total', { route: 'reports', code: '202' })) >= 1);

    await app.setMode('fail');
    const failing = await eventually(
      async () => {
        const h = await health('web-1');
        const bad = h.samples.find((s) => !s.probe.ok);
        assert.ok(bad, 'a failing sample arrived');
        return { h, bad };
      },
      { what: 'failing sample delivered without waiting for the 1h report interval' },
    );
    assert.equal(failing.bad.probe.status, 500);
    assert.equal(failing.bad.probe.error, 'UnexpectedStatus');
    // The healthy samples buffered in between came with it, in order and without gaps.
    const seqs = failing.h.samples.map((s) => s.seq);
    assert.deepEqual(
      seqs,
      seqs.map((_, i) => i + 1),
    );
    assert.equal(failing.h.gaps, 0);
    // Process stats of the app process (the sidecar sees it as a shared PID namespace would).
    const withStats = (await readHealth(ingest, reader, { namespace: ns, pod: 'web-1' }).then(
      (l) => l[0],
    )) as PodHealthView & { process?: { count: number; rssBytes: number } };
    assert.equal(withStats.process?.count, 1);
    assert.ok((withStats.process?.rssBytes ?? 0) > 0);

    // Another kind of failure is a change of state too: sent at once.
    await app.setMode('hang');
    await eventually(async () => assert.ok((await health('web-1')).samples.some((s) => s.probe.error === 'Timeout')), {
      what: 'hung app reported as Timeout',
    });
    await app.setMode('ok');
    const beforeStop = await eventually(
      async () => {
        const h = await sidecar.health();
        assert.equal(h.lastProbe?.ok, true);
        return h;
      },
      { what: 'sidecar sees the app healthy again' },
    );
    // SIGTERM flushes what is buffered (the 1h report interval would never send it) and exits 0.
    assert.equal(await sidecar.stop(), 0, 'SIGTERM flush delivered everything');
    const last = (await health('web-1')).samples.at(-1)!;
    assert.ok(
      last.seq >= beforeStop.seq,
      `engine has seq ${last.seq}, sidecar had produced ${beforeStop.seq} before SIGTERM`,
    );
    assert.equal(last.probe.ok, true, 'the recovery was delivered');
  });

  it(`buffers while the engine is down (${ENGINE_DOWN_MS} ms), drops the oldest beyond ${BUFFER} samples, then delivers in order with the drop count`, async () => {
    const app = await startApp('app-2');
    const pod = await createPod(ns, 'web-2');
    const sidecar = await startSidecar(
      pod,
      await podToken(pod),
      {
        BULKHEAD_PROBE_PORT: String(app.port),
        BULKHEAD_PROBE_PATH: '/health',
        BULKHEAD_PROBE_INTERVAL: '100ms',
        BULKHEAD_PROBE_TIMEOUT: '90ms',
        BULKHEAD_REPORT_INTERVAL: '300ms',
        BULKHEAD_REPORT_URL: `${ingest.url}/api/v1/reports`,
        BULKHEAD_CA_PATH: ingest.tls.caPath,
        BULKHEAD_BUFFER_SIZE: String(BUFFER),
        BULKHEAD_BACKOFF_BASE: '100ms',
        BULKHEAD_BACKOFF_CAP: '1s',
        BULKHEAD_REQUEST_TIMEOUT: '1s',
      },
      'sidecar-2',
    );
    await eventually(async () => assert.ok((await health('web-2')).samples.length >= 3), {
      what: 'sidecar-2 delivering',
    });

    await ingest.stop();
    const downAt = Date.now();
    // Everything acknowledged before the outage (no drops yet: the buffer was draining).
    const atStop = await sidecar.health();
    assert.equal(atStop.dropped, 0);
    const deliveredBefore = atStop.delivered;
    const during = await eventually(
      async () => {
        const h = await sidecar.health();
        assert.ok(Date.now() - downAt >= ENGINE_DOWN_MS, 'engine still within its outage');
        assert.equal(h.buffered, BUFFER, 'buffer full');
        assert.ok(h.dropped > 0, 'oldest dropped');
        return h;
      },
      { what: 'engine outage with a full sidecar buffer', timeoutMs: ENGINE_DOWN_MS + 30_000, intervalMs: 200 },
    );
    assert.equal(during.delivered, deliveredBefore, 'nothing delivered while the engine was down');

    await ingest.start();
    // The restarted engine has empty windows: all it holds of web-2 came from the buffer onwards.
    const after = await eventually(
      async () => {
        const h = await health('web-2');
        const s = await sidecar.health();
        assert.equal(s.buffered < BUFFER, true, 'buffer drained');
        assert.ok(h.samples.length >= BUFFER, `received ${h.samples.length}`);
        assert.equal(h.droppedBySidecar, s.dropped, 'engine knows the drop count');
        return { h, s };
      },
      { what: 'buffered samples delivered after the engine came back', timeoutMs: 30_000 },
    );
    const seqs = after.h.samples.map((x) => x.seq);
    assert.deepEqual(
      seqs,
      seqs.map((_, i) => seqs[0]! + i),
      'in order, no gaps',
    );
    // The oldest undelivered samples were the ones dropped: delivery resumes right after them.
    assert.equal(seqs[0], deliveredBefore + after.h.droppedBySidecar + 1);
    assert.ok(after.h.droppedBySidecar >= during.dropped);
    assert.equal(after.h.gaps, 0);
    assert.ok((await metric(ingest, 'bulkhead_observe_sidecar_dropped_samples_total')) >= during.dropped);
    assert.equal(await sidecar.stop(), 0);
  });
});
