#!/usr/bin/env bash
# up.sh: bring up pocketfleet's local single-node Kubernetes cluster (v1.37.2): etcd,
# kube-apiserver, kube-controller-manager, kube-scheduler, kubelet and kube-proxy on Debian's
# containerd 1.6 + runc, with CNI bridge networking, CoreDNS, a hostPath volume provisioner
# and an Ingress controller. No registry, no Docker: every binary is built from the Go
# module proxy and cached; images are made from static binaries (tools/mkimage) and
# imported into our own containerd.
#
# Idempotent: a re-run skips whatever is built, generated or running, and rewrites a config
# file only when its content changes (kube-proxy exits when its config file changes).
# Stop with down.sh (down.sh --purge also wipes the cluster state; binaries are kept).
#
#   export KUBECONFIG=/var/lib/pocketfleet-cluster/config/admin.kubeconfig
#
# Env: POCKETFLEET_CLUSTER_BASE (state, default /var/lib/pocketfleet-cluster),
#      POCKETFLEET_CLUSTER_RUN (pids and sockets, default /run/pocketfleet-cluster),
#      REBUILD=1 (run go build again even when the binaries exist).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

POD_CIDR="10.244.0.0/24"
SERVICE_CIDR="10.96.0.0/24"
API_SVC_IP="10.96.0.1"          # first address of SERVICE_CIDR: the "kubernetes" Service
API_PORT=6443
PAUSE_IMAGE="pocketfleet.local/pause:1"
export KUBECONFIG="$KUBECONFIG_FILE"
KUBECTL="$BIN/kubectl"

T0=$(date +%s%N)
log() { local ms=$(( ($(date +%s%N) - T0) / 1000000 )); printf '[up %4d.%01ds] %s\n' $((ms/1000)) $((ms%1000/100)) "$*"; }
die() { echo "ERROR: $*" >&2; exit 1; }
# put FILE: write stdin to FILE only when the content differs, atomically (mv). kube-proxy
# exits when its config file changes, and containerd fails on a half-written CNI conflist.
put() { local f=$1 tmp; tmp=$(mktemp "$f.XXXXXX"); cat >"$tmp"; if cmp -s "$tmp" "$f"; then rm -f "$tmp"; else mv -f "$tmp" "$f"; fi; }

[[ $(id -u) == 0 ]] || die "must run as root"
mkdir -p "$BIN" "$PKI" "$CFG" "$LOGS" "$IMAGES" "$RUN"

# ---------------------------------------------------------------------------
# 0. Debian packages: containerd 1.6, runc, CNI plugins, iptables, openssl, curl
# ---------------------------------------------------------------------------
need_pkgs=()
for p in containerd runc containernetworking-plugins iptables openssl curl; do
  dpkg -s "$p" >/dev/null 2>&1 || need_pkgs+=("$p")
done
if ((${#need_pkgs[@]})); then
  log "apt-get install ${need_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # policy-rc.d 101: the package must not start the system containerd; we run our own.
  had_policy=0; [[ -e /usr/sbin/policy-rc.d ]] && had_policy=1
  [[ $had_policy == 1 ]] || { printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; }
  apt-get install -y --no-install-recommends "${need_pkgs[@]}" >"$LOGS/apt.log" 2>&1 ||
    { apt-get update >>"$LOGS/apt.log" 2>&1 && apt-get install -y --no-install-recommends "${need_pkgs[@]}" >>"$LOGS/apt.log" 2>&1; } ||
    { [[ $had_policy == 1 ]] || rm -f /usr/sbin/policy-rc.d; tail -20 "$LOGS/apt.log"; die "apt-get install failed"; }
  [[ $had_policy == 1 ]] || rm -f /usr/sbin/policy-rc.d
fi
command -v go >/dev/null || die "Go (>= 1.26) not found in PATH"

# ---------------------------------------------------------------------------
# 1. Binaries, cached in $BIN. kube-apiserver, etcd and kubectl are envtest's
#    (hack/envtest-assets.sh, same module and flags); the node components build from the
#    same module hack/tools/k8s, so the Go build cache serves both. Builds land in
#    $BIN/.new and are renamed into place: no "text file busy" while the cluster runs.
# ---------------------------------------------------------------------------
NEW="$BIN/.new"
mkdir -p "$NEW"
install_new() { local f; for f in "$NEW"/*; do [[ -e $f ]] && mv -f "$f" "$BIN/"; done; return 0; }
need_build() { local b; [[ ${REBUILD:-0} == 1 ]] && return 0; for b in "$@"; do [[ -x "$BIN/$b" ]] || return 0; done; return 1; }
gobuild() { # log-name dir go-build-args...
  local name=$1 dir=$2; shift 2
  (cd "$dir" && CGO_ENABLED=0 go build -trimpath "$@") >"$LOGS/build-$name.log" 2>&1 ||
    { tail -30 "$LOGS/build-$name.log"; die "building $name failed (see $LOGS/build-$name.log)"; }
}

envtest_dir=$("$ROOT/hack/envtest-assets.sh")
for b in kube-apiserver etcd kubectl; do
  cmp -s "$envtest_dir/$b" "$BIN/$b" || { cp -f "$envtest_dir/$b" "$NEW/$b"; install_new; }
done
K8S_MOD="$ROOT/hack/tools/k8s"
if need_build kube-controller-manager kube-scheduler kubelet kube-proxy; then
  log "building kube-controller-manager, kube-scheduler, kubelet, kube-proxy (minutes on a cold cache)"
  kv=$(cd "$K8S_MOD" && go list -m -f '{{.Version}}' k8s.io/kubernetes)   # v1.37.2
  kmaj=${kv#v}; kmaj=${kmaj%%.*}; kmin=${kv#v*.}; kmin=${kmin%%.*}
  # stamp the version as envtest-assets.sh does; otherwise the node reports v0.0.0-master
  ldf="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldf+=" -X $pkg.gitVersion=$kv -X $pkg.gitMajor=$kmaj -X $pkg.gitMinor=$kmin -X $pkg.gitTreeState=clean"
  done
  gobuild k8s "$K8S_MOD" -ldflags="$ldf" -o "$NEW/" \
    k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler \
    k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy
  install_new
  log "kubernetes binaries built"
fi
if need_build mkimage pause; then
  log "building mkimage and pause (standard library only)"
  gobuild tools "$HERE/tools" -ldflags='-s -w' -o "$NEW/" ./mkimage ./pause
  install_new
fi
if need_build coredns; then
  log "building coredns (minimal plugin set)"
  gobuild coredns "$HERE/coredns" -ldflags='-s -w' -o "$NEW/coredns" .
  install_new
fi
if need_build hostpath-provisioner; then
  log "building the hostPath provisioner"
  gobuild addons "$HERE/addons" -ldflags='-s -w' -o "$NEW/" ./hostpath-provisioner
  install_new
fi
if need_build traefik; then
  log "building Traefik v3 (minutes on a cold cache; traefik/build.sh says what it patches)"
  "$HERE/traefik/build.sh" "$NEW/traefik" >"$LOGS/build-traefik.log" 2>&1 ||
    { tail -30 "$LOGS/build-traefik.log"; die "building traefik failed (see $LOGS/build-traefik.log)"; }
  install_new
fi

# ---------------------------------------------------------------------------
# 2. Kernel and network. There is no `dummy` link type in this kernel, so the node IP
#    lives on the CNI bridge cni0, created up front so that it exists before the
#    apiserver and kubelet bind to it.
# ---------------------------------------------------------------------------
modprobe br_netfilter 2>/dev/null || true
modprobe overlay 2>/dev/null || true
sysctl -qw net.ipv4.ip_forward=1
sysctl -qw net.bridge.bridge-nf-call-iptables=1 2>/dev/null || log "WARN: bridge-nf-call-iptables unavailable (ClusterIP from pods may break)"
ip link show cni0 >/dev/null 2>&1 || ip link add cni0 type bridge
[[ $(ip -4 addr show dev cni0) == *"inet $NODE_IP/"* ]] || ip addr add "$NODE_IP/24" dev cni0
ip link set cni0 up
mkdir -p /etc/cni/net.d
put /etc/cni/net.d/10-pocketfleet.conflist <<JSON
{
  "cniVersion": "1.0.0",
  "name": "pocketfleet",
  "plugins": [
    { "type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": false, "hairpinMode": true,
      "ipam": { "type": "host-local",
                "ranges": [[{ "subnet": "$POD_CIDR", "gateway": "$NODE_IP" }]],
                "routes": [{ "dst": "0.0.0.0/0" }],
                "dataDir": "$BASE/cni-ipam" } },
    { "type": "portmap", "capabilities": { "portMappings": true } }
  ]
}
JSON

# ---------------------------------------------------------------------------
# 3. PKI with openssl (RSA 2048, 10 years): CA, serving and client certificates, the
#    service-account key pair and a front-proxy CA for the aggregation layer.
# ---------------------------------------------------------------------------
ca() { # name CN
  [[ -s "$PKI/$1.crt" ]] && return 0
  openssl genrsa -out "$PKI/$1.key" 2048 2>/dev/null
  openssl req -x509 -new -nodes -key "$PKI/$1.key" -subj "/CN=$2" -days 3650 -sha256 \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
    -out "$PKI/$1.crt"
}
cert() { # name CN O SANs usage(server|client) [ca]
  local name=$1 cn=$2 o=$3 san=$4 usage=$5 signer=${6:-ca} eku
  [[ -s "$PKI/$name.crt" ]] && return 0
  case $usage in server) eku=serverAuth ;; *) eku=clientAuth ;; esac
  openssl genrsa -out "$PKI/$name.key" 2048 2>/dev/null
  openssl req -new -key "$PKI/$name.key" -subj "/CN=$cn${o:+/O=$o}" -out "$PKI/$name.csr"
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$eku"
    if [[ -n $san ]]; then echo "subjectAltName=$san"; fi
  } >"$PKI/$name.ext"
  openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/$signer.crt" -CAkey "$PKI/$signer.key" -CAcreateserial \
    -days 3650 -sha256 -extfile "$PKI/$name.ext" -out "$PKI/$name.crt" 2>/dev/null
}
[[ -s "$PKI/ca.crt" ]] || log "generating PKI in $PKI"
ca ca pocketfleet-cluster-ca
ca front-proxy-ca pocketfleet-front-proxy-ca
cert apiserver kube-apiserver "" \
  "IP:$NODE_IP,IP:$API_SVC_IP,IP:127.0.0.1,DNS:localhost,DNS:$NODE_NAME,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local" server
cert apiserver-kubelet-client kube-apiserver-kubelet-client system:masters "" client
cert admin kubernetes-admin system:masters "" client
cert controller-manager system:kube-controller-manager "" "" client
cert scheduler system:kube-scheduler "" "" client
cert kube-proxy system:kube-proxy "" "" client
cert kubelet "system:node:$NODE_NAME" system:nodes "" client
cert kubelet-serving "$NODE_NAME" "" "IP:$NODE_IP,IP:127.0.0.1,DNS:$NODE_NAME,DNS:localhost" server
cert front-proxy-client front-proxy-client "" "" client front-proxy-ca
if [[ ! -s "$PKI/sa.key" ]]; then
  openssl genrsa -out "$PKI/sa.key" 2048 2>/dev/null
  openssl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
fi
chmod 600 "$PKI"/*.key

kubeconfig() { # file user cert
  put "$CFG/$1.kubeconfig" <<YAML
apiVersion: v1
kind: Config
clusters:
- name: pocketfleet
  cluster:
    certificate-authority: $PKI/ca.crt
    server: https://$NODE_IP:$API_PORT
users:
- name: $2
  user:
    client-certificate: $PKI/$3.crt
    client-key: $PKI/$3.key
contexts:
- name: pocketfleet
  context: {cluster: pocketfleet, user: $2}
current-context: pocketfleet
YAML
}
kubeconfig admin kubernetes-admin admin
kubeconfig controller-manager system:kube-controller-manager controller-manager
kubeconfig scheduler system:kube-scheduler scheduler
kubeconfig kube-proxy system:kube-proxy kube-proxy
kubeconfig kubelet "system:node:$NODE_NAME" kubelet

# ---------------------------------------------------------------------------
# Daemons: pid files in $RUN, logs in $LOGS. A pid counts only while /proc/PID/comm is
# still the program we started (no pid reuse).
# ---------------------------------------------------------------------------
running() {
  local f="$RUN/$1.pid" pid; [[ -s $f ]] || return 1; pid=$(cat "$f")
  kill -0 "$pid" 2>/dev/null && [[ "$(cat /proc/"$pid"/comm 2>/dev/null)" == "${1:0:15}" ]]
}
start() { # name cmd...
  local name=$1; shift
  if running "$name"; then return 0; fi
  setsid "$@" >>"$LOGS/$name.log" 2>&1 </dev/null &   # own session: outlives this script
  echo $! >"$RUN/$name.pid"
  log "started $name (pid $!)"
}
wait_for() { # what timeout-seconds command...
  local what=$1 t=$2; shift 2
  local end=$(( $(date +%s) + t ))
  until "$@" >/dev/null 2>&1; do
    (( $(date +%s) < end )) || die "timed out after ${t}s waiting for $what (logs: $LOGS)"
    sleep 0.5
  done
}

# ---------------------------------------------------------------------------
# 4. containerd: a private instance (own config, root, state and socket), so a containerd
#    that something else runs on this host is never touched.
# ---------------------------------------------------------------------------
mkdir -p "$RUN/containerd" "$BASE/containerd"
put "$CFG/containerd.toml" <<TOML
version = 2
root = "$BASE/containerd"
state = "$RUN/containerd/state"
[grpc]
  address = "$CTR_SOCK"
[ttrpc]
  address = "$CTR_SOCK.ttrpc"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  # root here lacks CAP_SYS_RESOURCE, so runc cannot set the negative oom_score_adj that
  # CRI asks for (-998 for sandboxes); without this every sandbox fails with
  # "can't get final child's PID from pipe: EOF".
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "/etc/cni/net.d"
[plugins."io.containerd.internal.v1.opt"]
  path = "$BASE/containerd/opt"
TOML
start containerd containerd --config "$CFG/containerd.toml"
wait_for containerd 30 ctr --address "$CTR_SOCK" version
"$BIN/mkimage" -o "$IMAGES/pause.tar" -t "$PAUSE_IMAGE" -f "$BIN/pause:/pause:0755" -entrypoint /pause -user 65535:65535 >/dev/null
ctr --address "$CTR_SOCK" -n k8s.io images import "$IMAGES/pause.tar" >/dev/null

# ---------------------------------------------------------------------------
# 5. etcd and kube-apiserver (the apiserver binds to the node IP only)
# ---------------------------------------------------------------------------
start etcd "$BIN/etcd" --name pocketfleet --data-dir "$BASE/etcd" \
  --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
  --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
  --initial-cluster pocketfleet=http://127.0.0.1:2380 --listen-metrics-urls "" \
  --quota-backend-bytes 2147483648 --log-level warn
wait_for etcd 60 curl -sf http://127.0.0.1:2379/health
start kube-apiserver "$BIN/kube-apiserver" \
  --etcd-servers http://127.0.0.1:2379 \
  --bind-address "$NODE_IP" --advertise-address "$NODE_IP" --secure-port "$API_PORT" \
  --service-cluster-ip-range "$SERVICE_CIDR" --service-node-port-range 30000-32767 \
  --client-ca-file "$PKI/ca.crt" \
  --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" \
  --kubelet-client-certificate "$PKI/apiserver-kubelet-client.crt" --kubelet-client-key "$PKI/apiserver-kubelet-client.key" \
  --kubelet-certificate-authority "$PKI/ca.crt" --kubelet-preferred-address-types InternalIP \
  --service-account-issuer https://kubernetes.default.svc.cluster.local \
  --service-account-key-file "$PKI/sa.pub" --service-account-signing-key-file "$PKI/sa.key" \
  --authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction \
  --requestheader-client-ca-file "$PKI/front-proxy-ca.crt" --requestheader-allowed-names front-proxy-client \
  --requestheader-username-headers X-Remote-User --requestheader-group-headers X-Remote-Group \
  --requestheader-extra-headers-prefix X-Remote-Extra- \
  --proxy-client-cert-file "$PKI/front-proxy-client.crt" --proxy-client-key-file "$PKI/front-proxy-client.key" \
  --allow-privileged=true --profiling=false --v=1
wait_for kube-apiserver 120 "$KUBECTL" get --raw /readyz

# ---------------------------------------------------------------------------
# 6. controller-manager and scheduler (health ports on loopback, no leader election)
# ---------------------------------------------------------------------------
start kube-controller-manager "$BIN/kube-controller-manager" \
  --kubeconfig "$CFG/controller-manager.kubeconfig" \
  --authentication-kubeconfig "$CFG/controller-manager.kubeconfig" \
  --authorization-kubeconfig "$CFG/controller-manager.kubeconfig" \
  --bind-address 127.0.0.1 --leader-elect=false \
  --cluster-name pocketfleet --cluster-cidr "$POD_CIDR" --service-cluster-ip-range "$SERVICE_CIDR" \
  --cluster-signing-cert-file "$PKI/ca.crt" --cluster-signing-key-file "$PKI/ca.key" \
  --root-ca-file "$PKI/ca.crt" --service-account-private-key-file "$PKI/sa.key" \
  --use-service-account-credentials=true --controllers '*,bootstrapsigner,tokencleaner' --v=1
start kube-scheduler "$BIN/kube-scheduler" \
  --kubeconfig "$CFG/scheduler.kubeconfig" \
  --authentication-kubeconfig "$CFG/scheduler.kubeconfig" \
  --authorization-kubeconfig "$CFG/scheduler.kubeconfig" \
  --bind-address 127.0.0.1 --leader-elect=false --v=1

# ---------------------------------------------------------------------------
# 7. kubelet. cgroups are v1 here: kubelet 1.37 needs failCgroupV1: false. It accepts
#    containerd 1.6 (falls back to its own cgroupDriver); 1.38 will want containerd 2.
# ---------------------------------------------------------------------------
put "$CFG/kubelet.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
failCgroupV1: false
cgroupDriver: cgroupfs
containerRuntimeEndpoint: unix://$CTR_SOCK
address: $NODE_IP
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
tlsCertFile: $PKI/kubelet-serving.crt
tlsPrivateKeyFile: $PKI/kubelet-serving.key
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $PKI/ca.crt}
authorization: {mode: Webhook}
clusterDomain: cluster.local
clusterDNS: [$NODE_IP]
failSwapOn: false
rotateCertificates: false
serializeImagePulls: false
podLogsDir: $BASE/pod-logs
imageGCHighThresholdPercent: 95
imageGCLowThresholdPercent: 90
evictionHard: {memory.available: 100Mi, nodefs.available: 2%, imagefs.available: 2%}
YAML
mkdir -p "$BASE/kubelet"
start kubelet "$BIN/kubelet" --config "$CFG/kubelet.yaml" --kubeconfig "$CFG/kubelet.kubeconfig" \
  --root-dir "$BASE/kubelet" --hostname-override "$NODE_NAME" --node-ip "$NODE_IP" --v=1
wait_for "kubelet healthz" 120 curl -sf http://127.0.0.1:10248/healthz
wait_for "node $NODE_NAME Ready" 180 bash -c "'$KUBECTL' get node '$NODE_NAME' -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}' | grep -qx True"

# ---------------------------------------------------------------------------
# 8. kube-proxy (iptables) for ClusterIP Services from the host and from pods; NodePorts
#    only on the node IP.
# ---------------------------------------------------------------------------
put "$CFG/kube-proxy.yaml" <<YAML
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clientConnection: {kubeconfig: $CFG/kube-proxy.kubeconfig}
hostnameOverride: $NODE_NAME
clusterCIDR: $POD_CIDR
bindAddress: 127.0.0.1
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
nodePortAddresses: ["$NODE_IP/32"]
conntrack: {maxPerCore: 0}
YAML
start kube-proxy "$BIN/kube-proxy" --config "$CFG/kube-proxy.yaml" --v=1
wait_for kube-proxy 60 curl -sf http://127.0.0.1:10256/healthz

# ---------------------------------------------------------------------------
# 9. Add-ons as host processes: CoreDNS on the node IP (the pods' nameserver; only
#    cluster.local and reverse zones, no upstream) and the hostPath provisioner behind the
#    default StorageClass. hostPath ignores fsGroup: the provisioner makes its directories
#    0777 so that non-root pods can write.
# ---------------------------------------------------------------------------
put "$CFG/Corefile" <<CONF
.:53 {
    bind $NODE_IP
    errors
    ready 127.0.0.1:18181
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig $CFG/admin.kubeconfig pocketfleet
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 5
    }
    cache 5
    loadbalance
}
CONF
start coredns "$BIN/coredns" -conf "$CFG/Corefile"
wait_for coredns 60 curl -sf http://127.0.0.1:18181/ready
mkdir -p "$BASE/pv"
start hostpath-provisioner "$BIN/hostpath-provisioner" --kubeconfig "$CFG/admin.kubeconfig" \
  --root "$BASE/pv" --name pocketfleet.local/hostpath --node "$NODE_NAME"
"$KUBECTL" apply -f - >/dev/null <<YAML
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: local-hostpath
  annotations: {storageclass.kubernetes.io/is-default-class: "true"}
provisioner: pocketfleet.local/hostpath
reclaimPolicy: Delete
volumeBindingMode: WaitForFirstConsumer
YAML

# ---------------------------------------------------------------------------
# 10. Traefik v3, the Ingress controller, on the node IP, port 80, for the IngressClass
#     "local" (the cluster's default class). Its kubernetesIngress provider reads the admin
#     kubeconfig from KUBECONFIG and routes to the pods behind each Ingress's Service (a
#     Service with no ready pod, as a hibernated tenant's, answers 503 rather than 404);
#     the ping endpoint on loopback says when it serves. No dashboard: its assets are built by
#     npm upstream and are not in the Go module.
# ---------------------------------------------------------------------------
# an IngressClass's controller cannot change: replace one left by an older cluster
if [[ $("$KUBECTL" get ingressclass local -o 'jsonpath={.spec.controller}' 2>/dev/null) == pocketfleet.local/ingress ]]; then
  "$KUBECTL" delete ingressclass local >/dev/null
fi
"$KUBECTL" apply -f - >/dev/null <<YAML
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: local
  annotations: {ingressclass.kubernetes.io/is-default-class: "true"}
spec:
  controller: traefik.io/ingress-controller
YAML
start traefik "$BIN/traefik" \
  --global.checkNewVersion=false --global.sendAnonymousUsage=false --log.level=INFO \
  --entryPoints.web.address="$INGRESS_ADDR" --entryPoints.traefik.address="$TRAEFIK_PING_ADDR" --ping=true \
  --providers.kubernetesIngress=true --providers.kubernetesIngress.ingressClass=local \
  --providers.kubernetesIngress.ingressEndpoint.ip="$NODE_IP" \
  --providers.kubernetesIngress.allowEmptyServices=true
wait_for traefik 60 curl -sf "http://$TRAEFIK_PING_ADDR/ping"

log "cluster up: export KUBECONFIG=$KUBECONFIG (kubectl: $KUBECTL)"
