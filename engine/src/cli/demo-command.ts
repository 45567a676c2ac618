import type { Command } from 'commander';
import { startLocalCluster } from '../local-cluster/index.js';
import type { CommandRegistrar } from './command.js';

/**
 * `bulkhead demo` (what `npm start` runs). For now it brings up the local control plane with
 * workloads and shows how to use it; the full quarantine story is built on top of this.
 */
export const registerDemoCommand: CommandRegistrar = (program: Command, setExit) => {
  program
    .command('demo')
    .description('run the Bulkhead story on a local control plane (no cluster needed)')
    .option('--once', 'stop as soon as the control plane is up (smoke test)', false)
    .action(async (o: { once: boolean }) => {
      const say = (l: string): void => {
        process.stdout.write(`${l}\n`);
      };
      say('▸ starting a local Kubernetes control plane (first run builds it from Go modules: ~20 min)');
      const cluster = await startLocalCluster({
        workloads: true,
        nodes: 2,
        ...(process.env.BULKHEAD_BIN_DIR ? { binDir: process.env.BULKHEAD_BIN_DIR } : {}),
        onProgress: (l) => say(`  ${l}`),
      });
      say(`✔ control plane up at ${cluster.server} in ${(cluster.startupMs / 1000).toFixed(1)}s`);
      say(`  export KUBECONFIG=${cluster.kubeconfigPath}`);
      say(`  export PATH=${cluster.binDir}:$PATH   # kubectl, built with the control plane`);
      say(`  kubectl get nodes   # two kwok nodes, Ready`);
      if (o.once) {
        await cluster.stop();
        setExit(0);
        return;
      }
      say('  press Ctrl-C to stop and clean up');
      await new Promise<void>((ok) => {
        process.once('SIGINT', ok);
        process.once('SIGTERM', ok);
      });
      say('▸ stopping');
      await cluster.stop();
    });
};
