// `bulkhead uninstall` of the shared install leaves no webhook configuration, no NetworkPolicy
// and no RBAC of Bulkhead's behind; then `bulkhead install` brings the engine back, so this
// file can run in any order with the others (each file awaits `installedEngine()`, which
// installs again after an uninstall). It tears the engine down, so it runs alone in its file.
import assert from 'node:assert/strict';
import { ENGINE_NAMESPACE, installedEngine, showCli, uninstallInstalledEngine } from './support/installed-engine.js';
import { ADMISSION_KINDS, leftovers } from './support/leftovers.js';

describe('real nodes: bulkhead uninstall', function () {
  this.timeout(900_000);

  it('leaves no webhook configuration, no NetworkPolicy and no RBAC behind; install brings the engine back', async () => {
    const engine = await installedEngine();
    // What there is to remove: the engine's RBAC, its NetworkPolicy and its webhooks.
    assert.ok((await leftovers('clusterroles,clusterrolebindings,roles,rolebindings')).length >= 4);
    assert.ok((await leftovers('networkpolicies')).length >= 1);
    // The shipped default on this 1.36 cluster is the policy path (ADR 1700): the injection
    // policy, the guard and the injection's warnings, each with its binding.
    assert.equal((await leftovers(ADMISSION_KINDS)).length, 6);

    const u = await uninstallInstalledEngine();
    assert.equal(u.code, 0, showCli(u));
    assert.match(u.stdout, /Bulkhead is uninstalled/, showCli(u));

    assert.deepEqual(await leftovers(ADMISSION_KINDS), []);
    assert.deepEqual(await leftovers('networkpolicies'), []);
    assert.deepEqual(await leftovers('clusterroles,clusterrolebindings,roles,rolebindings'), []);
    const ns = await engine.kubectl(['get', 'namespace', ENGINE_NAMESPACE]);
    assert.notEqual(ns.code, 0, `namespace ${ENGINE_NAMESPACE} is left: ${ns.stdout}`);
    // Nothing calls a dead webhook: a write to a Bulkhead object goes through now.
    await engine.kubectlOk(['label', 'policysource', 'default', 'uninstalled=yes', '--overwrite']);
    await engine.kubectlOk(['label', 'policysource', 'default', 'uninstalled-']);

    // Installing again (the same command as before) gives a working engine for later files.
    const again = await installedEngine();
    assert.match(again.install.stdout, /Available: 2\/2 replicas ready/, showCli(again.install));
  });
});
