# Shared settings of the local cluster scripts (sourced by up.sh, down.sh and image.sh).
# shellcheck shell=bash
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BASE="${POCKETFLEET_CLUSTER_BASE:-/var/lib/pocketfleet-cluster}"   # state and cached binaries
RUN="${POCKETFLEET_CLUSTER_RUN:-/run/pocketfleet-cluster}"          # pid files and sockets
BIN="$BASE/bin"
PKI="$BASE/pki"
CFG="$BASE/config"
LOGS="$BASE/logs"
IMAGES="$BASE/images"
CTR_SOCK="$RUN/containerd/containerd.sock"
NODE_NAME="pocketfleet-node"
NODE_IP="10.244.0.1"   # the cni0 bridge's own address: the node IP, the apiserver's, CoreDNS', NodePorts'
KUBECONFIG_FILE="$CFG/admin.kubeconfig"
INGRESS_ADDR="$NODE_IP:80"   # where the Ingress controller (Traefik) serves tenant hosts
TRAEFIK_PING_ADDR="127.0.0.1:18080"   # Traefik's own entry point: /ping
