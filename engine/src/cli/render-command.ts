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
    .option(
      '--source-repo <url>',
      "the policy repository's URL, stamped on every object (bulkhead.dev/source-repo) so a refused edit names it",
    )
    .action(async (dir: string, opts: { sourceRepo?: string }) => {
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
      process.stdout.write(
        renderPolicies(result.policies, result.settings, opts.sourceRepo ? { sourceRepo: opts.sourceRepo } : {}),
      );
      setExit(EXIT.ok);
    });
};
