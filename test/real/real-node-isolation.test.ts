import assert from 'node:assert/strict';
import { eventually } from '../harness/eventually.js';
import { kubectlOk } from './support/kubectl.js';
import { getRealCluster } from './support/state.js';
import { apply, demoPod, fetchFrom, podIp, realNamespace, waitReady } from './support/workloads.js';

describe('real nodes: NetworkPolicy is enforced', () => {
  const cluster = () => getRealCluster();
  let ns: string;

  before(async () => {
    ns = await realNamespace(cluster(), 'rn-iso');
  });

  it('a deny-all policy cuts a pod off both ways; removing it restores traffic', async () => {
    const [n0, n1] = cluster().nodeNames as [string, string];
    // Server and client on different nodes: enforcement holds across the node boundary.
    await apply(cluster(), ns, demoPod('server', { app: 'server' }, n0), demoPod('client', { app: 'client' }, n1));
    await waitReady(cluster(), ns, 'bulkhead.dev/test=true');
    const [serverIp, clientIp] = await Promise.all([podIp(cluster(), ns, 'server'), podIp(cluster(), ns, 'client')]);
    const inbound = () => fetchFrom(cluster(), ns, 'client', `http://${serverIp}:8080/`);
    const outbound = () => fetchFrom(cluster(), ns, 'server', `http://${clientIp}:8080/`);

    assert.equal((await inbound()).stdout.trim(), '200');
    assert.equal((await outbound()).stdout.trim(), '200');

    await apply(cluster(), ns, {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'deny-server' },
      spec: { podSelector: { matchLabels: { app: 'server' } }, policyTypes: ['Ingress', 'Egress'] },
    });
    await eventually(
      async () => {
        const [i, o] = await Promise.all([inbound(), outbound()]);
        assert.equal(i.code, 1, `client → server still answered: ${i.stdout}`);
        assert.equal(o.code, 1, `server → client still answered: ${o.stdout}`);
      },
      { what: 'deny-all enforced both ways', timeoutMs: 30_000, intervalMs: 500 },
    );
    // The client itself is not isolated: it still reaches itself (its own app) through its IP.
    assert.equal((await fetchFrom(cluster(), ns, 'client', `http://${clientIp}:8080/`)).stdout.trim(), '200');

    await kubectlOk(cluster(), ['delete', 'networkpolicy', '-n', ns, 'deny-server']);
    await eventually(
      async () => {
        const [i, o] = await Promise.all([inbound(), outbound()]);
        assert.equal(i.stdout.trim(), '200', i.stdout + i.stderr);
        assert.equal(o.stdout.trim(), '200', o.stdout + o.stderr);
      },
      { what: 'traffic restored', timeoutMs: 30_000, intervalMs: 500 },
    );
  });
});
