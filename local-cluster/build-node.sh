#!/usr/bin/env bash
# Builds the node side of a real-node local cluster from Go modules into a cache folder
# outside the repository: runc, containerd (+ shim, ctr), CNI plugins, kubelet, kube-proxy,
# CoreDNS and the NetworkPolicy enforcer (kube-router, firewall only; ADR 0900). Keyed by
# version like the control plane (build.sh), so a warm machine never rebuilds. Prints the
# binary folder on stdout (last line); progress goes to stderr, one line per component.
set -euo pipefail

K8S_VERSION=1.36.3
RUNC_VERSION=1.5.3
CONTAINERD_VERSION=2.4.2
CNI_VERSION=1.9.1
KUBE_ROUTER_VERSION=2.1.0
COREDNS_VERSION=1.15.0

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${BULKHEAD_CACHE_DIR:-$HOME/.cache/bulkhead}
bin="$cache/bin/node-k8s-v$K8S_VERSION-runc-v$RUNC_VERSION-containerd-v$CONTAINERD_VERSION-cni-v$CNI_VERSION-kube-router-v$KUBE_ROUTER_VERSION-coredns-v$COREDNS_VERSION"

log() { printf '[local-cluster/build-node] %s\n' "$*" >&2; }

if [ "$(uname -s)" != Linux ]; then
  log "real nodes run only on Linux (containerd, runc and the kubelet need Linux namespaces and cgroups)"
  exit 1
fi
if ! command -v go >/dev/null 2>&1; then
  log "Go is not installed. Install Go 1.26 or newer and make sure 'go' is on PATH, then run again."
  exit 127
fi
# runc links libseccomp (cgo): without it the seccomp profiles that Pod Security
# `restricted` requires (RuntimeDefault) could not be applied.
if ! pkg-config --exists libseccomp 2>/dev/null; then
  log "runc needs libseccomp headers and gcc: apt-get install libseccomp-dev pkg-config gcc"
  exit 1
fi

mkdir -p "$bin"
# Build in a temp name and rename, so an interrupted build never leaves a half binary that a
# later run would take as cached.
build() { # name module-dir cgo tags ldflags package
  local name=$1 dir=$2 cgo=$3 tags=$4 ldflags=$5 pkg=$6
  if [ -x "$bin/$name" ]; then return 0; fi
  log "building $name (first time only)"
  local start=$SECONDS tmp
  tmp=$(mktemp "$bin/.$name-XXXXXX")
  (cd "$here/$dir" && CGO_ENABLED=$cgo go build -trimpath ${tags:+-tags "$tags"} -ldflags "-s -w $ldflags" -o "$tmp" "$pkg")
  mv -f "$tmp" "$bin/$name"
  log "built $name in $((SECONDS - start))s"
}

k8s_minor=$(echo "$K8S_VERSION" | cut -d. -f2)
k8s_ldflags="-X k8s.io/component-base/version.gitVersion=v$K8S_VERSION \
 -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$k8s_minor \
 -X k8s.io/component-base/version.gitTreeState=clean"

# kubelet and kube-proxy come from the same module as the apiserver (k8s-bins), so the
# packages they share with it are already in the Go build cache.
build kubelet k8s-bins 0 "" "$k8s_ldflags" k8s.io/kubernetes/cmd/kubelet
build kube-proxy k8s-bins 0 "" "$k8s_ldflags" k8s.io/kubernetes/cmd/kube-proxy
build runc runc-bin 1 seccomp "-X main.version=$RUNC_VERSION" github.com/opencontainers/runc
cd_ver="-X github.com/containerd/containerd/v2/version.Version=v$CONTAINERD_VERSION"
build containerd containerd-bin 0 no_btrfs "$cd_ver" github.com/containerd/containerd/v2/cmd/containerd
build containerd-shim-runc-v2 containerd-bin 0 no_btrfs "$cd_ver" github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2
build ctr containerd-bin 0 no_btrfs "$cd_ver" github.com/containerd/containerd/v2/cmd/ctr
for p in main/bridge ipam/host-local main/loopback meta/portmap; do
  build "$(basename $p)" cni-bin 0 "" "" "github.com/containernetworking/plugins/plugins/$p"
done
build coredns coredns-bin 0 "" "" .
build kube-router kube-router-bin 0 "" "" github.com/cloudnativelabs/kube-router/v2/cmd/kube-router

echo "$bin"
