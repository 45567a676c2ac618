#!/usr/bin/env bash
# Builds lua-health (local-cluster/lua-health-bin: a few lines of Go around github.com/yuin/
# gopher-lua, the Lua VM Argo CD embeds, at the version Argo CD pins) into the same cache as the
# control plane, so the Argo CD health scripts (integrations/argocd) are tested in the VM Argo CD
# runs them in and a warm machine never rebuilds. The program is ours, not a release, so the
# cache key is the gopher-lua version plus a hash of its source (go.mod, go.sum, main.go): an
# edit rebuilds. Prints the binary's path on stdout (last line); progress goes to stderr.
# ADR 1603.
set -euo pipefail

GOPHER_LUA_VERSION=1.1.2

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src="$here/lua-health-bin"
cache=${BULKHEAD_CACHE_DIR:-$HOME/.cache/bulkhead}
digest=$(cat "$src/go.mod" "$src/go.sum" "$src/main.go" | sha256sum | cut -c1-12)
bin="$cache/bin/lua-health-gopher-lua-v$GOPHER_LUA_VERSION-$digest"

log() { printf '[local-cluster/build-lua-health] %s\n' "$*" >&2; }

if [ -x "$bin/lua-health" ]; then echo "$bin/lua-health"; exit 0; fi
if ! command -v go >/dev/null 2>&1; then
  log "Go is not installed. Install Go 1.26 or newer (https://go.dev/doc/install) and run again."
  exit 127
fi
if ! grep -q "github.com/yuin/gopher-lua v$GOPHER_LUA_VERSION\$" "$src/go.mod"; then
  log "lua-health-bin/go.mod does not pin github.com/yuin/gopher-lua v$GOPHER_LUA_VERSION"
  exit 1
fi
mkdir -p "$bin"
export CGO_ENABLED=0
log "building lua-health (gopher-lua v$GOPHER_LUA_VERSION; first time only, seconds)"
start=$SECONDS
# Temp name and rename: an interrupted build never leaves a half binary a later run would take.
tmp=$(mktemp "$bin/.lua-health-XXXXXX")
(cd "$src" && go build -trimpath -buildvcs=false -ldflags "-s -w" -o "$tmp" .)
mv -f "$tmp" "$bin/lua-health"
log "built lua-health in $((SECONDS - start))s"
echo "$bin/lua-health"
