import { strict as assert } from 'node:assert';
import { ENGINE_IMAGE, IMAGE_TAG, SIDECAR_IMAGE } from '../../../../images/images.js';
import { SIDECAR_VERSION } from '../../../../sidecar/src/report.js';
import { RUN_DEFAULTS } from '../../runtime/index.js';
import { buildEngineConfig } from '../run-command.js';
import { DEFAULT_MANIFEST_DIR, renderKustomization } from './manifests.js';
import { SIDECAR_IMAGE_ENV, sidecarImageOf, withSidecarImage } from './sidecar-image.js';

describe('sidecar image: deploy/, the engine and install agree with images/images.ts', () => {
  it('deploy/ names the images the project builds; the engine defaults to the same sidecar', async () => {
    const objs = (await renderKustomization(DEFAULT_MANIFEST_DIR)).map((r) => r.obj);
    assert.equal(sidecarImageOf(objs), SIDECAR_IMAGE.ref);
    assert.equal(RUN_DEFAULTS.sidecarImage, SIDECAR_IMAGE.ref);
    assert.equal(RUN_DEFAULTS.sidecarVersion, IMAGE_TAG);
    assert.equal(SIDECAR_VERSION, IMAGE_TAG);
    const dep = objs.find((o) => o.kind === 'Deployment') as unknown as {
      spec: { template: { spec: { containers: { name: string; image: string }[] } } };
    };
    assert.equal(dep.spec.template.spec.containers.find((c) => c.name === 'engine')!.image, ENGINE_IMAGE.ref);
  });

  it('--sidecar-image sets the env the engine reads, on a copy, once', async () => {
    const objs = (await renderKustomization(DEFAULT_MANIFEST_DIR)).map((r) => r.obj);
    const changed = withSidecarImage(withSidecarImage(objs, 'a:1'), 'bulkhead-sidecar:dev');
    assert.equal(sidecarImageOf(changed), 'bulkhead-sidecar:dev');
    assert.equal(sidecarImageOf(objs), SIDECAR_IMAGE.ref, 'the rendered objects are not modified');
    const dep = changed.find((o) => o.kind === 'Deployment') as unknown as {
      spec: { template: { spec: { containers: { env: { name: string }[] }[] } } };
    };
    assert.equal(dep.spec.template.spec.containers[0]!.env.filter((e) => e.name === SIDECAR_IMAGE_ENV).length, 1);
    assert.throws(() => withSidecarImage([], 'x'), /no container "engine"/);
  });

  it('bulkhead run: --sidecar-image, else $BULKHEAD_SIDECAR_IMAGE, else the default', () => {
    const flags = {
      listen: '0.0.0.0:8080',
      apply: 'true',
      forceConflicts: false,
      leaderElect: 'true',
      leaseName: 'l',
      leaseDuration: '8s',
      renewDeadline: '5s',
      retryPeriod: '1s',
      minInterval: '1s',
      eventNamespace: 'default',
      logLevel: 'info',
      dirSourceName: 'local',
      https: '0.0.0.0:8443',
      service: 's',
      serviceAccount: 'sa',
      tlsSecret: 't',
      breakGlassGroup: [],
      sidecarVersion: '0.1.0',
      recordsBranch: 'main',
      groupWindow: '250ms',
      flushInterval: '1s',
      releaseInterval: '5s',
    };
    const image = (f: object, env: NodeJS.ProcessEnv) =>
      buildEngineConfig({ ...flags, ...f } as Parameters<typeof buildEngineConfig>[0], env).dataPlane!.sidecar.image;
    assert.equal(image({}, {}), SIDECAR_IMAGE.ref);
    assert.equal(image({}, { [SIDECAR_IMAGE_ENV]: 'from-env:1' }), 'from-env:1');
    assert.equal(image({ sidecarImage: 'flag:1' }, { [SIDECAR_IMAGE_ENV]: 'from-env:1' }), 'flag:1');
  });
});
