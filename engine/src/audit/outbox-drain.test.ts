import { strict as assert } from 'node:assert';
import { Registry } from 'prom-client';
import type { KubeClient } from '../core/kube/client.js';
import type { EventRecorder } from '../core/kube/events.js';
import type { ResourceResolver } from '../core/kube/resources.js';
import { silentLogger } from '../core/logger.js';
import { createAuditMetrics } from './metrics.js';
import { createOutboxDrain } from './outbox-drain.js';
import type { FlushResult } from './outbox.js';
import type { RecordsRepo } from './records-repo.js';

function drain(opts: { flushes: FlushResult[]; repo?: RecordsRepo | undefined; now: () => number }) {
  const calls = { flush: 0, release: 0 };
  const registry = new Registry();
  const metrics = createAuditMetrics(registry);
  const run = createOutboxDrain({
    deps: {
      client: {} as KubeClient,
      resolver: {} as ResourceResolver,
      events: {} as EventRecorder,
      logger: silentLogger(),
      cluster: 'c1',
      now: () => new Date(opts.now()),
    },
    repo: async () => ('repo' in opts ? opts.repo : ({} as RecordsRepo)),
    releaseIntervalMs: 5000,
    metrics,
    flush: async () => {
      calls.flush++;
      return opts.flushes.shift() ?? { committed: 0, recovered: 0, waiting: 0 };
    },
    release: async () => {
      calls.release++;
      return { released: [] };
    },
  });
  const committedFlushes = async () =>
    (await registry.getSingleMetric('bulkhead_audit_flushes_total')!.get()).values.find(
      (v) => v.labels.result === 'committed',
    )?.value ?? 0;
  return { run, calls, committedFlushes };
}

describe('createOutboxDrain', () => {
  it('flushes batch after batch until nothing waits, counting the flushes that pushed', async () => {
    const d = drain({
      flushes: [
        { committed: 100, recovered: 0, waiting: 150, commit: 'a' },
        { committed: 100, recovered: 0, waiting: 50, commit: 'b' },
        { committed: 49, recovered: 1, waiting: 0, commit: 'c' },
      ],
      now: () => 10_000,
    });
    await d.run();
    assert.equal(d.calls.flush, 3);
    assert.equal(await d.committedFlushes(), 3);
  });

  it('reads releases from git on the first cycle, then at most every releaseIntervalMs', async () => {
    let t = 10_000;
    const d = drain({ flushes: [], now: () => t });
    await d.run();
    t += 4999;
    await d.run();
    assert.equal(d.calls.release, 1);
    t += 1;
    await d.run();
    assert.equal(d.calls.release, 2);
  });

  it('does nothing without a records repository (records stay Pending)', async () => {
    const d = drain({ flushes: [], repo: undefined, now: () => 10_000 });
    await d.run();
    assert.deepEqual(d.calls, { flush: 0, release: 0 });
  });
});
