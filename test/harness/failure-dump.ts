import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import type { LocalCluster } from '../../tools/local-cluster/index.js';
import { registeredLogFiles, trackedNamespaces } from './state.js';
import { errorMessage } from '../../engine/src/core/errors.js';

const tail = async (path: string, lines: number): Promise<string> =>
  (await readFile(path, 'utf8').catch(() => '(no log)')).split('\n').slice(-lines).join('\n');

/**
 * On a failed test: the pods and Events of every namespace the tests created, and the tail of
 * every process log (control plane, engine, sidecars), written under test-artifacts/ and
 * summarized on stderr, so a red CI run explains itself.
 */
export async function dumpOnFailure(cluster: LocalCluster, testTitle: string): Promise<string> {
  const slug = testTitle
    .replace(/[^a-z0-9]+/gi, '-')
    .slice(0, 80)
    .toLowerCase();
  const dir = join('test-artifacts', slug);
  await mkdir(dir, { recursive: true });
  const core = cluster.kubeConfig().makeApiClient(CoreV1Api);
  const out: string[] = [`# ${testTitle}`];
  for (const ns of trackedNamespaces()) {
    try {
      const pods = await core.listNamespacedPod({ namespace: ns });
      out.push(`## pods in ${ns}`);
      for (const p of pods.items) {
        out.push(
          `${p.metadata?.name} phase=${p.status?.phase} node=${p.spec?.nodeName ?? '-'} labels=${JSON.stringify(p.metadata?.labels ?? {})}`,
        );
      }
      const events = await core.listNamespacedEvent({ namespace: ns });
      out.push(`## events in ${ns}`);
      for (const e of events.items.slice(-50)) {
        out.push(`${e.type} ${e.reason} ${e.involvedObject.kind}/${e.involvedObject.name}: ${e.message}`);
      }
    } catch (err) {
      out.push(`(could not list ${ns}: ${errorMessage(err)})`);
    }
  }
  const logs: [string, string][] = [
    ...cluster.processes.map((p): [string, string] => [p.name, p.logFile]),
    ...registeredLogFiles(),
  ];
  for (const [name, path] of logs) out.push(`## ${name} log (tail)`, await tail(path, 30));
  const text = out.join('\n');
  await writeFile(join(dir, 'dump.txt'), text);
  return join(dir, 'dump.txt');
}
