import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ApiextensionsV1Api, type KubeConfig } from '@kubernetes/client-node';
import { KubeClient } from '../../engine/src/core/kube/client.js';
import { loadAll } from 'js-yaml';
import { eventually } from './eventually.js';
import { errorMessage } from '../../engine/src/core/errors.js';

/**
 * Installs every CRD in `dir` (the generated deploy/crds) and waits until each is Established.
 * Sent verbatim through the raw client: client-node's typed serializer would silently drop
 * the `x-kubernetes-*` extensions (its model fields are camelCase), changing the schema.
 */
export async function installCrds(kc: KubeConfig, dir: string): Promise<string[]> {
  const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.yaml')).sort();
  const client = new KubeClient(kc);
  const names: string[] = [];
  const lists: string[] = [];
  for (const f of files) {
    for (const doc of loadAll(await readFile(join(dir, f), 'utf8'))) {
      const crd = doc as {
        kind?: string;
        metadata: { name: string };
        spec: { group: string; names: { plural: string }; versions: { name: string; served: boolean }[] };
      };
      if (crd?.kind !== 'CustomResourceDefinition') continue;
      try {
        await client.request({
          method: 'POST',
          path: '/apis/apiextensions.k8s.io/v1/customresourcedefinitions',
          body: crd,
        });
      } catch (err) {
        throw new Error(`installing ${join(dir, f)} (${crd.metadata.name}) failed: ${errorMessage(err)}`, {
          cause: err,
        });
      }
      names.push(crd.metadata.name);
      lists.push(`/apis/${crd.spec.group}/${crd.spec.versions.find((v) => v.served)?.name}/${crd.spec.names.plural}`);
    }
  }
  for (const name of names) await waitEstablished(kc, name);
  // Established is not yet servable: storage answers 429 "(re)initializing" for a moment.
  for (const path of lists) await eventually(() => client.request({ method: 'GET', path }), { what: `GET ${path}` });
  return names;
}

export async function waitEstablished(kc: KubeConfig, name: string): Promise<void> {
  const api = kc.makeApiClient(ApiextensionsV1Api);
  await eventually(
    async () => {
      const crd = await api.readCustomResourceDefinition({ name });
      if (!crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True'))
        throw new Error(`${name} not Established`);
    },
    { what: `CRD ${name} Established` },
  );
}
