// One source of truth for image references: images/images.ts. Everything that names an
// image the project builds must name exactly that reference, or a user pulls a tag that
// was never pushed (the policy template's CI once said :v0.1.0 where deploy/ said :0.1.0).
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { load } from 'js-yaml';
import { DEFAULT_MANIFEST_DIR, renderKustomization } from '../../engine/src/cli/install/manifests.js';
import { RUN_DEFAULTS } from '../../engine/src/runtime/index.js';
import { BULKHEAD_VERSION } from '../../engine/src/core/version.js';
import { ENGINE_IMAGE, IMAGE_TAG, SIDECAR_IMAGE } from '../../images/images.js';

describe('image references: images/images.ts is the one source', () => {
  it('the image tag is the package version', async () => {
    const pkg = JSON.parse(await readFile('package.json', 'utf8')) as { version: string };
    assert.equal(IMAGE_TAG, pkg.version);
  });

  it("the engine's version (--version, startup log, bulkhead_build_info) is the package version", async () => {
    const pkg = JSON.parse(await readFile('package.json', 'utf8')) as { version: string };
    assert.equal(BULKHEAD_VERSION, pkg.version);
  });

  it('deploy/ runs the engine image images.ts defines', async () => {
    const objs = (await renderKustomization(DEFAULT_MANIFEST_DIR)).map((r) => r.obj) as unknown as {
      kind: string;
      spec?: { template?: { spec?: { containers?: { image: string }[]; initContainers?: { image: string }[] } } };
    }[];
    const images = objs
      .filter((o) => o.kind === 'Deployment')
      .flatMap((o) => [
        ...(o.spec?.template?.spec?.containers ?? []),
        ...(o.spec?.template?.spec?.initContainers ?? []),
      ])
      .map((c) => c.image);
    assert.deepEqual(images, [ENGINE_IMAGE.ref]);
  });

  it("the policy template's CI validates with the engine image deploy/ installs", async () => {
    const wf = load(await readFile('policy-repo-template/.github/workflows/validate.yml', 'utf8')) as {
      env: Record<string, string>;
    };
    assert.equal(wf.env.BULKHEAD_IMAGE, ENGINE_IMAGE.ref);
  });

  it("the Helm chart's default images are the ones images.ts defines", async () => {
    const values = load(await readFile('charts/bulkhead/values.yaml', 'utf8')) as {
      image: Record<'engine' | 'sidecar', { repository: string; tag: string; digest: string }>;
    };
    assert.equal(`${values.image.engine.repository}:${values.image.engine.tag}`, ENGINE_IMAGE.ref);
    assert.equal(`${values.image.sidecar.repository}:${values.image.sidecar.tag}`, SIDECAR_IMAGE.ref);
    assert.equal(values.image.engine.digest, '');
  });

  it('the injector injects the sidecar image images.ts defines', () => {
    assert.equal(RUN_DEFAULTS.sidecarImage, SIDECAR_IMAGE.ref);
    assert.equal(RUN_DEFAULTS.sidecarVersion, IMAGE_TAG);
  });
});
