import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { LocalCluster } from '../local-cluster/index.js';

/**
 * An address of its own on the cluster's bridge for the git server, so port 443 there is ours
 * even when a process from an earlier run of this slot still holds <bridge IP>:443 (a socket
 * outlives the address it was bound to). Pods reach every address of the bridge subnet; the
 * address goes with the bridge when the cluster stops, and `remove()` takes it away first.
 */
export async function bridgeAddress(cluster: LocalCluster): Promise<{ host: string; remove(): Promise<void> }> {
  const net = cluster.network;
  if (!net) throw new Error('a git server on the cluster bridge needs real nodes (the cluster has no bridge network)');
  const base = net.hostIp.split('.').slice(0, 3).join('.');
  const host = `${base}.${200 + (randomBytes(1)[0]! % 50)}`;
  const ip = (...args: string[]) =>
    new Promise<void>((ok, fail) =>
      execFile('ip', args, (err, _out, stderr) => (err ? fail(new Error(`ip ${args.join(' ')}: ${stderr}`)) : ok())),
    );
  await ip('addr', 'add', `${host}/32`, 'dev', net.bridge);
  return { host, remove: () => ip('addr', 'del', `${host}/32`, 'dev', net.bridge).catch(() => undefined) };
}
