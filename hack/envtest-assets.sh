#!/usr/bin/env bash
# Builds the envtest binaries (kube-apiserver, etcd, kubectl) from the Go module proxy and
# prints the folder to use as KUBEBUILDER_ASSETS. setup-envtest downloads prebuilt binaries,
# which this project cannot rely on; every one of them builds from Go modules instead.
#
# Idempotent: binaries already built for the pinned version are kept. The folder defaults to
# a per-user cache so that fresh clones on the same machine reuse it.
#   ENVTEST_ASSETS_DIR  where to put the binaries (default: ~/.cache/pocketfleet/envtest/<version>)
#   REBUILD=1           build again even when the binaries exist
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mod="$here/tools/k8s"
version=$(cd "$mod" && go list -m -f '{{.Version}}' k8s.io/kubernetes)
dir=${ENVTEST_ASSETS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pocketfleet/envtest/$version}
bins=(kube-apiserver etcd kubectl)

missing=0
for b in "${bins[@]}"; do [[ -x "$dir/$b" ]] || missing=1; done
if [[ $missing == 1 || ${REBUILD:-0} == 1 ]]; then
  echo "envtest-assets: building kube-apiserver, etcd and kubectl $version (minutes on a cold cache)" >&2
  major=${version#v}; major=${major%%.*}
  minor=${version#v*.}; minor=${minor%%.*}
  ldflags="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$version -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
  done
  tmp="$dir/.new"
  mkdir -p "$tmp"
  (cd "$mod" && CGO_ENABLED=0 go build -trimpath -ldflags="$ldflags" -o "$tmp/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubectl ./etcd)
  # note: rename into place so a running test never sees a half-written binary.
  for b in "${bins[@]}"; do mv -f "$tmp/$b" "$dir/$b"; done
  rmdir "$tmp"
fi
echo "$dir"
