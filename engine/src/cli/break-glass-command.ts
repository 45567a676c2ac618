import type { Command } from 'commander';
import { setBreakGlass } from '../admission/index.js';
import { loadKubeConfig } from '../core/kube/kubeconfig.js';
import { EXIT, type CommandRegistrar } from './command.js';

/**
 * `bulkhead break-glass on|off`: flips every Bulkhead webhook to failurePolicy Ignore and
 * suspends the GitOps guard (on), or restores them (off). For incidents only: while it is on,
 * admins can edit HealthPolicies behind git's back, and a dead engine blocks nothing.
 */
export const registerBreakGlassCommand: CommandRegistrar = (program: Command, setExit) => {
  program
    .command('break-glass')
    .description(
      'flip every Bulkhead webhook to failurePolicy Ignore and suspend the GitOps guard (on), or restore them (off)',
    )
    .argument('<state>', 'on or off')
    .option('--kubeconfig <path>', 'kubeconfig to use (default: $KUBECONFIG, ~/.kube/config, in-cluster)')
    .option('-o, --output <format>', 'human or json', 'human')
    .action(async (state: string, o: { kubeconfig?: string; output: string }) => {
      if (state !== 'on' && state !== 'off') {
        process.stderr.write(`break-glass takes "on" or "off", got "${state}"\n`);
        setExit(EXIT.usage);
        return;
      }
      const result = await setBreakGlass(loadKubeConfig(o.kubeconfig), state === 'on');
      if (o.output === 'json') {
        process.stdout.write(`${JSON.stringify({ breakGlass: state, ...result })}\n`);
      } else {
        for (const c of result.changed) process.stdout.write(`${c}: break-glass ${state}\n`);
        for (const c of result.unchanged) process.stdout.write(`${c}: already ${state}\n`);
        if (result.changed.length + result.unchanged.length === 0)
          process.stdout.write('no Bulkhead webhook configurations found\n');
      }
      setExit(EXIT.ok);
    });
};
