import { dump } from 'js-yaml';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

export type KubeconfigUser = { clientCert: string; clientKey: string } | { token: string };

/** Renders a single-context kubeconfig with embedded credentials (no files to leak or lose). */
export function renderKubeconfig(opts: {
  server: string;
  caCert: string;
  userName: string;
  user: KubeconfigUser;
  namespace?: string;
}): string {
  const user =
    'token' in opts.user
      ? { token: opts.user.token }
      : { 'client-certificate-data': b64(opts.user.clientCert), 'client-key-data': b64(opts.user.clientKey) };
  const context: Record<string, string> = { cluster: 'bulkhead-local', user: opts.userName };
  if (opts.namespace) context.namespace = opts.namespace;
  return dump({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      { name: 'bulkhead-local', cluster: { server: opts.server, 'certificate-authority-data': b64(opts.caCert) } },
    ],
    users: [{ name: opts.userName, user }],
    contexts: [{ name: opts.userName, context }],
    'current-context': opts.userName,
  });
}
