import {
  DEBIAN_SUITE,
  NODE_BASE_DIGEST,
  NODE_VERSION,
  type ImageDefinition,
  type ImageContent,
} from '../../images/images.js';

/**
 * Renders an image definition as a multi-stage Dockerfile: the same contents, built by the
 * same steps, as tools/images/build-images.ts assembles without Docker. `npm run gen` writes
 * the results (Dockerfile, sidecar/Dockerfile, images/demo-app/Dockerfile) and a test fails
 * when a committed one drifts from its definition.
 */
export function renderDockerfile(def: ImageDefinition, header: string[]): string {
  const tag = `node:${NODE_VERSION}-${DEBIAN_SUITE}-slim`;
  const base = '${NODE_IMAGE}';
  const needs = (kind: ImageContent['kind']) => def.contents.some((c) => c.kind === kind);
  const lines: string[] = [
    '# syntax=docker/dockerfile:1',
    '# GENERATED from images/images.ts by `npm run gen`: edit the definition there, not this file.',
    ...header.map((h) => (h ? `# ${h}` : '#')),
    '#',
    ...(NODE_BASE_DIGEST
      ? [`# Base image: ${tag} pinned to the digest reviewed for this release (images/images.ts).`]
      : [
          `# Base image: ${tag} by tag, so a clean \`docker build\` works as shipped. A tag can be`,
          '# re-pushed: for a release, pin the digest you reviewed, once for every Dockerfile',
          '# (NODE_BASE_DIGEST in images/images.ts, then `npm run gen`), or for one build:',
          `#   docker buildx imagetools inspect ${tag} --format '{{.Manifest.Digest}}'`,
          `#   docker build --build-arg NODE_IMAGE=${tag}@sha256:<that digest> …`,
        ]),
    `ARG NODE_IMAGE=${tag}${NODE_BASE_DIGEST ? `@${NODE_BASE_DIGEST}` : ''}`,
  ];
  if (needs('compiled') || needs('sidecar-bundle')) {
    lines.push(
      '',
      '# ---- build: TypeScript → JavaScript (dev dependencies live only in this stage)',
      `FROM ${base} AS build`,
      'WORKDIR /src',
      'COPY package.json package-lock.json ./',
      '# npm 11 runs no dependency install scripts unless allowed (package.json allowScripts).',
      'RUN npm ci --ignore-scripts --no-audit --no-fund',
      'COPY tsconfig.json tsconfig.build.json ./',
      'COPY sidecar sidecar',
    );
    if (needs('compiled')) {
      lines.push('COPY engine/src engine/src', 'RUN npx tsc -p tsconfig.build.json --outDir /out');
    }
    if (needs('sidecar-bundle')) lines.push('RUN npx tsx sidecar/build.ts');
  }
  if (needs('production-node-modules')) {
    lines.push(
      '',
      '# ---- deps: production dependencies only',
      `FROM ${base} AS deps`,
      'WORKDIR /app',
      'COPY package.json package-lock.json ./',
      'RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force',
    );
  }
  lines.push('', '# ---- runtime', `FROM ${base}`);
  if (def.debianPackages.length > 0) {
    lines.push(
      'RUN apt-get update \\',
      ` && apt-get install -y --no-install-recommends ${def.debianPackages.join(' ')} \\`,
      ' && rm -rf /var/lib/apt/lists/*',
    );
  }
  lines.push(`WORKDIR ${def.workdir}`);
  const env = Object.entries(def.env);
  if (env.length > 0) {
    lines.push(`ENV ${env.map(([k, v], i) => `${i ? '    ' : ''}${k}=${v}`).join(' \\\n')}`);
  }
  for (const c of def.contents) {
    switch (c.kind) {
      case 'production-node-modules':
        lines.push(`COPY --from=deps /app/node_modules ${c.to}`);
        break;
      case 'compiled':
        lines.push(`COPY --from=build /out/engine ${c.to}/engine`, `COPY --from=build /out/sidecar ${c.to}/sidecar`);
        break;
      case 'sidecar-bundle':
        lines.push(`COPY --from=build /src/dist/sidecar/sidecar.mjs ${c.to}`);
        break;
      case 'copy':
        lines.push(`COPY ${c.from} ${c.to}`);
        break;
    }
  }
  lines.push('# Numeric, so the kubelet can enforce runAsNonRoot without resolving a user name.', `USER ${def.user}`);
  if (def.buildCheck) {
    lines.push(
      '# Fail the build, not the rollout: the image must start with what it holds.',
      `RUN ${JSON.stringify(def.buildCheck)}`,
    );
  }
  if (def.exposedPorts.length > 0) lines.push(`EXPOSE ${def.exposedPorts.join(' ')}`);
  lines.push(`ENTRYPOINT ${JSON.stringify(def.entrypoint)}`);
  if (def.cmd.length > 0) lines.push(`CMD ${JSON.stringify(def.cmd)}`);
  return `${lines.join('\n')}\n`;
}
