import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { createCertificateAuthority, issueCertificate } from '../../../engine/src/core/pki.js';

export interface TestWebhook {
  url: string;
  caCert: string;
  requests(): { namespace: string; name: string; operation: string }[];
  close(): Promise<void>;
}

/**
 * A minimal koa HTTPS admission webhook on 127.0.0.1 for the control-plane test: it adds one
 * label to every pod through a JSONPatch. Its cert carries an IP SAN, which Go's TLS requires.
 */
export async function startPatchingWebhook(opts: { label: [string, string] }): Promise<TestWebhook> {
  const ca = await createCertificateAuthority('test-webhook-ca', 1);
  const serving = await issueCertificate(ca, {
    commonName: '127.0.0.1',
    ipAddresses: ['127.0.0.1'],
    usage: 'server',
    validForDays: 1,
  });
  const seen: { namespace: string; name: string; operation: string }[] = [];
  const app = new Koa();
  app.use(async (ctx) => {
    const chunks: Buffer[] = [];
    for await (const c of ctx.req) chunks.push(c as Buffer);
    const review = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
      request: {
        uid: string;
        namespace: string;
        name?: string;
        operation: string;
        object: { metadata: { name?: string; labels?: Record<string, string> } };
      };
    };
    const { request } = review;
    seen.push({
      namespace: request.namespace,
      name: request.object.metadata.name ?? request.name ?? '',
      operation: request.operation,
    });
    const patch = request.object.metadata.labels
      ? [
          {
            op: 'add',
            path: `/metadata/labels/${opts.label[0].replace(/~/g, '~0').replace(/\//g, '~1')}`,
            value: opts.label[1],
          },
        ]
      : [{ op: 'add', path: '/metadata/labels', value: { [opts.label[0]]: opts.label[1] } }];
    ctx.body = {
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: {
        uid: request.uid,
        allowed: true,
        patchType: 'JSONPatch',
        patch: Buffer.from(JSON.stringify(patch)).toString('base64'),
      },
    };
  });
  const server: Server = createServer({ cert: serving.cert, key: serving.key }, app.callback());
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    caCert: ca.cert,
    requests: () => [...seen],
    close: () => new Promise((ok) => server.close(() => ok())),
  };
}
