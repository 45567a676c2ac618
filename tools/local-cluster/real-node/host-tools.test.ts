import assert from 'node:assert/strict';
import { HOST_TOOLS, missingHostPackages, onPath } from './host-tools.js';

describe('real-node host tools', () => {
  it('names each missing Debian package once', () => {
    const present = new Set(['ip', 'nft', 'iptables', 'ipset', 'mmdebstrap', 'busybox']);
    assert.deepEqual(
      missingHostPackages((c) => present.has(c)),
      ['util-linux'],
    );
    assert.deepEqual(
      missingHostPackages(() => true),
      [],
    );
    assert.equal(missingHostPackages(() => false).length, new Set(HOST_TOOLS.map((t) => t.pkg)).size);
  });

  it('finds executables on $PATH, and at a fixed path when one is given', () => {
    assert.equal(onPath('sh'), true);
    assert.equal(onPath('bulkhead-no-such-command'), false);
    assert.equal(onPath('busybox', '/nonexistent/busybox'), false);
  });
});
