import type { CommandRegistrar } from '../engine/src/cli/command.js';
import { registerDemoCommand } from './demo/demo-command.js';
import { registerLocalClusterCommand } from './local-cluster/local-cluster-command.js';
import { registerAdmissionCommand } from './serve/admission-command.js';
import { registerObserveCommand } from './serve/observe-command.js';

/**
 * The commands a checkout adds to the engine's program: they start local clusters, narrate the
 * demo or run one stage on its own for tests and benches, so they never ship in the image.
 */
export const devCommands: readonly CommandRegistrar[] = [
  registerLocalClusterCommand,
  registerDemoCommand,
  registerObserveCommand,
  registerAdmissionCommand,
];
