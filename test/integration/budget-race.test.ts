// Two replicas decide about pods of one workload in the same instant (ADR 1501): each is the
// engine's ServiceAccount under deploy/rbac with its own client and identity, and the race
// is forced, not hoped for: both deciders' first read of the budget is held until the other
// has made the same read, so both decide from the same state. With the budget ledger the
// workload's maxUnavailable holds every round; the control round, without the ledger and
// with the same forced race on the Quarantine list, shows the race is real (both act).
import { strict as assert } from 'node:assert';
import { readFile } from 'node:fs/promises';
import { KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { decide } from '../../engine/src/analytics/decide.js';
import { groupIncidents } from '../../engine/src/analytics/grouping.js';
import type { HealthPolicy, Quarantine } from '../../engine/src/core/api/index.js';
import { KubeClient, type KubeRequest } from '../../engine/src/core/kube/client.js';
import { EventRecorder } from '../../engine/src/core/kube/events.js';
import { ResourceResolver } from '../../engine/src/core/kube/resources.js';
import { silentLogger } from '../../engine/src/core/logger.js';
import { executeVerdict, listQuarantines, type QuarantineDeps } from '../../engine/src/quarantine/index.js';
import { installEngineRbac } from '../harness/engine-process.js';
import { getCluster, newNamespace } from '../harness/index.js';
import { failingSignal, healthOf, runDeployment } from './support/quarantine-fixtures.js';

const ROUNDS = 12;

const policy: HealthPolicy = {
  apiVersion: 'bulkhead.dev/v1alpha1',
  kind: 'HealthPolicy',
  metadata: { name: 'budget-race' },
  spec: {
    match: {},
    probe: { http: { path: '/', port: 80 } },
    detect: { rules: [{ type: 'ConsecutiveFailures' }] },
    action: { type: 'Quarantine', budget: { maxUnavailable: 1, maxPerNamespacePerHour: 1000 } },
  },
};

/** The first two calls wait for each other; later calls pass at once. */
function barrierOfTwo(): () => Promise<void> {
  let arrived = 0;
  let release!: () => void;
  const both = new Promise<void>((ok) => (release = ok));
  return () => {
    arrived++;
    if (arrived === 2) release();
    return arrived <= 2 ? both : Promise.resolve();
  };
}

/** A client whose responses to matching requests wait at `barrier` before the caller sees them. */
function heldAt(client: KubeClient, matches: (r: KubeRequest) => boolean, barrier: () => Promise<void>): KubeClient {
  const c = Object.create(client) as KubeClient;
  c.request = async <T>(req: KubeRequest): Promise<T> => {
    // Held whatever the answer (the ledger's first read is a 404: it does not exist yet).
    try {
      return await client.request<T>(req);
    } finally {
      if (matches(req)) await barrier();
    }
  };
  return c;
}

describe('budget with two replicas deciding at the same instant (forced race)', function () {
  this.timeout(240_000);
  let engineNs: string;
  let appNs: string;
  let kc: KubeConfig;
  const clients: KubeClient[] = [];
  const workloads: V1Pod[][] = [];

  before(async () => {
    engineNs = await newNamespace('budget-race-engine');
    appNs = await newNamespace('budget-race-app');
    const { kubeconfigPath } = await installEngineRbac(engineNs);
    kc = new KubeConfig();
    kc.loadFromString(await readFile(kubeconfigPath, 'utf8'));
    // One workload per round (and one for the control): 3 replicas, maxUnavailable 1.
    const made = await Promise.all(
      Array.from({ length: ROUNDS + 1 }, (_, i) => runDeployment(getCluster().kubeConfig(), appNs, `w${i}`, 3)),
    );
    workloads.push(...made);
  });
  after(() => {
    for (const c of clients) c.close();
  });

  /** A replica's quarantine deps as the engine's ServiceAccount; its reads held as `hold` says. */
  const replica = (
    identity: string,
    hold: (r: KubeRequest) => boolean,
    barrier: () => Promise<void>,
    ledger: boolean,
  ) => {
    const base = new KubeClient(kc);
    clients.push(base);
    const client = heldAt(base, hold, barrier);
    const logger = silentLogger();
    const deps: QuarantineDeps = {
      client,
      resolver: new ResourceResolver(client),
      events: new EventRecorder(client, { component: 'bulkhead', instance: identity, logger }),
      logger,
      now: () => new Date(),
      cluster: 'race',
      protectedNamespaces: new Set([engineNs]),
      ...(ledger ? { budgetLedger: { namespace: engineNs, identity } } : {}),
    };
    return deps;
  };
  const verdictFor = (pod: V1Pod) => {
    const h = healthOf(pod);
    return decide(groupIncidents([{ pod: h, signals: [failingSignal(h)] }])[0]!, policy, []);
  };
  const activeIn = async (pods: V1Pod[]): Promise<Quarantine[]> => {
    const admin = new KubeClient(getCluster().kubeConfig());
    try {
      const uids = new Set(pods.map((p) => p.metadata!.uid!));
      return (await listQuarantines(admin, new ResourceResolver(admin), appNs)).filter(
        (q) => uids.has(q.spec.pod.uid) && q.spec.mode === 'Enforce',
      );
    } finally {
      admin.close();
    }
  };
  const ledgerRead = (r: KubeRequest): boolean => r.method === 'GET' && r.path.endsWith('/configmaps/bulkhead-budget');
  const quarantineList = (r: KubeRequest): boolean =>
    r.method === 'GET' && r.path.endsWith(`/namespaces/${appNs}/quarantines`);

  it(`control: without the ledger, the forced race spends the budget twice`, async () => {
    const pods = workloads[ROUNDS]!;
    const barrier = barrierOfTwo();
    const a = replica('replica-a', quarantineList, barrier, false);
    const b = replica('replica-b', quarantineList, barrier, false);
    await Promise.all([executeVerdict(a, verdictFor(pods[0]!)), executeVerdict(b, verdictFor(pods[1]!))]);
    assert.equal((await activeIn(pods)).length, 2, 'both replicas quarantined: maxUnavailable 1 exceeded');
  });

  it(`with the ledger, maxUnavailable 1 holds in each of ${ROUNDS} forced races`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const pods = workloads[round]!;
      const barrier = barrierOfTwo();
      // Both have read the cluster's Quarantines (none yet) and wait at the ledger read for each other.
      const a = replica('replica-a', ledgerRead, barrier, true);
      const b = replica('replica-b', ledgerRead, barrier, true);
      const [ra, rb] = await Promise.all([
        executeVerdict(a, verdictFor(pods[0]!)),
        executeVerdict(b, verdictFor(pods[1]!)),
      ]);
      const held = await activeIn(pods);
      assert.equal(held.length, 1, `round ${round}: exactly one pod of the workload quarantined`);
      const done = [ra, rb].filter((r) => r.taken.some((t) => t.action === 'Quarantine' && t.outcome === 'done'));
      const stopped = [ra, rb].filter((r) => r.budget.downgraded.some((d) => d.why === 'WorkloadBudgetExhausted'));
      assert.equal(done.length, 1, `round ${round}: one replica acted`);
      assert.equal(stopped.length, 1, `round ${round}: the other was held back by the budget and alerted`);
    }
    // Both replicas' claims are in the one ledger, each signed by its replica.
    const admin = new KubeClient(getCluster().kubeConfig());
    try {
      const cm = await admin.request<{ data: { claims: string } }>({
        method: 'GET',
        path: `/api/v1/namespaces/${engineNs}/configmaps/bulkhead-budget`,
      });
      const claims = JSON.parse(cm.data.claims) as { by: string }[];
      assert.equal(claims.length, ROUNDS, 'one claim per round');
      assert.ok(
        claims.every((c) => c.by === 'replica-a' || c.by === 'replica-b'),
        JSON.stringify(claims),
      );
    } finally {
      admin.close();
    }
  });
});
