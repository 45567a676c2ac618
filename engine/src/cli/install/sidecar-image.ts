import { BulkheadError } from '../../core/errors.js';
import type { KubeObject } from '../../core/kube/resources.js';
import { ENGINE } from './manifests.js';

/**
 * The env var deploy/engine/deployment.yaml names the injected sidecar's image with, and
 * `bulkhead run` reads (its --sidecar-image wins). An env var rather than an argument, so
 * `bulkhead install --sidecar-image` changes one value and leaves the arguments alone.
 */
export const SIDECAR_IMAGE_ENV = 'BULKHEAD_SIDECAR_IMAGE';

interface EnvVar {
  name: string;
  value?: string;
}
interface EngineDeployment extends KubeObject {
  spec: { template: { spec: { containers: { name: string; env?: EnvVar[] }[] } } };
}

/** `--sidecar-image`: the engine injects this image (e.g. one loaded with kind load docker-image). */
export function withSidecarImage(objs: KubeObject[], image: string): KubeObject[] {
  let replaced = 0;
  const result = objs.map((o) => {
    if (o.kind !== 'Deployment' || o.metadata.name !== ENGINE.deployment) return o;
    const copy = structuredClone(o) as EngineDeployment;
    for (const c of copy.spec.template.spec.containers) {
      if (c.name !== 'engine') continue;
      c.env = [...(c.env ?? []).filter((e) => e.name !== SIDECAR_IMAGE_ENV), { name: SIDECAR_IMAGE_ENV, value: image }];
      replaced++;
    }
    return copy;
  });
  if (replaced === 0)
    throw new BulkheadError({
      kind: 'Stalled',
      code: 'BH_INSTALL_MANIFESTS',
      reason: 'InvalidManifests',
      message: `--sidecar-image: no container "engine" in Deployment ${ENGINE.deployment}`,
    });
  return result;
}

/** The sidecar image deploy/ names (undefined when it names none and the engine's default applies). */
export function sidecarImageOf(objs: KubeObject[]): string | undefined {
  const dep = objs.find((o) => o.kind === 'Deployment' && o.metadata.name === ENGINE.deployment) as
    EngineDeployment | undefined;
  return dep?.spec.template.spec.containers
    .find((c) => c.name === 'engine')
    ?.env?.find((e) => e.name === SIDECAR_IMAGE_ENV)?.value;
}
