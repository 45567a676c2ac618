// `bulkhead install` of deploy/ as shipped, on real nodes with the project's own images: the
// engine reaches Available with 2 replicas, the apiserver (1.36) injects and guards by the
// admission policies the engine generated (--admission auto, ADR 1700), the policy repository (real HTTPS git, a token and CA in a Secret) is synced, the
// engine pods run with exactly what deploy/ sets, and the dashboard answers with its token.
import assert from 'node:assert/strict';
import { renderKustomization, DEFAULT_MANIFEST_DIR } from '../../engine/src/cli/install/manifests.js';
import { ENGINE_IMAGE } from '../../images/images.js';
import {
  ENGINE_NAME,
  ENGINE_NAMESPACE,
  ENGINE_SELECTOR,
  REPO_SECRET,
  SOURCE_NAME,
  SYNC_INTERVAL,
  installedEngine,
  showCli,
  type InstalledEngine,
} from './support/installed-engine.js';

interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  envFrom?: unknown[];
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}
interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  volumes?: { name: string; secret?: { secretName: string }; emptyDir?: unknown; projected?: unknown }[];
  serviceAccountName?: string;
}

/** JSON with object keys sorted: the apiserver returns fields in its own order, not the manifest's. */
const sortedJson = (v: unknown): string =>
  JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : x,
  );

/** An env entry as it reads, ignoring what the apiserver defaults (fieldRef.apiVersion). */
const envLine = (e: NonNullable<Container['env']>[number]): string =>
  `${e.name}=${e.value ?? (e.valueFrom?.fieldRef ? `fieldRef:${e.valueFrom.fieldRef.fieldPath}` : sortedJson(e.valueFrom))}`;

describe('real nodes: bulkhead install of deploy/ as shipped', function () {
  this.timeout(600_000);
  let engine: InstalledEngine;

  before(async () => {
    engine = await installedEngine();
  });

  it('reaches Available with 2 engine replicas running the project image in real containers', async () => {
    assert.match(engine.install.stdout, /Available: 2\/2 replicas ready/, showCli(engine.install));
    assert.match(engine.install.stdout, /Bulkhead is installed and Ready \(2\/2 engine replicas\)/);
    const dep = JSON.parse(
      await engine.kubectlOk(['get', 'deploy', '-n', ENGINE_NAMESPACE, ENGINE_NAME, '-o', 'json']),
    ) as {
      status: { availableReplicas?: number; conditions?: { type: string; status: string }[] };
    };
    assert.equal(dep.status.availableReplicas, 2);
    const pods = JSON.parse(
      await engine.kubectlOk(['get', 'pods', '-n', ENGINE_NAMESPACE, '-l', ENGINE_SELECTOR, '-o', 'json']),
    ) as {
      items: {
        spec: { nodeName: string };
        status: { phase: string; containerStatuses: { image: string; containerID: string; restartCount: number }[] };
      }[];
    };
    assert.equal(pods.items.length, 2);
    for (const p of pods.items) {
      assert.equal(p.status.phase, 'Running');
      const c = p.status.containerStatuses[0]!;
      assert.match(c.containerID, /^containerd:\/\/[0-9a-f]{64}$/);
      assert.equal(c.image, ENGINE_IMAGE.ref);
      // It never crash-looped on the way (the missing optional webhook Secret used to exit 2).
      assert.equal(c.restartCount, 0, `${p.spec.nodeName}: restarted ${c.restartCount} times\n${await engine.logs()}`);
    }
    // Push webhooks are off without Secret bulkhead-webhook, and the engine says so.
    assert.match(await engine.logs(500), /push webhooks off: the secret file does not exist/);
  });

  it('takes the policy path on this 1.36 apiserver (--admission auto, the shipped default): the admission policies are registered, no webhook configuration, and the apiserver itself guards', async () => {
    assert.match(
      await engine.logs(2000),
      /"mode":"policy".*"msg":"admission path"|"msg":"admission path".*"mode":"policy"/,
    );
    const list = async (kind: string): Promise<string[]> =>
      (
        JSON.parse(
          await engine.kubectlOk(['get', kind, '-l', 'app.kubernetes.io/managed-by=bulkhead', '-o', 'json']),
        ) as { items: { metadata: { name: string } }[] }
      ).items
        .map((i) => i.metadata.name)
        .sort();
    assert.deepEqual(await list('mutatingadmissionpolicies'), ['bulkhead-inject']);
    assert.deepEqual(await list('mutatingadmissionpolicybindings'), ['bulkhead-inject']);
    // The guard, and the injection's warnings (a Warn-only policy named as the injection).
    assert.deepEqual(await list('validatingadmissionpolicies'), ['bulkhead-guard', 'bulkhead-inject']);
    assert.deepEqual(await list('validatingadmissionpolicybindings'), ['bulkhead-guard', 'bulkhead-inject']);
    // One path at a time: nothing would call the engine's /mutate or /validate.
    assert.deepEqual(await list('mutatingwebhookconfigurations'), []);
    assert.deepEqual(await list('validatingwebhookconfigurations'), []);
    // The guard refuses with the webhook's words, evaluated in the apiserver (no call out).
    const r = await engine.kubectl(['label', 'policysource', SOURCE_NAME, 'touched=yes']);
    assert.notEqual(r.code, 0, r.stdout);
    assert.match(r.stderr, /ValidatingAdmissionPolicy 'bulkhead-guard'.*managed in git/, r.stderr);
    assert.doesNotMatch(r.stderr, /failed calling webhook/);
  });

  it('kubectl get healthpolicies,policysources shows the synced repository; a policy pushed to git appears, and goes when removed', async () => {
    const ps = JSON.parse(await engine.kubectlOk(['get', 'policysource', SOURCE_NAME, '-o', 'json'])) as {
      spec: { url: string; secretRef?: { name: string }; interval: string };
      status: { lastAppliedRevision?: string; conditions: { type: string; status: string; reason?: string }[] };
    };
    assert.equal(ps.spec.url, engine.repo.url);
    assert.equal(ps.spec.secretRef?.name, REPO_SECRET);
    assert.equal(ps.spec.interval, SYNC_INTERVAL);
    assert.ok(
      ps.status.conditions.some((c) => c.type === 'Ready' && c.status === 'True'),
      JSON.stringify(ps.status),
    );
    // The engine fetched over HTTPS with the token (never anonymously past a 401).
    assert.ok(
      engine.repo.requests.some((q) => q.path.endsWith('/git-upload-pack') && q.status === 200 && q.auth !== 'none'),
    );

    const policy = `apiVersion: bulkhead.dev/v1alpha1
kind: HealthPolicy
metadata:
  name: real-install-probe
spec:
  match:
    namespaces: [real-install-nowhere]
  probe:
    tcp: { port: 8080 }
  detect:
    rules:
      - type: ConsecutiveFailures
        threshold: 3
  action:
    type: Alert
    mode: DryRun
`;
    const head = await engine.repo.push({ 'policies/real-install-probe.yaml': policy }, 'add real-install-probe');
    await engine.repo.waitSynced(head);
    const shown = await engine.kubectlOk(['get', 'healthpolicies,policysources']);
    assert.match(shown, /healthpolicy\.bulkhead\.dev\/real-install-probe/, shown);
    assert.match(shown, /healthpolicy\.bulkhead\.dev\/checkout-api/, shown); // from policy-repo-template/
    assert.match(shown, new RegExp(`policysource\\.bulkhead\\.dev/${SOURCE_NAME}\\b.*True`), shown);

    const gone = await engine.repo.push({ 'policies/real-install-probe.yaml': null }, 'remove real-install-probe');
    await engine.repo.waitSynced(gone);
    assert.doesNotMatch(await engine.kubectlOk(['get', 'healthpolicies']), /real-install-probe/);
  });

  it('no engine Pod runs with an env var, flag, image or mount that deploy/ does not set', async () => {
    const rendered = (await renderKustomization(DEFAULT_MANIFEST_DIR)).map((r) => r.obj);
    const dep = rendered.find((o) => o.kind === 'Deployment' && o.metadata.name === ENGINE_NAME) as unknown as {
      spec: { template: { spec: PodSpec } };
    };
    const want = dep.spec.template.spec;
    const pods = JSON.parse(
      await engine.kubectlOk(['get', 'pods', '-n', ENGINE_NAMESPACE, '-l', ENGINE_SELECTOR, '-o', 'json']),
    ) as { items: { metadata: { name: string }; spec: PodSpec }[] };
    assert.equal(pods.items.length, 2);
    for (const pod of pods.items) {
      const got = pod.spec;
      const at = pod.metadata.name;
      assert.deepEqual(got.initContainers ?? [], want.initContainers ?? [], `${at}: init containers`);
      assert.deepEqual(
        got.containers.map((c) => c.name),
        want.containers.map((c) => c.name),
        `${at}: containers`,
      );
      for (const w of want.containers) {
        const g = got.containers.find((c) => c.name === w.name)!;
        assert.equal(g.image, w.image, `${at}/${w.name}: image`);
        assert.deepEqual(g.command, w.command, `${at}/${w.name}: command`);
        assert.deepEqual(g.args, w.args, `${at}/${w.name}: args`);
        assert.deepEqual((g.env ?? []).map(envLine), (w.env ?? []).map(envLine), `${at}/${w.name}: env`);
        assert.deepEqual(g.envFrom, w.envFrom, `${at}/${w.name}: envFrom`);
        // deploy/'s mounts, plus only the ServiceAccount token the apiserver adds to every pod.
        const extra = (g.volumeMounts ?? []).filter(
          (m) => !(w.volumeMounts ?? []).some((x) => x.name === m.name && x.mountPath === m.mountPath),
        );
        assert.deepEqual(
          extra.map((m) => m.mountPath),
          ['/var/run/secrets/kubernetes.io/serviceaccount'],
          `${at}/${w.name}: mounts`,
        );
      }
      const volumes = (v: PodSpec['volumes']) =>
        (v ?? []).filter((x) => !x.name.startsWith('kube-api-access-')).map((x) => x.name);
      assert.deepEqual(volumes(got.volumes), volumes(want.volumes), `${at}: volumes`);
      assert.equal(got.serviceAccountName, want.serviceAccountName);
    }
  });

  it('the dashboard answers over HTTPS through the Service with the token install created, and refuses without it', async () => {
    const token = Buffer.from(
      (
        await engine.kubectlOk([
          'get',
          'secret',
          '-n',
          ENGINE_NAMESPACE,
          'bulkhead-dashboard',
          '-o',
          'jsonpath={.data.token}',
        ])
      ).trim(),
      'base64',
    ).toString('utf8');
    assert.ok(token.length >= 32, 'install created a strong token');
    const page = await engine.https('/dashboard/', { headers: { authorization: `Bearer ${token}` } });
    assert.equal(page.status, 200, page.body.slice(0, 300));
    assert.match(page.body, /<html/i);
    const refused = await engine.https('/dashboard/');
    assert.equal(refused.status, 401, refused.body.slice(0, 300));
  });
});
