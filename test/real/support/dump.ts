import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LocalCluster } from '../../../tools/local-cluster/index.js';
import { kubectl } from './kubectl.js';
import { trackedRealNamespaces } from './state.js';

/** What explains a failed real-node test: pods, Events, node process logs, pod logs. */
export async function dumpRealCluster(cluster: LocalCluster, title: string): Promise<string> {
  const dir = join('test-artifacts', 'real', title.replace(/[^a-z0-9]+/gi, '-').slice(0, 80));
  await mkdir(dir, { recursive: true });
  const out: string[] = [];
  for (const args of [
    ['get', 'nodes,pods,svc,networkpolicies', '-A', '-o', 'wide'],
    ['get', 'events', '-A', '--sort-by=.lastTimestamp'],
    // The installed engine (installed-engine.ts), when a test installed it.
    ['logs', '-n', 'bulkhead-system', '-l', 'app.kubernetes.io/name=bulkhead', '--prefix', '--tail=200'],
    [
      'get',
      'policysources,healthpolicies,quarantines,validatingwebhookconfigurations,mutatingwebhookconfigurations',
      '-A',
      '-o',
      'yaml',
    ],
  ]) {
    const r = await kubectl(cluster, args);
    out.push(`$ kubectl ${args.join(' ')}\n${r.stdout}${r.stderr}`);
  }
  for (const ns of trackedRealNamespaces()) {
    const r = await kubectl(cluster, [
      'logs',
      '-n',
      ns,
      '--all-containers',
      '--prefix',
      '--tail=50',
      '-l',
      'bulkhead.dev/test',
    ]);
    out.push(`$ kubectl logs -n ${ns}\n${r.stdout}${r.stderr}`);
  }
  const nodes = join(cluster.runDir, 'nodes');
  for (const node of await readdir(nodes).catch(() => [])) {
    for (const f of await readdir(join(nodes, node, 'logs')).catch(() => [])) {
      const text = await readFile(join(nodes, node, 'logs', f), 'utf8').catch(() => '');
      out.push(`--- ${node}/${f}\n${text.split('\n').slice(-40).join('\n')}`);
    }
  }
  const path = join(dir, 'dump.txt');
  await writeFile(path, out.join('\n\n'));
  return path;
}
