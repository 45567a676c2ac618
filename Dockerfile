# syntax=docker/dockerfile:1
# GENERATED from images/images.ts by `npm run gen`: edit the definition there, not this file.
# The Bulkhead engine image: `bulkhead run` (and the rest of the CLI) as compiled JavaScript on
# Node 20, production dependencies only, running as a numeric non-root user on a read-only root.
#
#   docker build -t bulkhead:dev .            (context: the repository root)
#
# Base image pinned by digest. NODE_DIGEST below is a placeholder (all zeros, it pulls nothing):
# pin it to the digest of the tag you reviewed, in this file for a release or per build:
#   docker buildx imagetools inspect node:20.20.2-bookworm-slim --format '{{.Manifest.Digest}}'
#   docker build --build-arg NODE_DIGEST=sha256:<that digest> …
ARG NODE_DIGEST=sha256:0000000000000000000000000000000000000000000000000000000000000000

# ---- build: TypeScript → JavaScript (dev dependencies live only in this stage)
FROM node:20.20.2-bookworm-slim@${NODE_DIGEST} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# npm 11 runs no dependency install scripts unless allowed (package.json allowScripts).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY sidecar sidecar
COPY engine/src engine/src
RUN npx tsc -p tsconfig.build.json --outDir /out

# ---- deps: production dependencies only
FROM node:20.20.2-bookworm-slim@${NODE_DIGEST} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# ---- runtime
FROM node:20.20.2-bookworm-slim@${NODE_DIGEST}
RUN apt-get update \
 && apt-get install -y --no-install-recommends git openssh-client ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production \
    HOME=/tmp \
    BULKHEAD_CACHE_DIR=/var/cache/bulkhead
COPY --from=deps /app/node_modules /app/node_modules
COPY --from=build /out/engine /app/engine
COPY --from=build /out/sidecar /app/sidecar
COPY package.json /app/package.json
COPY deploy /app/deploy
# Numeric, so the kubelet can enforce runAsNonRoot without resolving a user name.
USER 65532:65532
# Fail the build, not the rollout: the image must start with what it holds.
RUN ["node","/app/engine/src/main.js","--help"]
EXPOSE 8080 8443
ENTRYPOINT ["node","/app/engine/src/main.js"]
CMD ["run"]
