import type { Command } from 'commander';
import { isValid, renderPolicies } from '../policy/index.js';
import { EXIT, type CommandRegistrar } from './command.js';
import { formatReportHuman } from './output/human.js';
import { buildReport, loadOrReport } from './validate-command.js';

/**
 * `bulkhead render [dir]`: the CRs the engine would apply, as YAML on stdout, for teams whose
 * Argo CD or Flux applies them. Renders nothing from an invalid repository (all or nothing,
 * like the engine): the problems go to stderr and the exit code is 1.
 */
export const registerRenderCommand: CommandRegistrar = (program: Command, setExit) => {
  program
    .command('render')
    .description('print the HealthPolicy objects the engine would apply, as multi-document YAML')
    .argument('[dir]', 'policy repository root', '.')
    .action(async (dir: string) => {
      const result = await loadOrReport(dir);
      if (!result) {
        setExit(EXIT.usage);
        return;
      }
      if (!isValid(result)) {
        process.stderr.write(formatReportHuman(buildReport(dir, result)));
        setExit(EXIT.invalid);
        return;
      }
      process.stdout.write(renderPolicies(result.policies, result.settings));
      setExit(EXIT.ok);
    });
};
