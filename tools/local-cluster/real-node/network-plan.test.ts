import assert from 'node:assert/strict';
import { MAX_SLOTS, planNetwork } from './network-plan.js';

describe('real-node network plan', () => {
  it('gives every node its own namespace, address, pod subnet and cgroup root', () => {
    const p = planNetwork(3, 2);
    assert.equal(p.hostIp, '10.250.3.1');
    assert.equal(p.serviceCidr, '10.96.48.0/20');
    assert.equal(p.kubernetesServiceIp, '10.96.48.1');
    assert.deepEqual(
      p.nodes.map((n) => [n.name, n.netns, n.ip, n.podCidr, n.podGateway, n.cgroupRoot]),
      [
        ['bh3-node-0', 'bhk3n0', '10.250.3.2', '10.244.48.0/24', '10.244.48.1', '/bulkhead-k3-n0'],
        ['bh3-node-1', 'bhk3n1', '10.250.3.3', '10.244.49.0/24', '10.244.49.1', '/bulkhead-k3-n1'],
      ],
    );
  });

  it('never lets two slots share a name or a subnet', () => {
    const seen = new Set<string>();
    for (let slot = 0; slot < MAX_SLOTS; slot++) {
      const p = planNetwork(slot, 8);
      for (const v of [p.bridge, p.hostIp, p.serviceCidr, ...p.nodes.flatMap((n) => [n.netns, n.ip, n.podCidr])]) {
        assert.ok(!seen.has(v), `${v} used twice`);
        seen.add(v);
      }
      // Interface names must fit the kernel's 15 characters.
      for (const n of p.nodes) assert.ok(n.hostVeth.length <= 15 && n.netns.length <= 15);
    }
  });

  it('refuses slots and node counts outside the plan', () => {
    assert.throws(() => planNetwork(16, 1), /slot/);
    assert.throws(() => planNetwork(0, 0), /nodes/);
    assert.throws(() => planNetwork(0, 9), /nodes/);
  });
});
