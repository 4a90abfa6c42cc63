#!/usr/bin/env bash
# down.sh: stop everything up.sh started, by the pids it recorded, and clean up what the
# node left behind (pod containers and shims, mounts, pod network namespaces, the kubelet's
# and kube-proxy's iptables chains, the cni0 bridge).
#   down.sh          stop; keep the state (etcd, PKI, images, volumes) for a fast restart
#   down.sh --purge  stop and delete all cluster state; the cached binaries stay
# Idempotent: stopping a stopped cluster does nothing.
set -uo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
log() { echo "[down] $*"; }

stop() { # name: SIGTERM the recorded pid if it is still the program we started, then SIGKILL
  local name=$1 f="$RUN/$1.pid" pid
  [[ -s $f ]] || return 0
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null && [[ "$(cat /proc/"$pid"/comm 2>/dev/null)" == "${name:0:15}" ]]; then
    kill -TERM "$pid"
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
    log "stopped $name (pid $pid)"
  fi
  rm -f "$f"
}

# 1. add-ons and node agents first, so that nothing restarts pods during the teardown
stop traefik
stop local-ingress   # clusters started before Traefik built here
stop hostpath-provisioner
stop coredns
stop kube-proxy
stop kubelet

# 2. every task and container in our containerd's k8s.io namespace (ends their shims)
NETNS=""
if [[ -S $CTR_SOCK && -s "$RUN/containerd.pid" ]]; then
  CTR=(ctr --address "$CTR_SOCK" -n k8s.io)
  # our sandboxes' network namespaces, remembered before the containers go
  NETNS=$(for c in $("${CTR[@]}" containers ls -q 2>/dev/null); do
            "${CTR[@]}" containers info "$c" 2>/dev/null | grep -o '/var/run/netns/cni-[0-9a-f-]*'
          done | sort -u)
  for c in $("${CTR[@]}" containers ls -q 2>/dev/null); do
    "${CTR[@]}" tasks kill -s SIGKILL "$c" >/dev/null 2>&1
  done
  sleep 1
  for c in $("${CTR[@]}" containers ls -q 2>/dev/null); do
    "${CTR[@]}" tasks rm -f "$c" >/dev/null 2>&1
    "${CTR[@]}" containers rm "$c" >/dev/null 2>&1
  done
  log "removed pod containers"
fi

# 3. control plane, containerd, etcd
stop kube-scheduler
stop kube-controller-manager
stop kube-apiserver
stop containerd
stop etcd

# 4. leftovers: mounts under our folders (secrets, projected volumes, shm, overlay rootfs)
grep -E " ($BASE|$RUN)/" /proc/self/mounts | awk '{print $2}' | sort -r | while read -r m; do
  umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
done
for ns in $NETNS; do [[ -e $ns ]] && { umount "$ns" 2>/dev/null; rm -f "$ns"; }; done
[[ -x $BIN/kube-proxy ]] && "$BIN/kube-proxy" --cleanup >/dev/null 2>&1 && log "kube-proxy iptables rules removed"
# the kubelet's own chains (KUBE-FIREWALL drops non-loopback traffic to 127/8)
for ipt in iptables ip6tables; do
  while $ipt -D INPUT -j KUBE-FIREWALL 2>/dev/null; do :; done
  while $ipt -D OUTPUT -j KUBE-FIREWALL 2>/dev/null; do :; done
  for t in filter nat mangle; do
    for ch in KUBE-FIREWALL KUBE-KUBELET-CANARY KUBE-IPTABLES-HINT; do
      $ipt -t $t -F $ch 2>/dev/null && $ipt -t $t -X $ch 2>/dev/null
    done
  done
done
ip link show cni0 >/dev/null 2>&1 && ip link del cni0 && log "deleted bridge cni0"
rm -f /etc/cni/net.d/10-pocketfleet.conflist
rm -rf "$BASE/cni-ipam"   # host-local leases: every pod is gone

if [[ ${1:-} == --purge ]]; then
  rm -rf "$BASE/etcd" "$BASE/pki" "$BASE/config" "$BASE/kubelet" "$BASE/containerd" "$BASE/pv" \
         "$BASE/images" "$BASE/logs" "$BASE/pod-logs" "$RUN"
  log "purged the cluster state under $BASE (binaries in $BIN kept)"
fi
log "done"
