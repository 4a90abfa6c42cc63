#!/usr/bin/env bash
# Checks the Helm chart against the generated config/ (run by `make test-chart`, after
# `helm lint --strict`):
#   1. charts/pocketfleet/crds/ is an exact copy of config/crd/bases/, and
#      charts/pocketfleet/files/manager-role.yaml of config/rbac/role.yaml;
#   2. the rendered chart binds the operator's ServiceAccount to a ClusterRole whose rules
#      equal config/rbac/role.yaml (compared as permission sets, by hack/chartcheck), with
#      the default values and with non-default ones; so does `kustomize build config/default`;
#   3. the chart renders (and lints) with non-default values, and refuses bad ones;
#   4. test/chart: the rendered chart and config/default are applied to a real
#      kube-apiserver (envtest) and checked there.
# Fix drift with `make chart-crds` (and `make manifests` when the markers changed).
#   HELM, KUSTOMIZE     the binaries to use (default: bin/helm, bin/kustomize)
#   KUBEBUILDER_ASSETS  envtest binaries (default: built or reused by hack/envtest-assets.sh)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
chart=charts/pocketfleet
helm=${HELM:-$root/bin/helm}
kustomize=${KUSTOMIZE:-$root/bin/kustomize}
ns=pocketfleet-system

fail() { echo "verify-chart: FAIL: $*" >&2; exit 1; }
step() { echo "verify-chart: $*"; }

[[ -x $helm ]] || fail "$helm not found: run make helm-lint first (it builds bin/helm)"
[[ -x $kustomize ]] || fail "$kustomize not found: build it with make $root/bin/kustomize"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# 1. Synced copies.
step "chart CRDs equal config/crd/bases"
diff -r config/crd/bases "$chart/crds" >"$tmp/crds.diff" ||
  { head -n 40 "$tmp/crds.diff" >&2; fail "$chart/crds differs from config/crd/bases: run make chart-crds"; }
step "chart manager role copy equals config/rbac/role.yaml"
diff config/rbac/role.yaml "$chart/files/manager-role.yaml" >"$tmp/role.diff" ||
  { head -n 40 "$tmp/role.diff" >&2; fail "$chart/files/manager-role.yaml differs from config/rbac/role.yaml: run make chart-crds"; }

# note: build the checker once rather than `go run` per manifest.
go build -o "$tmp/chartcheck" ./hack/chartcheck
check_rbac() { # $1: what, stdin: manifest
  "$tmp/chartcheck" -role config/rbac/role.yaml || fail "$1: the manager ClusterRole does not match config/rbac/role.yaml"
}
render() { "$helm" template pf "$chart" --namespace "$ns" "$@"; }

# 2. RBAC equality, defaults.
step "chart (default values) manager ClusterRole equals config/rbac/role.yaml"
render >"$tmp/default.yaml" || fail "the chart does not render with its default values"
check_rbac "chart with default values" <"$tmp/default.yaml"
grep -q -- '--leader-elect' "$tmp/default.yaml" || fail "leader election must be on by default"

step "config/default manager ClusterRole equals config/rbac/role.yaml"
"$kustomize" build config/default >"$tmp/kustomize.yaml" || fail "kustomize build config/default failed"
check_rbac "kustomize build config/default" <"$tmp/kustomize.yaml"

# 3. Non-default values.
ha=(--set replicaCount=2 --set leaderElection.enabled=false --set metrics.serviceMonitor.enabled=true
    --set-string 'metrics.serviceMonitor.labels.release=prometheus' --set 'extraArgs={--enable-http2}')
step "chart renders and lints with ${ha[*]}"
"$helm" lint --strict --quiet "$chart" "${ha[@]}" >/dev/null || fail "helm lint --strict fails with ${ha[*]}"
render "${ha[@]}" >"$tmp/ha.yaml" || fail "the chart does not render with ${ha[*]}"
check_rbac "chart with ${ha[*]}" <"$tmp/ha.yaml"
grep -q '^kind: ServiceMonitor' "$tmp/ha.yaml" || fail "metrics.serviceMonitor.enabled=true renders no ServiceMonitor"
grep -q -- '- --leader-elect' "$tmp/ha.yaml" || fail "replicaCount=2 must force --leader-elect on"
grep -q '^  replicas: 2' "$tmp/ha.yaml" || fail "replicaCount=2 is not the Deployment's replicas"
if grep -q '^kind: ServiceMonitor' "$tmp/default.yaml"; then fail "the ServiceMonitor must be off by default"; fi

minimal=(--set metrics.enabled=false --set leaderElection.enabled=false --set rbac.create=false
         --set serviceAccount.create=false --set serviceAccount.name=existing)
step "chart renders with ${minimal[*]}"
render "${minimal[@]}" >"$tmp/minimal.yaml" || fail "the chart does not render with ${minimal[*]}"
for k in ClusterRole Role Service ServiceAccount ServiceMonitor; do
  if grep -q "^kind: $k\$" "$tmp/minimal.yaml"; then fail "${minimal[*]} still renders a $k"; fi
done
grep -q -- '--metrics-bind-address=0' "$tmp/minimal.yaml" || fail "metrics.enabled=false must pass --metrics-bind-address=0"
if grep -q -- '--leader-elect' "$tmp/minimal.yaml"; then fail "leaderElection.enabled=false with 1 replica must not elect"; fi

step "chart refuses serviceAccount.create=false without a name"
if render --set serviceAccount.create=false >/dev/null 2>&1; then
  fail "serviceAccount.create=false without serviceAccount.name must fail to render"
fi

# 4. Apply to a real API server.
if [[ -z ${KUBEBUILDER_ASSETS:-} ]]; then
  KUBEBUILDER_ASSETS=$(hack/envtest-assets.sh)
  export KUBEBUILDER_ASSETS
fi
step "go test ./test/chart/... (envtest: $KUBEBUILDER_ASSETS)"
HELM=$helm KUSTOMIZE=$kustomize go test -count=1 ./test/chart/... || fail "the chart or config/default is not accepted by the API server (test/chart)"

step "OK"
