#!/usr/bin/env bash
# Proxy throughput on loopback, in one run: wrk against
#   1. nginx directly (a small static 200),
#   2. HAProxy 2.6 with native jwt_verify HS256 + ACLs on alg, exp, iss, aud, in front of that nginx,
#   3. plain YARP with no authentication (a control: the cost of forwarding alone),
#   4. requests-proxy (Release) with a valid token, in front of that nginx.
# Reports req/s, p50, p99, the proxy's CPU seconds per 1000 requests (/proc/<pid>/stat) and
# peak RSS (VmHWM). Loopback only; every run is bounded by DURATION.
#
# usage: bench/load/run.sh            (DURATION=15 WARMUP=5 THREADS=2 CONNECTIONS=64 to change)
#        TARGETS="haproxy proxy" ROUNDS=3 PROXY_ENV="A=1" PROXY_B_ENV="A=0" bench/load/run.sh   (A/B tuning)
set -euo pipefail

DURATION=${DURATION:-15}
WARMUP=${WARMUP:-5}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-64}
NGINX_PORT=${NGINX_PORT:-18180}
HAPROXY_PORT=${HAPROXY_PORT:-18181}
PROXY_PORT=${PROXY_PORT:-18182}
PROXY_MANAGEMENT_PORT=${PROXY_MANAGEMENT_PORT:-18192}

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$(mktemp -d /tmp/rp-bench-XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

need=()
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null || need+=(nginx)
command -v haproxy >/dev/null || need+=(haproxy)
if ((${#need[@]})); then
  echo "installing: ${need[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

haproxy_version=$(haproxy -v | awk 'NR == 1 {print $3}')
case "$haproxy_version" in
  1.*|2.[0-5].*) echo "HAProxy $haproxy_version has no jwt_verify (needs 2.5+; 2.6 expected)" >&2; exit 1 ;;
esac

# --- key ring and a valid token (HS256, as the jobs-manager mints it) ---
mkdir -p "$WORK/keys" "$WORK/revoked"
KEY=$(LC_ALL=C tr -dc 'A-Za-z0-9' < <(head -c 4096 /dev/urandom) | cut -c1-64)
printf 'v1\n' > "$WORK/keys/active"
printf '%s\n' "$KEY" > "$WORK/keys/v1"
printf '[]\n' > "$WORK/revoked/revoked.json"
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
now=$(date +%s)
header=$(printf '{"alg":"HS256","typ":"JWT","kid":"v1"}' | b64url)
payload=$(printf '{"iss":"jobs-manager","aud":"requests-proxy","sub":"job-bench","jti":"%s","iat":%d,"nbf":%d,"exp":%d,"scope":"results:write flops:write"}' \
  "$(head -c 16 /dev/urandom | b64url)" "$now" "$now" "$((now + 3600))" | b64url)
signature=$(printf '%s.%s' "$header" "$payload" | openssl dgst -sha256 -mac HMAC -macopt "key:$KEY" -binary | b64url)
TOKEN="$header.$payload.$signature"

# --- upstream: nginx, one worker, a small static 200 ---
cat > "$WORK/nginx.conf" <<CONF
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log warn;
daemon off;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location / { default_type text/plain; return 200 'ok'; }
  }
}
CONF
nginx -c "$WORK/nginx.conf" -e "$WORK/nginx-error.log" &
PIDS+=($!)

# --- HAProxy: native jwt_verify HS256 and the same claim checks requests-proxy makes ---
cat > "$WORK/haproxy.cfg" <<CONF
global
  maxconn 4096
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend fe
  bind 127.0.0.1:$HAPROXY_PORT
  http-request set-var(txn.bearer) http_auth_bearer
  http-request set-var(txn.alg) var(txn.bearer),jwt_header_query('\$.alg')
  http-request set-var(txn.exp) var(txn.bearer),jwt_payload_query('\$.exp','int')
  http-request set-var(txn.now) date()
  http-request deny deny_status 401 unless { var(txn.alg) -m str HS256 }
  http-request deny deny_status 401 unless { var(txn.bearer),jwt_verify(txn.alg,"$KEY") -m int 1 }
  http-request deny deny_status 401 if { var(txn.exp),sub(txn.now) -m int lt 1 }
  http-request deny deny_status 401 unless { var(txn.bearer),jwt_payload_query('\$.iss') -m str jobs-manager }
  http-request deny deny_status 401 unless { var(txn.bearer),jwt_payload_query('\$.aud') -m str requests-proxy }
  http-request del-header Authorization
  default_backend be
backend be
  http-reuse always
  server nginx 127.0.0.1:$NGINX_PORT
CONF
haproxy -db -f "$WORK/haproxy.cfg" > "$WORK/haproxy.log" 2>&1 &
HAPROXY_PID=$!
PIDS+=($HAPROXY_PID)

# --- requests-proxy, Release build, default settings but for the folders ---
dotnet build "$ROOT/src/RequestsProxy.Server/RequestsProxy.Server.csproj" -c Release -nologo -v q -o "$WORK/proxy-bin" >/dev/null
# PROXY_ENV: extra VAR=value settings for tuning experiments (e.g. "DOTNET_gcServer=0").
# shellcheck disable=SC2086
env ${PROXY_ENV:-} ASPNETCORE_URLS="http://127.0.0.1:$PROXY_PORT" REQUESTS_PROXY_MANAGEMENT_URLS="http://127.0.0.1:$PROXY_MANAGEMENT_PORT" \
REQUESTS_PROXY_KEYS_DIR="$WORK/keys" REQUESTS_PROXY_REVOKED_DIR="$WORK/revoked" \
REQUESTS_PROXY_UPSTREAM="http://127.0.0.1:$NGINX_PORT" \
  dotnet "$WORK/proxy-bin/requests-proxy.dll" > "$WORK/proxy.log" 2>&1 &
PROXY_PID=$!
PIDS+=($PROXY_PID)

# A/B tuning: PROXY_B_ENV starts a second requests-proxy with other settings, measured as target
# "proxy-b" right after "proxy" in every round, so both see the same machine noise.
PROXY_B_PORT=${PROXY_B_PORT:-18184}
PROXY_B_MANAGEMENT_PORT=${PROXY_B_MANAGEMENT_PORT:-18194}
PROXY_B_PID=
if [[ -n ${PROXY_B_ENV:-} ]]; then
  # shellcheck disable=SC2086
  env $PROXY_B_ENV ASPNETCORE_URLS="http://127.0.0.1:$PROXY_B_PORT" REQUESTS_PROXY_MANAGEMENT_URLS="http://127.0.0.1:$PROXY_B_MANAGEMENT_PORT" \
  REQUESTS_PROXY_KEYS_DIR="$WORK/keys" REQUESTS_PROXY_REVOKED_DIR="$WORK/revoked" \
  REQUESTS_PROXY_UPSTREAM="http://127.0.0.1:$NGINX_PORT" \
    dotnet "$WORK/proxy-bin/requests-proxy.dll" > "$WORK/proxy-b.log" 2>&1 &
  PROXY_B_PID=$!
  PIDS+=($PROXY_B_PID)
fi

# Control: YARP alone, to separate the cost of forwarding from the cost of authentication.
YARP_PORT=${YARP_PORT:-18183}
dotnet build "$ROOT/bench/load/PlainYarp/PlainYarp.csproj" -c Release -nologo -v q -o "$WORK/yarp-bin" >/dev/null
# shellcheck disable=SC2086
env ${YARP_ENV:-} dotnet "$WORK/yarp-bin/PlainYarp.dll" "http://127.0.0.1:$YARP_PORT" "http://127.0.0.1:$NGINX_PORT" > "$WORK/yarp.log" 2>&1 &
YARP_PID=$!
PIDS+=($YARP_PID)

wait_ok() {
  for _ in $(seq 1 200); do
    if curl -sf -o /dev/null "$@"; then return 0; fi
    sleep 0.05
  done
  echo "not answering: ${*: -1}" >&2
  tail -n 5 "$WORK"/*.log >&2 || true
  exit 1
}
wait_ok "http://127.0.0.1:$NGINX_PORT/"
wait_ok -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$HAPROXY_PORT/"
wait_ok "http://127.0.0.1:$PROXY_MANAGEMENT_PORT/readyz"
wait_ok "http://127.0.0.1:$YARP_PORT/"
wait_ok -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PROXY_PORT/v1/results"
[[ -n $PROXY_B_PID ]] && wait_ok -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PROXY_B_PORT/v1/results"
# Sanity: both guards refuse a bad token.
for port in $HAPROXY_PORT $PROXY_PORT; do
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer ${TOKEN}x" "http://127.0.0.1:$port/v1/results")
  [[ $code == 401 ]] || { echo "port $port accepted a bad signature ($code)" >&2; exit 1; }
done

CLK_TCK=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hwm_mb() { awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }
to_ms() { # wrk prints 812.00us, 1.23ms, 1.01s
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000; printf "%.2f", n }'
}

printf '| target | req/s | p50 (ms) | p99 (ms) | proxy CPU s / 1000 req | proxy µs CPU / req | proxy peak RSS (MB) |\n'
printf '|---|---:|---:|---:|---:|---:|---:|\n'
run() { # name url pid(optional)
  local name=$1 url=$2 pid=${3:-}
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" -H "Authorization: Bearer $TOKEN" "$url" > /dev/null
  local before=0
  [[ -n $pid ]] && before=$(cpu_ticks "$pid")
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -H "Authorization: Bearer $TOKEN" "$url" > "$WORK/wrk-$name.txt"
  local after=0
  [[ -n $pid ]] && after=$(cpu_ticks "$pid")
  local out="$WORK/wrk-$name.txt"
  local rps requests p50 p99 non2xx
  rps=$(awk '/Requests\/sec/ {printf "%.0f", $2}' "$out")
  requests=$(awk '/requests in/ {print $1}' "$out")
  p50=$(to_ms "$(awk '$1 == "50%" {print $2}' "$out")")
  p99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$out")")
  non2xx=$(awk '/Non-2xx/ {print $5}' "$out")
  if [[ -n $non2xx ]]; then echo "$name: $non2xx non-2xx answers" >&2; exit 1; fi
  if [[ -n $pid ]]; then
    local cpu per_req
    cpu=$(awk -v t=$((after - before)) -v hz="$CLK_TCK" -v n="$requests" 'BEGIN { printf "%.4f", t / hz / n * 1000 }')
    per_req=$(awk -v c="$cpu" 'BEGIN { printf "%.1f", c * 1000 }')
    printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$name" "$rps" "$p50" "$p99" "$cpu" "$per_req" "$(hwm_mb "$pid")"
  else
    printf '| %s | %s | %s | %s | – | – | – |\n' "$name" "$rps" "$p50" "$p99"
  fi
}

TARGETS=${TARGETS:-nginx haproxy yarp proxy}
[[ -n $PROXY_B_PID && " $TARGETS " != *" proxy-b "* ]] && TARGETS="$TARGETS proxy-b"
# ROUNDS > 1 repeats every target in turn, to see through the noise of a shared machine.
for ((round = 1; round <= ${ROUNDS:-1}; round++)); do
  [[ " $TARGETS " == *" nginx "* ]] && run "nginx direct" "http://127.0.0.1:$NGINX_PORT/v1/results"
  [[ " $TARGETS " == *" haproxy "* ]] && run "HAProxy ${haproxy_version%%-*} + jwt_verify" "http://127.0.0.1:$HAPROXY_PORT/v1/results" "$HAPROXY_PID"
  [[ " $TARGETS " == *" yarp "* ]] && run "plain YARP (control, no auth)${YARP_ENV:+ ($YARP_ENV)}" "http://127.0.0.1:$YARP_PORT/v1/results" "$YARP_PID"
  [[ " $TARGETS " == *" proxy "* ]] && run "requests-proxy${PROXY_ENV:+ ($PROXY_ENV)}" "http://127.0.0.1:$PROXY_PORT/v1/results" "$PROXY_PID"
  [[ " $TARGETS " == *" proxy-b "* ]] && run "requests-proxy ($PROXY_B_ENV)" "http://127.0.0.1:$PROXY_B_PORT/v1/results" "$PROXY_B_PID"
  :
done

echo
echo "wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s (after a ${WARMUP}s warm-up each), $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -r), .NET $(dotnet --version)"
