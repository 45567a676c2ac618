#!/usr/bin/env bash
# Builds the Prometheus tools users point at Bulkhead, from Go modules, into the same cache as
# the control plane, keyed by version, so the export/receiver integration test runs the real
# Alertmanager and Prometheus a user runs and a warm machine never rebuilds (ADR 1812):
#   alertmanager  github.com/prometheus/alertmanager   (local-cluster/alertmanager-bin/go.mod)
#   prometheus    github.com/prometheus/prometheus     (local-cluster/prometheus-bin/go.mod)
# Prometheus is built without the `builtinassets` tag (no web UI assets: the HTTP API is all a
# test needs) and with `remove_all_sd` (static and file/http discovery only): the cloud and
# Kubernetes discovery plugins are most of its build time and no test uses them.
# Alertmanager's module lacks its web UI's built assets, so it is built from a copy of the
# module with a placeholder page for the UI; its API and notifiers are unchanged.
# Usage: build-alerting.sh [alertmanager|prometheus]... (default: both). Prints one line per
# tool, `<name>=<path of the binary>`; progress goes to stderr.
set -euo pipefail

ALERTMANAGER_VERSION=0.35.0
PROMETHEUS_MODULE_VERSION=0.316.0 # the Go module's version of Prometheus 3.16.0

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${BULKHEAD_CACHE_DIR:-$HOME/.cache/bulkhead}

log() { printf '[local-cluster/build-alerting] %s\n' "$*" >&2; }

# build <name> <bin dir> <module dir (relative to here, or absolute)> <package> <tags> <ldflags> [go build flags...]
build() {
  local name=$1 bin=$2 dir=$3 pkg=$4 tags=$5 ldflags=$6
  shift 6
  if [ ! -x "$bin/$name" ]; then
    if ! command -v go >/dev/null 2>&1; then
      log "Go is not installed. Install Go 1.26 or newer (https://go.dev/doc/install) and run again."
      exit 127
    fi
    mkdir -p "$bin"
    log "building $name (first time only; several minutes)"
    local start=$SECONDS tmp
    # Temp name and rename: an interrupted build never leaves a half binary a later run would take.
    tmp=$(mktemp "$bin/.$name-XXXXXX")
    if ! (cd "$([ "${dir:0:1}" = / ] && echo "$dir" || echo "$here/$dir")" && CGO_ENABLED=0 go build -trimpath -tags "$tags" -ldflags "-s -w $ldflags" "$@" -o "$tmp" "$pkg"); then
      rm -f "$tmp"
      log "building $name failed"
      exit 1
    fi
    mv -f "$tmp" "$bin/$name"
    log "built $name in $((SECONDS - start))s"
  fi
  echo "$name=$bin/$name"
}

want=("$@")
[ ${#want[@]} -gt 0 ] || want=(alertmanager prometheus)
for t in "${want[@]}"; do
  case $t in
    alertmanager)
      # The module lacks the UI's built assets (ui/app/dist, made by npm at release time), so
      # `//go:embed app/dist` cannot compile from the module cache: build from a copy of the
      # module (its own go.mod and go.sum, as upstream builds it) with a one-page placeholder UI.
      am_copy="$cache/src/alertmanager-v$ALERTMANAGER_VERSION"
      if [ ! -x "$cache/bin/alertmanager-v$ALERTMANAGER_VERSION/alertmanager" ] && { [ ! -f "$am_copy/.complete" ] || [ ! -f "$am_copy/go.mod" ]; }; then
        # `go list -m` names the module's folder only once it is in the module cache, which a
        # fresh machine's is not: download it first (a no-op when it is there).
        (cd "$here/alertmanager-bin" && go mod download github.com/prometheus/alertmanager)
        am_src=$(cd "$here/alertmanager-bin" && go list -m -f '{{.Dir}}' github.com/prometheus/alertmanager)
        if [ -z "$am_src" ] || [ ! -d "$am_src" ]; then
          log "could not find the alertmanager module's source after go mod download"
          exit 1
        fi
        rm -rf "$am_copy" "$am_copy.tmp" && mkdir -p "$(dirname "$am_copy")"
        cp -r "$am_src" "$am_copy.tmp"
        chmod -R u+w "$am_copy.tmp"
        for ui in elm mantine; do
          mkdir -p "$am_copy.tmp/ui/app/dist/$ui"
          echo '<!doctype html><title>Alertmanager</title>Built without its web UI; the API is at /api/v2.' \
            >"$am_copy.tmp/ui/app/dist/$ui/index.html"
        done
        touch "$am_copy.tmp/.complete" && mv "$am_copy.tmp" "$am_copy"
      fi
      build alertmanager "$cache/bin/alertmanager-v$ALERTMANAGER_VERSION" "$am_copy" ./cmd/alertmanager "" \
        "-X github.com/prometheus/common/version.Version=$ALERTMANAGER_VERSION"
      ;;
    prometheus)
      build prometheus "$cache/bin/prometheus-v$PROMETHEUS_MODULE_VERSION" prometheus-bin \
        github.com/prometheus/prometheus/cmd/prometheus remove_all_sd \
        "-X github.com/prometheus/common/version.Version=3.16.0"
      ;;
    *)
      log "unknown tool $t (alertmanager or prometheus)"
      exit 2
      ;;
  esac
done
