#!/usr/bin/env bash
# image.sh: package a static binary as a container image and load it into the local
# cluster's containerd (no registry, no Docker).
#
#   image.sh REF BINARY [mkimage args...]
#   image.sh pocketfleet.local/operator:dev bin/operator -user 65532:65532
#   image.sh pocketfleet.local/instance:dev bin/instance -t pocketfleet.local/instance:dev-next
#
# The binary lands at /<basename> and is the entrypoint. Extra -t REF give the same image
# more tags. Pods must use imagePullPolicy Never, or IfNotPresent with a tag other than
# "latest": there is no registry, so a pull fails with ErrImagePull. Re-importing an image
# moves its tags to the new content.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
[[ $# -ge 2 ]] || { sed -n 2,12p "$0"; exit 2; }
ref=$1 bin=$2; shift 2
[[ -x $BIN/mkimage ]] || { echo "image.sh: $BIN/mkimage is missing; run up.sh first" >&2; exit 1; }
[[ -S $CTR_SOCK ]] || { echo "image.sh: the local cluster is not running (no $CTR_SOCK)" >&2; exit 1; }
name=$(basename "$bin")
mkdir -p "$IMAGES"
tar="$IMAGES/${ref//[\/:]/_}.tar"
"$BIN/mkimage" -o "$tar" -t "$ref" -f "$bin:/$name:0755" -entrypoint "/$name" "$@"
ctr --address "$CTR_SOCK" -n k8s.io images import "$tar" >/dev/null
echo "image.sh: loaded $ref"
