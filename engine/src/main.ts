// Entry point: argv → cli. Nothing else happens at import time anywhere in the engine.
import { runCli } from './cli/program.js';

process.exitCode = await runCli(process.argv);
