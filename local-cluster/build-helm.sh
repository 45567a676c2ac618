#!/usr/bin/env bash
# Builds Helm from Go modules (local-cluster/helm-bin/go.mod) into the same cache as the control
# plane, keyed by its version, so the chart's tests (helm lint, helm template, helm install
# into the local control plane) run the real Helm a user runs and a warm machine never rebuilds.
# Prints the helm binary's path on stdout (last line); progress goes to stderr. ADR 1901.
set -euo pipefail

HELM_VERSION=3.22.0

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${BULKHEAD_CACHE_DIR:-$HOME/.cache/bulkhead}
bin="$cache/bin/helm-v$HELM_VERSION"

log() { printf '[local-cluster/build-helm] %s\n' "$*" >&2; }

if [ -x "$bin/helm" ]; then echo "$bin/helm"; exit 0; fi
if ! command -v go >/dev/null 2>&1; then
  log "Go is not installed. Install Go 1.26 or newer (https://go.dev/doc/install) and run again."
  exit 127
fi
mkdir -p "$bin"
export CGO_ENABLED=0
log "building helm v$HELM_VERSION (first time only; a few minutes)"
start=$SECONDS
# Temp name and rename: an interrupted build never leaves a half binary a later run would take.
tmp=$(mktemp "$bin/.helm-XXXXXX")
(cd "$here/helm-bin" && go build -trimpath \
  -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=v$HELM_VERSION -X helm.sh/helm/v3/internal/version.gitTreeState=clean" \
  -o "$tmp" helm.sh/helm/v3/cmd/helm)
mv -f "$tmp" "$bin/helm"
log "built helm in $((SECONDS - start))s"
echo "$bin/helm"
