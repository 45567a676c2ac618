import { DEMO_APP_IMAGE, ENGINE_IMAGE, SIDECAR_IMAGE } from '../../images/images.js';
import { renderDockerfile } from './dockerfile.js';

/** Every Dockerfile the project ships, rendered from images/images.ts (path → content). */
export function dockerfiles(): Map<string, string> {
  return new Map([
    [
      'Dockerfile',
      renderDockerfile(ENGINE_IMAGE, [
        'The Bulkhead engine image: `bulkhead run` (and the rest of the CLI) as compiled JavaScript on',
        'Node 20, production dependencies only, running as a numeric non-root user on a read-only root.',
        '',
        '  docker build -t bulkhead:dev .            (context: the repository root)',
      ]),
    ],
    [
      'sidecar/Dockerfile',
      renderDockerfile(SIDECAR_IMAGE, [
        "The Bulkhead sidecar image: the probe-and-report loop injected beside each matched pod's",
        'main container. One bundled ESM file (node built-ins only), so the runtime stage holds no',
        'node_modules at all; numeric non-root user; writes nothing (read-only root friendly).',
        '',
        '  docker build -f sidecar/Dockerfile -t bulkhead-sidecar:dev .   (context: the repository root)',
      ]),
    ],
    [
      'images/demo-app/Dockerfile',
      renderDockerfile(DEMO_APP_IMAGE, [
        "The demo app: the demo's and the real-node tests' workload (images/demo-app/server.mjs).",
        '',
        '  docker build -f images/demo-app/Dockerfile -t bulkhead-demo-app:dev .   (context: the repository root)',
      ]),
    ],
  ]);
}
