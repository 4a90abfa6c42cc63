#!/usr/bin/env bash
# Installs what `make test` needs on a fresh Debian 12 machine and checks the toolchain.
# Idempotent: anything already present is left alone.
set -euo pipefail

need_go="1.26"
if ! command -v go >/dev/null; then
  echo "setup: Go $need_go or newer is required (https://go.dev/doc/install)" >&2
  exit 1
fi
have_go=$(go env GOVERSION | sed 's/^go//')
if [[ "$(printf '%s\n%s\n' "$need_go" "$have_go" | sort -V | head -1)" != "$need_go" ]]; then
  echo "setup: Go $need_go or newer is required, found $have_go" >&2
  exit 1
fi

# Debian packages the build and tests use.
pkgs=(make git ca-certificates)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: please install: ${missing[*]}" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null 2>&1 ||
    { apt-get update >/dev/null && apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; }
fi

# Node.js 20+ and npm drive the SDK conformance suite (test/sdk, `make test-sdk`).
need_node=20
if ! command -v node >/dev/null; then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: please install Node.js $need_node or newer and npm" >&2
    exit 1
  fi
  echo "setup: installing nodejs npm" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends nodejs npm >/dev/null 2>&1 ||
    { apt-get update >/dev/null && apt-get install -y --no-install-recommends nodejs npm >/dev/null; }
fi
have_node=$(node --version | sed 's/^v//')
if [[ "${have_node%%.*}" -lt "$need_node" ]]; then
  echo "setup: Node.js $need_node or newer is required for test/sdk, found $have_node (Debian 12's nodejs package is 18: install Node.js $need_node, e.g. from NodeSource)" >&2
  exit 1
fi
if ! command -v npm >/dev/null; then
  echo "setup: npm is required for test/sdk (it comes with Node.js $need_node, or: apt-get install npm)" >&2
  exit 1
fi
