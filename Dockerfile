# syntax=docker/dockerfile:1
# GENERATED from images/images.ts by `npm run gen`: edit the definition there, not this file.
# The Bulkhead engine image: `bulkhead run` (and the rest of the CLI) as compiled JavaScript on
# Node 20, production dependencies only, running as a numeric non-root user on a read-only root.
#
#   docker build -t bulkhead:dev .            (context: the repository root)
#
# Base image: node:20.20.2-bookworm-slim by tag, so a clean `docker build` works as shipped. A tag can be
# re-pushed: for a release, pin the digest you reviewed, once for every Dockerfile
# (NODE_BASE_DIGEST in images/images.ts, then `npm run gen`), or for one build:
#   docker buildx imagetools inspect node:20.20.2-bookworm-slim --format '{{.Manifest.Digest}}'
#   docker build --build-arg NODE_IMAGE=node:20.20.2-bookworm-slim@sha256:<that digest> …
ARG NODE_IMAGE=node:20.20.2-bookworm-slim

# ---- build: TypeScript → JavaScript (dev dependencies live only in this stage)
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# npm 11 runs no dependency install scripts unless allowed (package.json allowScripts).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY sidecar sidecar
COPY engine/src engine/src
RUN npx tsc -p tsconfig.build.json --outDir /out

# ---- deps: production dependencies only
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# ---- runtime
FROM ${NODE_IMAGE}
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
