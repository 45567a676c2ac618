import type { Command } from 'commander';
import { errorMessage, isBulkheadError } from '../../engine/src/core/errors.js';
import { EXIT, type CommandRegistrar } from '../../engine/src/cli/command.js';
import { runStory, StepFailed } from './story.js';

/**
 * `bulkhead demo` (what `npm start` runs): the whole Bulkhead story on a local control plane,
 * narrated step by step. Exit 0 when the story completed; 1 with the failing step otherwise.
 */
export const registerDemoCommand: CommandRegistrar = (program: Command, setExit) => {
  program
    .command('demo')
    .description('run the Bulkhead story on a local control plane (no cluster needed)')
    .option('--keep', 'leave everything running for exploration until Ctrl-C', false)
    .action(async (o: { keep: boolean }) => {
      const say = (l: string): void => {
        process.stdout.write(`${l}\n`);
      };
      const t0 = performance.now();
      try {
        const r = await runStory({
          keep: o.keep,
          say,
          ...(process.env.BULKHEAD_BIN_DIR ? { binDir: process.env.BULKHEAD_BIN_DIR } : {}),
        });
        say(
          `done in ${((performance.now() - t0) / 1000).toFixed(0)}s: ${r.quarantinedPod} quarantined, ${r.replacementPod} took its place, record ${r.recordCommit.slice(0, 12)} in git`,
        );
        setExit(EXIT.ok);
      } catch (err) {
        const step = err instanceof StepFailed ? err.step : 'demo';
        process.stderr.write(`✖ ${step} failed: ${errorMessage(err)}\n`);
        setExit(isBulkheadError(err) && err.kind !== 'Stalled' ? EXIT.usage : EXIT.invalid);
      }
    });
};
