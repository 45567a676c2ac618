// The host commands real nodes run (network namespaces, netfilter for kube-proxy and
// kube-router, image root filesystems, the pause image), with the Debian package of each, so
// a machine without them is told what to install before anything starts, and the demo falls
// back to kwok nodes instead of failing halfway through.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export const HOST_TOOLS: readonly { command: string; pkg: string; path?: string }[] = [
  { command: 'ip', pkg: 'iproute2' },
  { command: 'nsenter', pkg: 'util-linux' },
  { command: 'unshare', pkg: 'util-linux' },
  { command: 'nft', pkg: 'nftables' },
  { command: 'iptables', pkg: 'iptables' },
  { command: 'ipset', pkg: 'ipset' },
  { command: 'mmdebstrap', pkg: 'mmdebstrap' },
  // The pause image is the static busybox at this path (tools/images/build-images.ts).
  { command: 'busybox', pkg: 'busybox-static', path: '/bin/busybox' },
];

/** The Debian packages whose commands are missing (pure: `has` says whether a command exists). */
export function missingHostPackages(has: (command: string, path?: string) => boolean): string[] {
  return [...new Set(HOST_TOOLS.filter((t) => !has(t.command, t.path)).map((t) => t.pkg))];
}

/** Whether `command` is an executable on $PATH (or at `path`, when given). */
export function onPath(command: string, path?: string): boolean {
  const candidates = path ? [path] : (process.env.PATH ?? '').split(delimiter).map((d) => join(d, command));
  return candidates.some((c) => {
    try {
      accessSync(c, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}
