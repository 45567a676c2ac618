import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RUN_DEFAULTS } from '../runtime/index.js';
import { buildEngineConfig, type RunFlags } from './run-command.js';

/** What commander hands the action with no flags given (the option defaults). */
const runFlagDefaults = (): RunFlags => ({
  listen: RUN_DEFAULTS.listen,
  apply: 'true',
  forceConflicts: false,
  leaderElect: 'true',
  leaseName: RUN_DEFAULTS.leaseName,
  leaseDuration: RUN_DEFAULTS.leaseDuration,
  renewDeadline: RUN_DEFAULTS.renewDeadline,
  retryPeriod: RUN_DEFAULTS.retryPeriod,
  minInterval: RUN_DEFAULTS.minInterval,
  eventNamespace: RUN_DEFAULTS.eventNamespace,
  logLevel: RUN_DEFAULTS.logLevel,
  dirSourceName: RUN_DEFAULTS.dirSourceName,
  service: RUN_DEFAULTS.service,
  serviceAccount: RUN_DEFAULTS.serviceAccount,
  tlsSecret: RUN_DEFAULTS.tlsSecret,
  breakGlassGroup: [...RUN_DEFAULTS.breakGlassGroups],
  sidecarImage: RUN_DEFAULTS.sidecarImage,
  sidecarVersion: RUN_DEFAULTS.sidecarVersion,
  recordsBranch: RUN_DEFAULTS.recordsBranch,
  groupWindow: RUN_DEFAULTS.groupWindow,
  flushInterval: RUN_DEFAULTS.flushInterval,
  releaseInterval: RUN_DEFAULTS.releaseInterval,
});

describe('bulkhead run: flags and environment → EngineConfig', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bulkhead-run-flags-'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('a missing optional push-webhook secret file (deploy/ mounts Secret bulkhead-webhook optional) disables push webhooks instead of failing the start', () => {
    const file = join(dir, 'absent', 'secret');
    const cfg = buildEngineConfig(runFlagDefaults(), { BULKHEAD_WEBHOOK_SECRET_FILE: file });
    assert.equal(cfg.webhookSecret, undefined);
    assert.equal(cfg.webhookSecretMissing, file);
  });

  it('reads the secret when the file exists; an empty file counts as no secret', async () => {
    const file = join(dir, 'secret');
    await writeFile(file, 's3cret\n');
    const cfg = buildEngineConfig(runFlagDefaults(), { BULKHEAD_WEBHOOK_SECRET_FILE: file });
    assert.equal(cfg.webhookSecret, 's3cret');
    assert.equal(cfg.webhookSecretMissing, undefined);
    await writeFile(file, '\n');
    assert.equal(buildEngineConfig(runFlagDefaults(), { BULKHEAD_WEBHOOK_SECRET_FILE: file }).webhookSecret, undefined);
  });

  it('GitOps writers: --gitops-writers, else $BULKHEAD_GITOPS_WRITERS (what deploy/ sets from ConfigMap bulkhead-settings)', () => {
    const dp = { ...runFlagDefaults(), https: '127.0.0.1:0' };
    const flux = 'system:serviceaccount:flux-system:kustomize-controller';
    const argo = 'system:serviceaccount:argocd:argocd-application-controller';
    assert.deepEqual(buildEngineConfig(dp, {}).dataPlane?.gitopsWriters, []);
    assert.deepEqual(buildEngineConfig(dp, { BULKHEAD_GITOPS_WRITERS: `${flux},${argo}` }).dataPlane?.gitopsWriters, [
      flux,
      argo,
    ]);
    assert.deepEqual(
      buildEngineConfig({ ...dp, gitopsWriters: [argo] }, { BULKHEAD_GITOPS_WRITERS: flux }).dataPlane?.gitopsWriters,
      [argo],
    );
    assert.throws(
      () => buildEngineConfig(dp, { BULKHEAD_GITOPS_WRITERS: "x'y" }),
      /\$BULKHEAD_GITOPS_WRITERS: "x'y" is not a Kubernetes username/,
    );
  });

  it('--apply, else $BULKHEAD_APPLY (deploy/: ConfigMap bulkhead-settings key apply), else true', () => {
    const { apply: _a, ...noFlag } = runFlagDefaults();
    assert.equal(buildEngineConfig(noFlag, {}).apply, true);
    assert.equal(buildEngineConfig(noFlag, { BULKHEAD_APPLY: 'false' }).apply, false);
    assert.equal(buildEngineConfig({ ...noFlag, apply: 'true' }, { BULKHEAD_APPLY: 'false' }).apply, true);
    assert.throws(
      () => buildEngineConfig(noFlag, { BULKHEAD_APPLY: 'no' }),
      /--apply \(\$BULKHEAD_APPLY\) must be true or false/,
    );
  });

  it('a secret path that is not a readable file still fails the start (a broken mount, not an opt-out)', () => {
    assert.throws(() => buildEngineConfig(runFlagDefaults(), { BULKHEAD_WEBHOOK_SECRET_FILE: dir }), /EISDIR/);
  });

  it('webhooks go through the Service unless --webhook-url says listen or names a URL', () => {
    const https = { ...runFlagDefaults(), https: '0.0.0.0:8443' };
    assert.equal(buildEngineConfig(https, {}).dataPlane?.webhookEndpoint, 'service');
    assert.equal(buildEngineConfig({ ...https, webhookUrl: 'listen' }, {}).dataPlane?.webhookEndpoint, 'listen');
    assert.deepEqual(
      buildEngineConfig({ ...https, webhookUrl: 'https://10.0.0.1:9443' }, {}).dataPlane?.webhookEndpoint,
      {
        url: 'https://10.0.0.1:9443',
      },
    );
    assert.throws(() => buildEngineConfig({ ...https, webhookUrl: 'http://x' }, {}), /https:\/\//);
  });
});
