#!/usr/bin/env bash
# Builds versitygw, a POSIX-backed S3-compatible server, from the Go module proxy and prints
# the path of its binary. The S3 storage tests run it on loopback.
#
# Idempotent: a binary already built for the pinned version is kept.
#   S3_SERVER_DIR  where to put the binary (default: ~/.cache/pocketfleet/versitygw/<version>)
set -euo pipefail

version=v1.8.0
dir=${S3_SERVER_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pocketfleet/versitygw/$version}
bin="$dir/versitygw"

if [[ ! -x "$bin" ]]; then
  echo "s3-server: building versitygw $version (minutes on a cold cache)" >&2
  mkdir -p "$dir/.new"
  GOBIN="$dir/.new" CGO_ENABLED=0 GOFLAGS=-trimpath go install "github.com/versity/versitygw/cmd/versitygw@$version" >&2
  mv "$dir/.new/versitygw" "$bin"
  rmdir "$dir/.new"
fi

echo "$bin"
