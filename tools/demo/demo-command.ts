import type { Command } from 'commander';
import { errorMessage, isBulkheadError } from '../../engine/src/core/errors.js';
import { EXIT, type CommandRegistrar } from '../../engine/src/cli/command.js';
import { realNodesUnsupported } from '../local-cluster/index.js';
import { chooseNodes, DemoUsageError } from './choose-nodes.js';
import { runRealStory } from './real-story.js';
import { runStory } from './story.js';
import { StepFailed } from './steps.js';

/**
 * `bulkhead demo` (what `npm start` runs): the whole Bulkhead story, narrated step by step, on
 * real nodes through the installed engine when the machine can run them, else on kwok nodes.
 * Exit 0 when the story completed; 1 with the failing step otherwise.
 */
export const registerDemoCommand: CommandRegistrar = (program: Command, setExit) => {
  program
    .command('demo')
    .description('run the Bulkhead story on a local cluster (real nodes when root on Linux, else kwok)')
    .option('--keep', 'leave everything running for exploration until Ctrl-C', false)
    .option('--kwok', 'run on kwok nodes (pods as local processes), even where real nodes can run', false)
    .option('--nodes <kind>', 'kwok or real (real needs root on Linux)')
    .action(async (o: { keep: boolean; kwok: boolean; nodes?: string }) => {
      const say = (l: string): void => {
        process.stdout.write(`${l}\n`);
      };
      const t0 = performance.now();
      try {
        const choice = chooseNodes(o, realNodesUnsupported());
        if (choice.why) say(`▸ kwok nodes: ${choice.why} (the real-node story needs root on Linux)`);
        const story = choice.nodes === 'real' ? runRealStory : runStory;
        const r = await story({
          keep: o.keep,
          say,
          ...(process.env.BULKHEAD_BIN_DIR ? { binDir: process.env.BULKHEAD_BIN_DIR } : {}),
        });
        say(
          `done in ${((performance.now() - t0) / 1000).toFixed(0)}s on ${r.nodes} nodes: ${r.quarantinedPod} quarantined, ${r.replacementPod} took its place on ${r.replacementNode}, record ${r.recordCommit.slice(0, 12)} in git`,
        );
        setExit(EXIT.ok);
      } catch (err) {
        if (err instanceof DemoUsageError) {
          process.stderr.write(`✖ demo: ${err.message}\n`);
          setExit(EXIT.usage);
          return;
        }
        const step = err instanceof StepFailed ? err.step : 'demo';
        process.stderr.write(`✖ ${step} failed: ${errorMessage(err)}\n`);
        setExit(isBulkheadError(err) && err.kind !== 'Stalled' ? EXIT.usage : EXIT.invalid);
      }
    });
};
