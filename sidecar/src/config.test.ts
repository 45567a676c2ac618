import { strict as assert } from 'node:assert';
import { ConfigError, ENV, parseStatusRanges, readConfig } from './config.js';
import { parseDuration } from './duration.js';

const base = {
  [ENV.podName]: 'web-1',
  [ENV.podNamespace]: 'shop',
  [ENV.podUid]: '0c4a7c36-1111-4c1e-9a55-000000000001',
  [ENV.probePort]: '8080',
  [ENV.reportUrl]: 'https://bulkhead.bulkhead-system.svc:8443/api/v1/reports',
  [ENV.caPath]: '/var/run/secrets/bulkhead/ca.crt',
};

describe('sidecar config', () => {
  it('reads the injected env with defaults', () => {
    const c = readConfig({ ...base, [ENV.probePath]: '/healthz', [ENV.probeInterval]: '2s', [ENV.policy]: 'web' });
    assert.deepEqual(c.pod, { namespace: 'shop', name: 'web-1', uid: base[ENV.podUid] });
    assert.deepEqual(c.probe, {
      type: 'http',
      scheme: 'http',
      host: '127.0.0.1',
      port: 8080,
      path: '/healthz',
      headers: [],
      expectStatus: [{ min: 200, max: 399 }],
    });
    assert.equal(c.probeIntervalMs, 2000);
    assert.equal(c.probeTimeoutMs, 1000);
    assert.equal(c.policy, 'web');
    assert.equal(c.bufferSize, 1000);
    assert.equal(c.tokenPath, '/var/run/secrets/bulkhead/token');
  });

  it('supports tcp probes', () => {
    assert.deepEqual(readConfig({ ...base, [ENV.probeType]: 'tcp' }).probe, {
      type: 'tcp',
      host: '127.0.0.1',
      port: 8080,
    });
  });

  it('lists every problem at once', () => {
    assert.throws(
      () =>
        readConfig({
          [ENV.reportUrl]: 'http://engine/api/v1/reports',
          [ENV.probeInterval]: 'soon',
          [ENV.bufferSize]: '-1',
        }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        const text = err.problems.join('\n');
        // The CA path too: without it the only trust left would be the system store.
        for (const name of [
          ENV.podName,
          ENV.podUid,
          ENV.probePort,
          ENV.reportUrl,
          ENV.caPath,
          ENV.probeInterval,
          ENV.bufferSize,
        ])
          assert.match(text, new RegExp(name));
        assert.match(text, /https/);
        return true;
      },
    );
  });

  it('rejects a timeout longer than the interval', () => {
    assert.throws(() => readConfig({ ...base, [ENV.probeInterval]: '1s', [ENV.probeTimeout]: '2s' }), /TIMEOUT/);
  });

  it('parses durations and status ranges', () => {
    assert.equal(parseDuration('1m30s'), 90_000);
    assert.equal(parseDuration('250ms'), 250);
    assert.throws(() => parseDuration('10'), /invalid duration/);
    assert.deepEqual(parseStatusRanges('200-299, 404'), [
      { min: 200, max: 299 },
      { min: 404, max: 404 },
    ]);
    assert.throws(() => parseStatusRanges('299-200'));
  });

  it('reads https with headers, and grpc with its service; refuses headers that are no headers', () => {
    const https = readConfig({
      ...base,
      [ENV.probeScheme]: 'https',
      [ENV.probeHeaders]: JSON.stringify([{ name: 'Host', value: 'shop.example' }]),
    });
    assert.equal(https.probe.type === 'http' && https.probe.scheme, 'https');
    assert.deepEqual(https.probe.type === 'http' && https.probe.headers, [{ name: 'Host', value: 'shop.example' }]);
    const grpc = readConfig({ ...base, [ENV.probeType]: 'grpc', [ENV.probeGrpcService]: 'shop' });
    assert.deepEqual(grpc.probe, { type: 'grpc', host: '127.0.0.1', port: 8080, service: 'shop' });
    assert.throws(() => readConfig({ ...base, [ENV.probeHeaders]: '[{"name":"a b","value":"x"}]' }), ConfigError);
    assert.throws(() => readConfig({ ...base, [ENV.probeScheme]: 'ftp' }), /http or https/);
  });
});
