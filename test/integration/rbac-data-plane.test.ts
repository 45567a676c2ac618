// The data plane runs under exactly deploy/rbac, and its main rules are each needed: every
// named scenario below passes as the engine's ServiceAccount, and removing the one rule it
// depends on from the shipped ClusterRole makes it fail with 403 (then the rule is restored).
import { strict as assert } from 'node:assert';
import { readFile } from 'node:fs/promises';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { decide } from '../../engine/src/analytics/decide.js';
import { groupIncidents } from '../../engine/src/analytics/grouping.js';
import type { HealthPolicy } from '../../engine/src/core/api/index.js';
import { KubeClient } from '../../engine/src/core/kube/client.js';
import { EventRecorder } from '../../engine/src/core/kube/events.js';
import { ResourceResolver } from '../../engine/src/core/kube/resources.js';
import { silentLogger } from '../../engine/src/core/logger.js';
import { mintServiceAccountToken } from '../../tools/local-cluster/index.js';
import {
  executeVerdict,
  listQuarantines,
  releaseQuarantine,
  type QuarantineDeps,
} from '../../engine/src/quarantine/index.js';
import { installEngineRbac } from '../harness/engine-process.js';
import { eventually, getCluster, newNamespace } from '../harness/index.js';
import { failingSignal, healthOf, runDeployment } from './support/quarantine-fixtures.js';

const policy: HealthPolicy = {
  apiVersion: 'bulkhead.dev/v1alpha1',
  kind: 'HealthPolicy',
  metadata: { name: 'rbac-test' },
  spec: {
    match: {},
    probe: { http: { path: '/', port: 80 } },
    detect: { rules: [{ type: 'ConsecutiveFailures' }] },
    action: { type: 'Quarantine', budget: { maxUnavailable: '100%', maxPerNamespacePerHour: 1000 } },
  },
};

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

describe('data-plane RBAC: each main rule is needed', () => {
  let engineNs: string;
  let appNs: string;
  let deps: QuarantineDeps;
  let roleName: string;
  let shipped: Rule[];
  let podIndex = 0;
  let adminDeps: QuarantineDeps;
  const nextPod = () => {
    const p = pods[podIndex++];
    if (!p) throw new Error('pod pool exhausted');
    return p;
  };
  let pods: Awaited<ReturnType<typeof runDeployment>>;
  const usedStateful = new Set<string>();
  /** A StatefulSet pod not tried before (each replaced one comes back with a new uid). */
  const nextStatefulPod = async () => {
    const list = await getCluster()
      .kubeConfig()
      .makeApiClient(CoreV1Api)
      .listNamespacedPod({ namespace: appNs, labelSelector: 'app=db' });
    const p = list.items.find(
      (x) => x.status?.phase === 'Running' && !x.metadata?.deletionTimestamp && !usedStateful.has(x.metadata!.uid!),
    );
    if (!p) throw new Error('no StatefulSet pod to try yet');
    usedStateful.add(p.metadata!.uid!);
    return p;
  };
  const admin = () => new KubeClient(getCluster().kubeConfig());

  before(async function () {
    this.timeout(120_000);
    engineNs = await newNamespace('rbac-engine');
    appNs = await newNamespace('rbac-app');
    const { kubeconfigPath } = await installEngineRbac(engineNs);
    const kc = new KubeConfig();
    kc.loadFromString(await readFile(kubeconfigPath, 'utf8'));
    const client = new KubeClient(kc);
    const logger = silentLogger();
    deps = {
      client,
      resolver: new ResourceResolver(client),
      events: new EventRecorder(client, { component: 'bulkhead', instance: 'rbac', logger }),
      logger,
      now: () => new Date(),
      cluster: 'rbac',
      protectedNamespaces: new Set([engineNs]),
    };
    const adminClient = admin();
    adminDeps = {
      ...deps,
      client: adminClient,
      resolver: new ResourceResolver(adminClient),
      events: new EventRecorder(adminClient, { component: 'bulkhead', instance: 'rbac-admin', logger }),
    };
    roleName = `bulkhead-engine-data-plane-${engineNs}`;
    const role = await admin().request<{ rules: Rule[] }>({
      method: 'GET',
      path: `/apis/rbac.authorization.k8s.io/v1/clusterroles/${roleName}`,
    });
    shipped = role.rules;
    // A pool of pods: every attempt of a scenario takes a fresh one, so retries stay independent.
    pods = await runDeployment(getCluster().kubeConfig(), appNs, 'web', 40);
    await admin().request({
      method: 'POST',
      path: `/apis/apps/v1/namespaces/${appNs}/statefulsets`,
      body: {
        apiVersion: 'apps/v1',
        kind: 'StatefulSet',
        metadata: { name: 'db' },
        spec: {
          replicas: 6,
          serviceName: 'db',
          podManagementPolicy: 'Parallel',
          selector: { matchLabels: { app: 'db' } },
          template: {
            metadata: { labels: { app: 'db' } },
            spec: { containers: [{ name: 'app', image: 'registry.invalid/db:1' }] },
          },
        },
      },
    });
  });

  /** Replaces the shipped ClusterRole's rules (admin), and waits until RBAC reflects it. */
  async function setRules(rules: Rule[]): Promise<void> {
    await admin().request({
      method: 'PATCH',
      path: `/apis/rbac.authorization.k8s.io/v1/clusterroles/${roleName}`,
      contentType: 'application/merge-patch+json',
      body: { rules },
    });
  }
  const without = (resource: string, verb: string): Rule[] =>
    shipped
      .map((r) => (r.resources.includes(resource) ? { ...r, verbs: r.verbs.filter((v) => v !== verb) } : r))
      .filter((r) => r.verbs.length > 0);
  const forbidden = (err: unknown): boolean =>
    /403|Forbidden|forbidden/.test(
      err instanceof Error ? `${err.message} ${String((err as { cause?: unknown }).cause ?? '')}` : String(err),
    );

  /** The engine's own view of one permission (SelfSubjectAccessReview needs no RBAC). */
  const allowed = async (group: string, resource: string, verb: string): Promise<boolean> => {
    const [res, sub] = resource.split('/');
    const r = await deps.client.request<{ status?: { allowed?: boolean } }>({
      method: 'POST',
      path: '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: {
          resourceAttributes: {
            namespace: appNs,
            group,
            resource: res,
            ...(sub ? { subresource: sub } : {}),
            verb,
            ...(resource === 'networkpolicies' ? { name: 'bulkhead-quarantine' } : {}),
          },
        },
      },
    });
    return r.status?.allowed === true;
  };
  const GROUP: Record<string, string> = {
    pods: '',
    'pods/eviction': '',
    quarantines: 'bulkhead.dev',
    'quarantines/status': 'bulkhead.dev',
    networkpolicies: 'networking.k8s.io',
    replicasets: 'apps',
    statefulsets: 'apps',
    secrets: '',
    tokenreviews: 'authentication.k8s.io',
    subjectaccessreviews: 'authorization.k8s.io',
  };

  const scenarios: { name: string; needs: [resource: string, verb: string][]; run: () => Promise<void> }[] = [
    {
      name: 'quarantine a failing pod (detach + isolate + Quarantine CR)',
      needs: [
        ['pods', 'patch'],
        ['quarantines', 'create'],
        ['quarantines', 'list'],
        // create is needed once per namespace; afterwards the apply is a patch of the named policy.
        ['networkpolicies', 'patch'],
        ['quarantines/status', 'patch'],
        ['replicasets', 'get'],
        // The namespace's other policies: which allows still select the pod (ADR 1030).
        ['networkpolicies', 'list'],
      ],
      run: async () => {
        const p = healthOf(nextPod());
        const [incident] = groupIncidents([{ pod: p, signals: [failingSignal(p)] }]);
        const result = await executeVerdict(deps, decide(incident!, policy, []));
        const t = result.taken[0]!;
        if (t.action !== 'Quarantine' || t.outcome !== 'done')
          throw new Error(`quarantine ${t.action} ${t.outcome}: ${t.detail ?? ''}`);
      },
    },
    {
      name: 'replace a quarantined StatefulSet pod (snapshot into a Secret, then delete; ADR 1031)',
      needs: [
        ['secrets', 'create'],
        ['pods', 'delete'],
        ['statefulsets', 'get'],
      ],
      run: async () => {
        const p = healthOf(await nextStatefulPod());
        const [incident] = groupIncidents([{ pod: p, signals: [failingSignal(p)] }]);
        const t = (await executeVerdict(deps, decide(incident!, policy, []))).taken[0]!;
        if (t.outcome !== 'done') throw new Error(`quarantine ${t.action} ${t.outcome}: ${t.detail ?? ''}`);
      },
    },
    {
      name: 'authenticate a sidecar report (TokenReview)',
      needs: [['tokenreviews', 'create']],
      run: async () => {
        const token = await mintServiceAccountToken(getCluster().kubeConfig(), appNs, 'default', {
          audiences: ['bulkhead'],
        });
        const r = await deps.client.request<{ status?: { authenticated?: boolean } }>({
          method: 'POST',
          path: '/apis/authentication.k8s.io/v1/tokenreviews',
          body: {
            apiVersion: 'authentication.k8s.io/v1',
            kind: 'TokenReview',
            spec: { token, audiences: ['bulkhead'] },
          },
        });
        assert.equal(r.status?.authenticated, true);
      },
    },
    {
      name: 'authorize an external verdict (SubjectAccessReview)',
      needs: [['subjectaccessreviews', 'create']],
      run: async () => {
        await deps.client.request({
          method: 'POST',
          path: '/apis/authorization.k8s.io/v1/subjectaccessreviews',
          body: {
            apiVersion: 'authorization.k8s.io/v1',
            kind: 'SubjectAccessReview',
            spec: {
              user: 'someone',
              resourceAttributes: { namespace: appNs, verb: 'create', group: 'bulkhead.dev', resource: 'quarantines' },
            },
          },
        });
      },
    },
    {
      name: 'restart a pod through the Eviction API',
      needs: [['pods/eviction', 'create']],
      run: async () => {
        const p = nextPod();
        await deps.client.request({
          method: 'POST',
          path: `/api/v1/namespaces/${appNs}/pods/${p.metadata!.name}/eviction`,
          body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: p.metadata!.name, namespace: appNs } },
        });
      },
    },
    {
      name: 'release a quarantined pod',
      needs: [['pods', 'patch']],
      run: async () => {
        // Quarantined by an admin-run executor, released by the engine's identity.
        const p = healthOf(nextPod());
        const [incident] = groupIncidents([{ pod: p, signals: [failingSignal(p)] }]);
        await executeVerdict(adminDeps, decide(incident!, policy, []));
        const q = (await listQuarantines(adminDeps.client, adminDeps.resolver, appNs)).find(
          (x) => x.spec.pod.uid === p.uid && x.status?.phase === 'Isolated',
        );
        assert.ok(q, 'a quarantined pod to release');
        const outcome = await releaseQuarantine(deps, q, 'rbac test');
        assert.equal(outcome, 'released');
      },
    },
  ];

  for (const s of scenarios) {
    it(`${s.name}: passes with the shipped rules, fails without ${s.needs.map(([r, v]) => `${v} ${r}`).join(' / ')}`, async function () {
      this.timeout(120_000);
      await eventually(() => s.run(), { timeoutMs: 20_000, what: `${s.name} with the shipped rules` });
      for (const [resource, verb] of s.needs) {
        await setRules(without(resource, verb));
        try {
          // Wait until RBAC reflects the change, then one attempt must be refused with 403.
          await eventually(async () => assert.equal(await allowed(GROUP[resource]!, resource, verb), false), {
            what: `${verb} ${resource} revoked`,
          });
          const err = await s.run().then(
            () => undefined,
            (e: unknown) => e,
          );
          assert.ok(err !== undefined, `${s.name} still succeeded without ${verb} ${resource}`);
          assert.ok(forbidden(err), `${s.name} failed without ${verb} ${resource}, but not with 403: ${String(err)}`);
        } finally {
          await setRules(shipped);
          await eventually(async () => assert.equal(await allowed(GROUP[resource]!, resource, verb), true), {
            what: `${verb} ${resource} restored`,
          });
        }
      }
    });
  }
});
