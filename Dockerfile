# syntax=docker/dockerfile:1
# The Bulkhead engine image: `bulkhead run` (and the rest of the CLI) as compiled JavaScript on
# Node 20, production dependencies only, running as a numeric non-root user on a read-only root.
#
#   docker build -t bulkhead:dev .            (context: the repository root)
#
# Base image pinned by digest. NODE_DIGEST below is a placeholder (all zeros, it pulls nothing):
# pin it to the digest of the tag you reviewed, either in this file for a release, or per build:
#   docker buildx imagetools inspect node:20.20.2-bookworm-slim --format '{{.Manifest.Digest}}'   (the "Digest:" line)
#   (or `crane digest node:20.20.2-bookworm-slim`, `skopeo inspect docker://… | jq -r .Digest`)
#   docker build --build-arg NODE_DIGEST=sha256:<that digest> -t bulkhead:dev .
# A digest is immutable, so the same Dockerfile builds on the same base until someone changes it
# (Renovate's docker manager with pinDigests keeps it current through reviewed PRs).
ARG NODE_DIGEST=sha256:0000000000000000000000000000000000000000000000000000000000000000

# ---- build: TypeScript → JavaScript (dev dependencies live only in this stage)
FROM node:20.20.2-bookworm-slim@${NODE_DIGEST} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# npm 11 runs no dependency install scripts unless allowed (package.json allowScripts).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY engine/src engine/src
COPY sidecar/src sidecar/src
RUN npx tsc -p tsconfig.build.json --outDir /out

# ---- deps: production dependencies only
FROM node:20.20.2-bookworm-slim@${NODE_DIGEST} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# ---- runtime
FROM node:20.20.2-bookworm-slim@${NODE_DIGEST}
# git: the engine syncs policy repositories and commits quarantine records with the git CLI
# (simple-git); openssh-client for ssh:// sources; ca-certificates for https:// ones.
RUN apt-get update \
 && apt-get install -y --no-install-recommends git openssh-client ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# Read-only root: the only writable paths are /tmp (HOME, for git) and the git cache, both
# emptyDir volumes in deploy/engine/deployment.yaml. Node and git write nothing else.
ENV NODE_ENV=production \
    HOME=/tmp \
    BULKHEAD_CACHE_DIR=/var/cache/bulkhead
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /out/engine ./engine
COPY --from=build /out/sidecar ./sidecar
COPY package.json ./
# deploy/ too, so `bulkhead install` works from the image (its default --manifests is /app/deploy).
COPY deploy ./deploy
# Numeric, so the kubelet can enforce runAsNonRoot without resolving a user name.
USER 65532:65532
# Fail the build, not the rollout: the compiled CLI must load with production dependencies only.
RUN ["node", "/app/engine/src/main.js", "--help"]
EXPOSE 8080 8443
ENTRYPOINT ["node", "/app/engine/src/main.js"]
CMD ["run"]
