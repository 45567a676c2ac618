#!/usr/bin/env bash
# Builds the local control plane (etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, kwok) from Go modules into a cache folder outside the repository.
# Each component is keyed by its version, so a warm machine never rebuilds.
# Prints the binary folder on stdout (last line); progress goes to stderr.
set -euo pipefail

K8S_VERSION=1.36.3
ETCD_VERSION=3.6.16
KWOK_VERSION=0.8.0

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${BULKHEAD_CACHE_DIR:-$HOME/.cache/bulkhead}
bin="$cache/bin/k8s-v$K8S_VERSION-etcd-v$ETCD_VERSION-kwok-v$KWOK_VERSION"

log() { printf '[local-cluster/build] %s\n' "$*" >&2; }

if ! command -v go >/dev/null 2>&1; then
  log "Go is not installed. Install Go 1.26 or newer (https://go.dev/doc/install, or the"
  log "golang package of your distribution) and make sure 'go' is on PATH, then run again."
  exit 127
fi
go_minor=$(go env GOVERSION | sed -n 's/^go1\.\([0-9]*\).*/\1/p')
if [ -z "$go_minor" ] || [ "$go_minor" -lt 26 ]; then
  log "Go $(go env GOVERSION) is too old: Kubernetes $K8S_VERSION needs Go 1.26 or newer."
  exit 127
fi

mkdir -p "$bin"
export CGO_ENABLED=0
# Build in a temp name and rename, so an interrupted build never leaves a half binary
# that a later run would take as cached.
build() { # name module-dir ldflags package
  local name=$1 dir=$2 ldflags=$3 pkg=$4
  if [ -x "$bin/$name" ]; then return 0; fi
  log "building $name (first time only; minutes)"
  local start=$SECONDS tmp
  tmp=$(mktemp "$bin/.$name-XXXXXX")
  (cd "$here/$dir" && go build -trimpath -ldflags "-s -w $ldflags" -o "$tmp" "$pkg")
  mv -f "$tmp" "$bin/$name"
  log "built $name in $((SECONDS - start))s"
}

k8s_minor=$(echo "$K8S_VERSION" | cut -d. -f2)
k8s_ldflags="-X k8s.io/component-base/version.gitVersion=v$K8S_VERSION \
 -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$k8s_minor \
 -X k8s.io/component-base/version.gitTreeState=clean"

build etcd etcd-bin "" go.etcd.io/etcd/server/v3
build kube-apiserver k8s-bins "$k8s_ldflags" k8s.io/kubernetes/cmd/kube-apiserver
build kube-controller-manager k8s-bins "$k8s_ldflags" k8s.io/kubernetes/cmd/kube-controller-manager
build kube-scheduler k8s-bins "$k8s_ldflags" k8s.io/kubernetes/cmd/kube-scheduler
# kubectl is not part of the control plane; it is there so the demo and README can say
# "kubectl get quarantines" on a machine that has no kubectl of its own.
build kubectl k8s-bins "$k8s_ldflags" k8s.io/kubernetes/cmd/kubectl
build kwok kwok-bin "-X sigs.k8s.io/kwok/pkg/consts.Version=v$KWOK_VERSION" sigs.k8s.io/kwok/cmd/kwok

# kwok needs Stage objects; the default ones ship in its module zip.
if [ ! -s "$bin/kwok-stages.yaml" ]; then
  kd=$(cd "$here/kwok-bin" && go mod download -json "sigs.k8s.io/kwok@v$KWOK_VERSION" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')
  tmp=$(mktemp "$bin/.stages-XXXXXX")
  for f in node/fast/node-initialize node/heartbeat-with-lease/node-heartbeat-with-lease \
           pod/fast/pod-ready pod/fast/pod-complete pod/fast/pod-delete; do
    printf -- '---\n'; cat "$kd/kustomize/stage/$f.yaml"
  done > "$tmp"
  mv -f "$tmp" "$bin/kwok-stages.yaml"
fi

echo "$bin"
