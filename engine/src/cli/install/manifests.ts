import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAll } from 'js-yaml';
import { DEFAULT_ENGINE_NAMESPACE } from '../../core/api/index.js';
import { BulkheadError, errorMessage } from '../../core/errors.js';
import type { KubeObject } from '../../core/kube/resources.js';

const here = fileURLToPath(new URL('.', import.meta.url));
/**
 * The deploy/ shipped with this CLI: four folders up from this file in a checkout and in the
 * image (/app/deploy), five in the npm package, whose compiled engine sits under dist/ beside
 * deploy/ (ADR 1903).
 */
export const DEFAULT_MANIFEST_DIR =
  [resolve(here, '../../../../deploy'), resolve(here, '../../../../../deploy')].find((d) =>
    existsSync(join(d, 'kustomization.yaml')),
  ) ?? resolve(here, '../../../../deploy');

/** Where the engine runs, as deploy/engine ships it. */
export const ENGINE = { namespace: DEFAULT_ENGINE_NAMESPACE, deployment: 'bulkhead-engine' } as const;

export interface RenderedObject {
  obj: KubeObject;
  /** The file it came from, relative to the rendered root (for error messages). */
  file: string;
}

const ALLOWED_KEYS = new Set(['apiVersion', 'kind', 'resources']);

const invalid = (message: string): BulkheadError =>
  new BulkheadError({ kind: 'Stalled', code: 'BH_INSTALL_MANIFESTS', reason: 'InvalidManifests', message });

/**
 * Renders a kustomization the way `kubectl kustomize` does for the subset deploy/ uses: a
 * plain `resources` list of files and folders (each folder with its own kustomization.yaml),
 * nothing else. Any other kustomize field (patches, namespace, images, generators) is refused
 * rather than ignored, so this can never silently render something different from kustomize;
 * a test compares both renderings object by object (ADR 0600).
 */
export async function renderKustomization(dir: string): Promise<RenderedObject[]> {
  const root = resolve(dir);
  const out: RenderedObject[] = [];
  const seen = new Map<string, string>();
  const visit = async (d: string, chain: string[]): Promise<void> => {
    if (chain.includes(d))
      throw invalid(`kustomization cycle: ${[...chain, d].map((p) => relative(root, p) || '.').join(' → ')}`);
    const file = join(d, 'kustomization.yaml');
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw invalid(`${relative(root, d) || '.'}: no kustomization.yaml (${errorMessage(err)})`);
    }
    const k = loadAll(text).find((x) => x !== null && x !== undefined) as Record<string, unknown> | undefined;
    if (!k || typeof k !== 'object') throw invalid(`${relative(root, file)}: empty kustomization`);
    const extra = Object.keys(k).filter((key) => !ALLOWED_KEYS.has(key));
    if (extra.length > 0)
      throw invalid(
        `${relative(root, file)}: only a plain \`resources\` list is supported without kustomize, found ${extra.join(', ')}`,
      );
    const resources = k.resources ?? [];
    if (!Array.isArray(resources) || !resources.every((r) => typeof r === 'string'))
      throw invalid(`${relative(root, file)}: resources must be a list of paths`);
    for (const r of resources as string[]) {
      const p = resolve(d, r);
      const s = await stat(p).catch(() => undefined);
      if (!s) throw invalid(`${relative(root, file)}: resource ${r} does not exist`);
      if (s.isDirectory()) {
        await visit(p, [...chain, d]);
        continue;
      }
      for (const doc of loadAll(await readFile(p, 'utf8'))) {
        if (doc === null || doc === undefined) continue;
        const obj = doc as KubeObject;
        const rel = relative(root, p);
        if (
          typeof obj.apiVersion !== 'string' ||
          typeof obj.kind !== 'string' ||
          typeof obj.metadata?.name !== 'string'
        )
          throw invalid(`${rel}: a document without apiVersion, kind or metadata.name`);
        const key = objectKey(obj);
        const first = seen.get(key);
        if (first) throw invalid(`${key} is defined twice (${first} and ${rel})`);
        seen.set(key, rel);
        out.push({ obj, file: rel });
      }
    }
  };
  await visit(root, []);
  return out;
}

export const objectKey = (o: KubeObject): string =>
  `${o.kind}/${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;

/**
 * Apply order after the CRDs: the namespace, then identities and permissions, then what uses
 * them, the workload last (so its pods start with their ServiceAccount and RBAC in place).
 * Deletion runs the same list backwards.
 */
const KIND_ORDER = [
  'Namespace',
  'ServiceAccount',
  'ClusterRole',
  'ClusterRoleBinding',
  'Role',
  'RoleBinding',
  'ConfigMap',
  'Secret',
  'Service',
  'NetworkPolicy',
  'PodDisruptionBudget',
  'Deployment',
];

export function applyOrder(objs: KubeObject[]): KubeObject[] {
  const rank = (o: KubeObject): number => {
    const i = KIND_ORDER.indexOf(o.kind);
    return i < 0 ? KIND_ORDER.length - 1 : i; // unknown kinds just before the Deployment
  };
  return objs
    .map((o, i) => ({ o, i }))
    .sort((a, b) => rank(a.o) - rank(b.o) || a.i - b.i)
    .map((x) => x.o);
}

export const isCrd = (o: KubeObject): boolean => o.kind === 'CustomResourceDefinition';

/** Replaces the engine container's image (`--image`, for images loaded into kind or minikube). */
export function withEngineImage(objs: KubeObject[], image: string): KubeObject[] {
  let replaced = 0;
  const result = objs.map((o) => {
    if (o.kind !== 'Deployment' || o.metadata.name !== ENGINE.deployment) return o;
    const copy = structuredClone(o) as KubeObject & {
      spec: { template: { spec: { containers: { name: string; image: string }[] } } };
    };
    for (const c of copy.spec.template.spec.containers) {
      if (c.name === 'engine') {
        c.image = image;
        replaced++;
      }
    }
    return copy;
  });
  if (replaced === 0) throw invalid(`--image: no container "engine" in Deployment ${ENGINE.deployment}`);
  return result;
}
