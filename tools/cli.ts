// The CLI in a checkout (bin/bulkhead.js, `npm start`): the engine's program plus the dev
// commands from tools/. The engine's own entry, engine/src/main.ts, has the shipped ones only.
import { runCli } from '../engine/src/cli/program.js';
import { devCommands } from './dev-commands.js';

process.exitCode = await runCli(process.argv, devCommands);
