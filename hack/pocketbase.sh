#!/usr/bin/env bash
# Builds stock PocketBase (the reference our instance is compatible with) from the Go module
# proxy and prints the path of its binary. It is examples/base, the program PocketBase's own
# release binaries are built from. The interop tests run it on loopback over a data
# directory our instance wrote (and the other way round), and the benchmarks can run their
# scenarios against it side by side: INSTANCE_BIN="$(hack/pocketbase.sh)" BENCH_SUPERUSER_CLI=1.
#
# PocketBase v0.40.4 needs Go 1.27: the toolchain comes from the module proxy too
# (golang.org/toolchain), whatever GOTOOLCHAIN the caller has.
#
# Idempotent: a binary already built for the pinned version is kept.
#   POCKETBASE_DIR  where to put the binary (default: ~/.cache/pocketfleet/pocketbase/<version>)
set -euo pipefail

version=v0.40.4
toolchain=go1.27.0
dir=${POCKETBASE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pocketfleet/pocketbase/$version}
bin="$dir/pocketbase"

if [[ ! -x "$bin" ]]; then
  echo "pocketbase: building PocketBase $version with $toolchain (minutes on a cold cache)" >&2
  mkdir -p "$dir/.new"
  GOTOOLCHAIN=$toolchain GOBIN="$dir/.new" CGO_ENABLED=0 GOFLAGS=-trimpath \
    go install "github.com/pocketbase/pocketbase/examples/base@$version" >&2
  mv "$dir/.new/base" "$bin"
  rmdir "$dir/.new"
fi

echo "$bin"
