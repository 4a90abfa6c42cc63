#!/usr/bin/env bash
# Copies the generated files the Helm chart ships from config/ into charts/pocketfleet/:
#   config/crd/bases/*.yaml  -> charts/pocketfleet/crds/        (exact copies; stale ones removed)
#   config/rbac/role.yaml    -> charts/pocketfleet/files/manager-role.yaml
#                               (templates/rbac.yaml reads its rules with .Files.Get)
# Idempotent: running it twice changes nothing. `make chart-crds` runs it, and so does
# `make manifests`; hack/verify-chart.sh fails when the chart has drifted from config/.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
chart="$root/charts/pocketfleet"
bases="$root/config/crd/bases"

shopt -s nullglob
crds=("$bases"/*.yaml)
if (( ${#crds[@]} == 0 )); then
  echo "sync-chart: no CRDs in config/crd/bases: run make manifests" >&2
  exit 1
fi

mkdir -p "$chart/crds" "$chart/files"

# note: remove chart CRDs whose source is gone, so a deleted or renamed kind does not
# linger in the chart.
for f in "$chart/crds"/*.yaml; do
  [[ -e "$bases/$(basename "$f")" ]] || { rm -f "$f"; echo "sync-chart: removed stale ${f#"$root"/}"; }
done
for f in "${crds[@]}"; do
  dst="$chart/crds/$(basename "$f")"
  cmp -s "$f" "$dst" || { cp "$f" "$dst"; echo "sync-chart: updated ${dst#"$root"/}"; }
done

src="$root/config/rbac/role.yaml"
dst="$chart/files/manager-role.yaml"
[[ -f "$src" ]] || { echo "sync-chart: config/rbac/role.yaml is missing: run make manifests" >&2; exit 1; }
cmp -s "$src" "$dst" || { cp "$src" "$dst"; echo "sync-chart: updated ${dst#"$root"/}"; }
