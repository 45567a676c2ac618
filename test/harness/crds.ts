import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ApiextensionsV1Api, type KubeConfig, type V1CustomResourceDefinition } from '@kubernetes/client-node';
import { loadAll } from 'js-yaml';
import { eventually } from './eventually.js';

/** Installs every CRD in `dir` (the generated deploy/crds) and waits until each is Established. */
export async function installCrds(kc: KubeConfig, dir: string): Promise<string[]> {
  const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.yaml')).sort();
  const api = kc.makeApiClient(ApiextensionsV1Api);
  const names: string[] = [];
  for (const f of files) {
    for (const doc of loadAll(await readFile(join(dir, f), 'utf8'))) {
      const crd = doc as V1CustomResourceDefinition;
      if (crd?.kind !== 'CustomResourceDefinition') continue;
      await api.createCustomResourceDefinition({ body: crd });
      names.push(crd.metadata!.name!);
    }
  }
  for (const name of names) await waitEstablished(kc, name);
  return names;
}

export async function waitEstablished(kc: KubeConfig, name: string): Promise<void> {
  const api = kc.makeApiClient(ApiextensionsV1Api);
  await eventually(
    async () => {
      const crd = await api.readCustomResourceDefinition({ name });
      if (!crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) throw new Error(`${name} not Established`);
    },
    { what: `CRD ${name} Established` },
  );
}
