// Entry point: argv → cli, with the shipped commands only (a checkout's bin/bulkhead.js runs
// tools/cli.ts, which adds the dev commands). Nothing else happens at import time in the engine.
import { runCli } from './cli/program.js';

process.exitCode = await runCli(process.argv);
