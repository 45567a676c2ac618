// Issue 13 point 4 on real nodes, through the engine as installed (`bulkhead install`, 2
// replicas): injected demo-app pods keep reporting while an operator forces a CA rotation the
// documented way (the `bulkhead.dev/rotate-ca` annotation on the TLS Secret, with the shortest
// step `bulkhead.dev/rotate-ca-step` allows, as in an emergency: ADR 1020), through staging,
// promotion, the follower's reload and the old CA's retirement; and a pod created while `bulkhead-ca` is missing
// from its namespace starts reporting once the engine publishes it. "Reporting" is read from
// the engine's own health data (GET /api/v1/health), on each replica, since each keeps what
// the sidecars it serves sent it.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { request } from 'node:https';
import { connect } from 'node:tls';
import { MIN_CA_STEP_MS, ROTATE_CA_STEP_ANNOTATION } from '../../engine/src/admission/tls/rotation-step.js';
import { ROTATE_CA_ANNOTATION } from '../../engine/src/admission/tls/secret-store.js';
import { SIDECAR_CA_CONFIGMAP, SIDECAR_CONTAINER_NAME } from '../../engine/src/admission/sidecar-env.js';
import { RUN_DEFAULTS } from '../../engine/src/runtime/defaults.js';
import { eventually } from '../harness/eventually.js';
import {
  ENGINE_NAME,
  ENGINE_NAMESPACE,
  ENGINE_SELECTOR,
  installedEngine,
  type InstalledEngine,
} from './support/installed-engine.js';
import { apply, demoPod, realNamespace, waitReady } from './support/workloads.js';

const APP = 'ca-demo';
const SERVICE_NAME = `${ENGINE_NAME}.${ENGINE_NAMESPACE}.svc`;
const MIN = 60_000;

interface TlsSecret {
  metadata: { annotations?: Record<string, string> };
  data: Record<string, string>;
}
interface EnginePod {
  metadata: { name: string };
  status: { podIP?: string };
}
interface HealthList {
  items: { namespace: string; pod: string; lastReportAt?: string }[];
}
interface PodState {
  metadata: { name: string; namespace: string };
  status: {
    phase: string;
    containerStatuses?: { name: string; restartCount: number }[];
    initContainerStatuses?: { name: string; restartCount: number }[];
  };
}

const unb64 = (s: string | undefined): string => Buffer.from(s ?? '', 'base64').toString('utf8');
const fingerprint = (pem: string): string => new X509Certificate(pem).fingerprint256;

describe('real nodes: a CA rotation forced while sidecars run', function () {
  this.timeout(40 * MIN);
  let engine: InstalledEngine;
  let ns: string;
  let late: string;
  let token: string;
  const policyFile = `policies/ca-rotation-${Date.now().toString(36)}.yaml`;

  const secret = async (): Promise<TlsSecret> =>
    JSON.parse(
      await engine.kubectlOk(['get', 'secret', '-n', ENGINE_NAMESPACE, RUN_DEFAULTS.tlsSecret, '-o', 'json']),
    ) as TlsSecret;

  const enginePods = async (): Promise<{ name: string; ip: string }[]> =>
    (
      JSON.parse(
        await engine.kubectlOk(['get', 'pods', '-n', ENGINE_NAMESPACE, '-l', ENGINE_SELECTOR, '-o', 'json']),
      ) as { items: EnginePod[] }
    ).items.flatMap((p) => (p.status.podIP ? [{ name: p.metadata.name, ip: p.status.podIP }] : []));

  /** Last report per pod (`ns/pod`), the latest either replica received. */
  const lastReports = async (): Promise<Map<string, number>> => {
    const out = new Map<string, number>();
    for (const replica of await enginePods()) {
      for (const namespace of [ns, late]) {
        const r = await onReplica(replica.ip, `/api/v1/health?namespace=${namespace}`, token, await trusted());
        assert.equal(r.status, 200, `${replica.name}: ${r.body}`);
        for (const item of (JSON.parse(r.body) as HealthList).items) {
          const at = item.lastReportAt ? Date.parse(item.lastReportAt) : 0;
          const key = `${item.namespace}/${item.pod}`;
          out.set(key, Math.max(out.get(key) ?? 0, at));
        }
      }
    }
    return out;
  };

  /**
   * The bundle the engine publishes: what the test (a client like any other) trusts. On the
   * webhook path the guard's caBundle; on the policy path (the shipped default on 1.36, ADR 1700)
   * there is no webhook configuration, and the sidecars' ConfigMap bulkhead-ca is the bundle.
   */
  const trusted = async (): Promise<string> => {
    const hook = await engine.kubectl([
      'get',
      'validatingwebhookconfiguration',
      'bulkhead-guard',
      '-o',
      'jsonpath={.webhooks[0].clientConfig.caBundle}',
    ]);
    if (hook.code === 0 && hook.stdout.trim() !== '') return unb64(hook.stdout.trim());
    return (
      await engine.kubectlOk(['get', 'configmap', SIDECAR_CA_CONFIGMAP, '-n', ns, '-o', 'jsonpath={.data.ca\\.crt}'])
    ).trim();
  };

  const demoPods = async (): Promise<PodState[]> => {
    const pods: PodState[] = [];
    for (const namespace of [ns, late])
      pods.push(
        ...(
          JSON.parse(await engine.kubectlOk(['get', 'pods', '-n', namespace, '-l', `app=${APP}`, '-o', 'json'])) as {
            items: PodState[];
          }
        ).items,
      );
    return pods;
  };

  const sidecarLog = (pod: PodState): Promise<string> =>
    engine.kubectlOk(['logs', '-n', pod.metadata.namespace, pod.metadata.name, '-c', SIDECAR_CONTAINER_NAME]);

  before(async () => {
    engine = await installedEngine();
    ns = await realNamespace(engine.cluster, 'ca-rot');
    late = await realNamespace(engine.cluster, 'ca-late');
    // Alert in DryRun: the pods are watched and report, nothing acts on them.
    const head = await engine.repo.push(
      {
        [policyFile]: `apiVersion: bulkhead.dev/v1alpha1
kind: HealthPolicy
metadata:
  name: ca-rotation
spec:
  match:
    namespaces: [${ns}, ${late}]
    selector: { matchLabels: { app: ${APP} } }
  probe:
    http: { path: /, port: 8080 }
    interval: 5s
    timeout: 1s
  detect:
    rules:
      - type: ConsecutiveFailures
        threshold: 3
  action:
    type: Alert
    mode: DryRun
`,
      },
      'ca-rotation: watch the demo app',
    );
    await engine.repo.waitSynced(head);
    // A reader of health data, as an operator grants it: `get pods` in the namespaces (ADR 0400),
    // with a token for the engine's audience.
    await engine.kubectlOk(['create', 'serviceaccount', '-n', ns, 'health-reader']);
    for (const namespace of [ns, late]) {
      await engine.kubectlOk(['create', 'role', '-n', namespace, 'pod-reader', '--verb=get', '--resource=pods']);
      await engine.kubectlOk([
        'create',
        'rolebinding',
        '-n',
        namespace,
        'health-reader',
        '--role=pod-reader',
        `--serviceaccount=${ns}:health-reader`,
      ]);
    }
    token = (
      await engine.kubectlOk(['create', 'token', '-n', ns, 'health-reader', '--duration=2h', '--audience=bulkhead'])
    ).trim();
    const template = demoPod('x', { app: APP }) as { spec: object };
    await apply(engine.cluster, ns, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: APP },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: APP } },
        template: { metadata: { labels: { app: APP, 'bulkhead.dev/test': 'true' } }, spec: template.spec },
      },
    });
    await waitReady(engine.cluster, ns, `app=${APP}`, 3 * MIN);
  });

  after(async () => {
    if (!engine) return;
    const head = await engine.repo.push({ [policyFile]: null }, 'ca-rotation: done').catch(() => undefined);
    if (head) await engine.repo.waitSynced(head).catch(() => {});
    // The namespaces (pods, ServiceAccounts, Roles) go with the fixture; nothing cluster-scoped was created.
  });

  it('every injected pod reports to the engine', async () => {
    const pods = await demoPods();
    assert.equal(pods.length, 3);
    for (const p of pods) {
      const names = [...(p.status.initContainerStatuses ?? []), ...(p.status.containerStatuses ?? [])].map(
        (c) => c.name,
      );
      assert.ok(names.includes(SIDECAR_CONTAINER_NAME), `${p.metadata.name} injected: ${names.join(',')}`);
    }
    const t0 = Date.now();
    await eventually(
      async () => {
        const last = await lastReports();
        for (const p of pods) {
          const at = last.get(`${ns}/${p.metadata.name}`) ?? 0;
          assert.ok(at > t0, `${p.metadata.name}: last report ${at ? new Date(at).toISOString() : 'never'}`);
        }
      },
      { what: 'a report from every pod', timeoutMs: 2 * MIN, intervalMs: 2_000 },
    );
  });

  it('a pod created while bulkhead-ca is missing in its namespace starts reporting once the engine publishes it', async () => {
    // The state of a namespace the engine has not published into yet: the ConfigMap is absent
    // when the pod's volume is set up. The engine's periodic pass may re-create it between the
    // delete and the pod's start: then the pod saw a CA and the attempt does not count.
    let pod: PodState | undefined;
    for (let attempt = 0; attempt < 4 && !pod; attempt++) {
      await engine.kubectl(['delete', 'configmap', '-n', late, SIDECAR_CA_CONFIGMAP, '--wait=true']);
      const candidate: PodState = { metadata: { name: `early-${attempt}`, namespace: late }, status: { phase: '' } };
      await apply(engine.cluster, late, demoPod(candidate.metadata.name, { app: APP }));
      const log = await eventually(
        async () => {
          const text = await sidecarLog(candidate);
          assert.match(text, /not there yet|engine CA loaded/);
          return text;
        },
        { what: `${candidate.metadata.name}'s sidecar started`, timeoutMs: 2 * MIN, intervalMs: 1_000 },
      );
      const missing = log.indexOf('not there yet');
      const loaded = log.indexOf('engine CA loaded');
      if (missing >= 0 && (loaded < 0 || missing < loaded)) pod = candidate;
      else await engine.kubectlOk(['delete', 'pod', '-n', late, candidate.metadata.name, '--wait=true']);
    }
    assert.ok(pod, 'a pod started without the CA in its namespace');
    const log = await sidecarLog(pod);
    assert.match(log, /not reporting until it appears \(the system trust store is never used/);
    // The engine publishes again (its pass) and the kubelet projects it into the running pod.
    const t0 = Date.now();
    await eventually(
      async () => {
        const at = (await lastReports()).get(`${late}/${pod.metadata.name}`) ?? 0;
        assert.ok(at > 0, `${pod.metadata.name} has not reported`);
      },
      { what: 'the pod created before its CA reports', timeoutMs: 5 * MIN, intervalMs: 5_000 },
    );
    const tookMs = Date.now() - t0;
    assert.match(await sidecarLog(pod), /engine CA loaded/);
    assert.ok(tookMs < 5 * MIN, `reported ${Math.round(tookMs / 1000)} s after it started waiting`);
  });

  it('a forced CA rotation at the shortest step: every sidecar keeps reporting through staging, promotion and retirement', async () => {
    const pods = (await demoPods()).map((p) => `${p.metadata.namespace}/${p.metadata.name}`);
    assert.equal(pods.length, 4);
    const before = await secret();
    const oldCa = unb64(before.data['signing-ca.crt']);
    const step = `${MIN_CA_STEP_MS / 1000}s`;

    // The operator's command for an emergency rotation (README, ADR 1020).
    await engine.kubectlOk([
      'annotate',
      'secret',
      '-n',
      ENGINE_NAMESPACE,
      RUN_DEFAULTS.tlsSecret,
      `${ROTATE_CA_ANNOTATION}=now`,
      `${ROTATE_CA_STEP_ANNOTATION}=${step}`,
      '--overwrite',
    ]);
    const requestedAt = Date.now();

    // Watch every pod's last report throughout: the longest silence is the figure that matters.
    const silence = new Map<string, number>(pods.map((p) => [p, 0]));
    const watchReports = async (): Promise<void> => {
      const now = Date.now();
      const last = await lastReports();
      for (const p of pods) silence.set(p, Math.max(silence.get(p)!, now - (last.get(p) ?? 0)));
    };
    /** Every pod reports after `t`: its connections verify what the replicas serve now. */
    const allReportAfter = (t: number, what: string): Promise<void> =>
      eventually(
        async () => {
          await watchReports();
          const last = await lastReports();
          for (const p of pods) assert.ok((last.get(p) ?? 0) > t + 1_000, `${p} reported ${what}`);
        },
        { what: `every pod reports ${what}`, timeoutMs: 2 * MIN, intervalMs: 3_000 },
      );

    const staged = await eventually(
      async () => {
        await watchReports();
        const s = await secret();
        assert.ok(s.data['next-ca.crt'], 'next CA staged');
        assert.equal(s.metadata.annotations?.[ROTATE_CA_ANNOTATION], undefined, 'request acknowledged');
        assert.equal(s.metadata.annotations?.[ROTATE_CA_STEP_ANNOTATION], undefined, 'step request acknowledged');
        assert.equal(unb64(s.data['ca-rotation-step.ms']), String(MIN_CA_STEP_MS), 'step stored with the rotation');
        return unb64(s.data['next-ca.crt']);
      },
      { what: 'the leader staged a new CA', timeoutMs: 3 * MIN, intervalMs: 5_000 },
    );
    const stagedAt = Date.now();

    // The step, plus at most one engine pass (60 s), plus our polling.
    await eventually(
      async () => {
        await watchReports();
        assert.equal(unb64((await secret()).data['signing-ca.crt']), staged, 'promoted');
      },
      { what: `the new CA promoted after the ${step} step`, timeoutMs: MIN_CA_STEP_MS + 2 * MIN, intervalMs: 5_000 },
    );
    const promotedAt = Date.now();
    const serving = unb64((await secret()).data['tls.crt']);
    assert.ok(new X509Certificate(serving).verify(new X509Certificate(staged).publicKey));
    // Both replicas serve the new cert (the follower on its next pass).
    await eventually(
      async () => {
        await watchReports();
        for (const r of await enginePods())
          assert.equal(await servedFingerprint(r.ip), fingerprint(serving), `${r.name} serves the new cert`);
      },
      { what: 'both replicas serve a cert from the new CA', timeoutMs: 3 * MIN, intervalMs: 5_000 },
    );
    const allNewAt = Date.now();
    // Every connection now verifies a cert only the new CA signs.
    await allReportAfter(allNewAt, 'after the promotion');

    // Retirement: the old CA leaves the Secret's bundle, the webhooks and every bulkhead-ca.
    await eventually(
      async () => {
        await watchReports();
        const s = await secret();
        assert.equal(s.data['retiring-cas.since'], undefined, 'old CA retired');
        assert.equal(s.data['ca-rotation-step.ms'], undefined, 'the rotation and its step are over');
        assert.deepEqual(
          [...unb64(s.data['ca.crt']).matchAll(/-----BEGIN CERTIFICATE-----/g)].length,
          1,
          'only the new CA trusted',
        );
      },
      {
        what: `the old CA retired ${step} after the promotion`,
        timeoutMs: MIN_CA_STEP_MS + 2 * MIN,
        intervalMs: 5_000,
      },
    );
    const retiredAt = new Date();
    assert.equal(fingerprint(await trusted()), fingerprint(staged), 'the webhooks trust only the new CA');
    // Each sidecar re-reads the retired bundle (the kubelet projects it within about a minute),
    // which its log says with the bundle's size, and keeps reporting with it.
    const sidecarsRetiredAt = await eventually(
      async () => {
        await watchReports();
        let latest = 0;
        for (const p of await demoPods()) {
          const at = (await sidecarLog(p))
            .split('\n')
            .flatMap((line) => {
              try {
                return [JSON.parse(line) as { msg?: string; certificates?: number; time?: number }];
              } catch {
                return [];
              }
            })
            .find((l) => l.msg?.startsWith('engine CA changed') && l.certificates === 1)?.time;
          assert.ok(at, `${p.metadata.name} read the bundle without the old CA`);
          latest = Math.max(latest, at);
        }
        return latest;
      },
      { what: 'every sidecar holds the bundle without the old CA', timeoutMs: 3 * MIN, intervalMs: 5_000 },
    );
    await allReportAfter(sidecarsRetiredAt, 'with only the new CA');

    for (const p of await demoPods()) {
      const restarts = [...(p.status.initContainerStatuses ?? []), ...(p.status.containerStatuses ?? [])]
        .filter((c) => c.name === SIDECAR_CONTAINER_NAME)
        .reduce((n, c) => n + c.restartCount, 0);
      assert.equal(restarts, 0, `${p.metadata.name}'s sidecar restarted`);
      assert.match(await sidecarLog(p), /engine CA changed/, `${p.metadata.name} picked up the new bundle`);
    }
    const worst = Math.max(...silence.values());
    const s = (a: number, b: number): number => Math.round((b - a) / 1000);
    console.log(
      `      rotation (step ${step}): staged ${s(requestedAt, stagedAt)} s after the request, ` +
        `promoted ${s(stagedAt, promotedAt)} s after staging, both replicas on the new CA ${s(stagedAt, allNewAt)} s ` +
        `after staging, retired ${s(promotedAt, retiredAt.getTime())} s after promotion, every sidecar on the ` +
        `retired bundle ${s(requestedAt, sidecarsRetiredAt)} s after the request; ` +
        `longest silence of any pod ${Math.round(worst / 1000)} s (report interval 10 s)`,
    );
    // A report interval is 10 s and the reporter's backoff after one failure is at most 1 s:
    // 45 s would mean a sidecar stopped reporting for a while, not a delay in our polling.
    assert.ok(worst < 45_000, `a pod went ${Math.round(worst / 1000)} s without a report`);
    assert.notEqual(fingerprint(oldCa), fingerprint(staged));
    // The step was honoured, not the 10 min default (the request is seen within one pass).
    assert.ok(s(stagedAt, promotedAt) < 10 * 60 - 60, 'promoted well before the default step');
  });
});

/** HTTPS to one engine replica by pod IP, verified for the Service name against `ca`. */
function onReplica(ip: string, path: string, token: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((ok, fail) => {
    const req = request(
      {
        host: ip,
        port: 8443,
        path,
        headers: { authorization: `Bearer ${token}` },
        ca,
        servername: SERVICE_NAME,
        timeout: 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => ok({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${path} on ${ip} timed out`)));
    req.on('error', fail);
    req.end();
  });
}

/** The certificate a replica presents on a fresh connection. */
function servedFingerprint(ip: string): Promise<string> {
  return new Promise((ok, fail) => {
    const sock = connect({ host: ip, port: 8443, servername: SERVICE_NAME, rejectUnauthorized: false }, () => {
      const fp = sock.getPeerCertificate().fingerprint256;
      sock.end();
      ok(fp);
    });
    sock.on('error', fail);
  });
}
