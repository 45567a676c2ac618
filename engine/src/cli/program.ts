import { Command, CommanderError } from 'commander';
import { errorMessage, isBulkheadError } from '../core/errors.js';
import { BULKHEAD_VERSION } from '../core/version.js';
import { EXIT, type CommandRegistrar } from './command.js';
import { registerBreakGlassCommand } from './break-glass-command.js';
import { registerRunCommand } from './run-command.js';
import { registerPlanCommand } from './plan-command.js';
import { registerRenderCommand } from './render-command.js';
import { registerValidateCommand } from './validate-command.js';
import { registerInstallCommand } from './install-command.js';

/** The shipped commands. Dev tooling (demo, local-cluster, the standalone serve commands) lives
 * in tools/ and is added by tools/cli.ts in a checkout, so the engine image carries none of it. */
const registrars: CommandRegistrar[] = [
  registerValidateCommand,
  registerRenderCommand,
  registerRunCommand,
  registerPlanCommand,
  registerBreakGlassCommand,
  registerInstallCommand,
];

export function buildProgram(setExit: (code: number) => void, extra: readonly CommandRegistrar[] = []): Command {
  const program = new Command('bulkhead')
    .description('GitOps policy engine that quarantines failing or compromised pods')
    .version(BULKHEAD_VERSION, '-V, --version', 'print the version')
    .showHelpAfterError()
    .exitOverride();
  for (const register of [...registrars, ...extra]) register(program, setExit);
  return program;
}

export async function runCli(argv: string[], extra: readonly CommandRegistrar[] = []): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram((c) => {
    code = c;
  }, extra);
  try {
    await program.parseAsync(argv);
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end through here with exit code 0.
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    // Known errors print their message, never a stack trace.
    if (isBulkheadError(err)) {
      process.stderr.write(`error ${err.code}: ${err.message}\n`);
      return err.kind === 'Stalled' ? EXIT.invalid : EXIT.usage;
    }
    process.stderr.write(`error: ${errorMessage(err)}\n`);
    return EXIT.usage;
  }
}
