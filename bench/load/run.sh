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
#        WRK_CPUS=1 TARGET_CPUS=0 bench/load/run.sh   (wrk on its own core, everything measured on the other)
set -euo pipefail

DURATION=${DURATION:-15}
WARMUP=${WARMUP:-5}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-64}
HAPROXY_PORT=${HAPROXY_PORT:-18181}

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=bench/load/common.sh
source "$ROOT/bench/load/common.sh"
start_work rp-bench

need_tools wrk nginx haproxy
haproxy_version=$(haproxy -v | awk 'NR == 1 {print $3}')
case "$haproxy_version" in
  1.*|2.[0-5].*) echo "HAProxy $haproxy_version has no jwt_verify (needs 2.5+; 2.6 expected)" >&2; exit 1 ;;
esac

make_keys_and_token
start_nginx

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
spawn "$TARGET_CPUS" haproxy -db -f "$WORK/haproxy.cfg" > "$WORK/haproxy.log" 2>&1
HAPROXY_PID=$SPAWNED

# --- requests-proxy, Release build; PROXY_ENV: extra VAR=value settings for tuning experiments ---
build_proxy
# shellcheck disable=SC2086
start_proxy "$PROXY_PORT" "$PROXY_MANAGEMENT_PORT" "$WORK/proxy.log" ${PROXY_ENV:-}
PROXY_A_PID=$PROXY_PID

# A/B tuning: PROXY_B_ENV starts a second requests-proxy with other settings, measured as target
# "proxy-b" right after "proxy" in every round, so both see the same machine noise.
PROXY_B_PORT=${PROXY_B_PORT:-18184}
PROXY_B_MANAGEMENT_PORT=${PROXY_B_MANAGEMENT_PORT:-18194}
PROXY_B_PID=
if [[ -n ${PROXY_B_ENV:-} ]]; then
  # shellcheck disable=SC2086
  start_proxy "$PROXY_B_PORT" "$PROXY_B_MANAGEMENT_PORT" "$WORK/proxy-b.log" $PROXY_B_ENV
  PROXY_B_PID=$PROXY_PID
fi

# Control: YARP alone, to separate the cost of forwarding from the cost of authentication.
YARP_PORT=${YARP_PORT:-18183}
dotnet build "$ROOT/bench/load/PlainYarp/PlainYarp.csproj" -c Release -nologo -v q -o "$WORK/yarp-bin" >/dev/null
# shellcheck disable=SC2086
spawn "$TARGET_CPUS" env ${YARP_ENV:-} dotnet "$WORK/yarp-bin/PlainYarp.dll" "http://127.0.0.1:$YARP_PORT" "http://127.0.0.1:$NGINX_PORT" > "$WORK/yarp.log" 2>&1
YARP_PID=$SPAWNED

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

printf '| target | req/s | p50 (ms) | p99 (ms) | proxy CPU s / 1000 req | proxy µs CPU / req | proxy peak RSS (MB) |\n'
printf '|---|---:|---:|---:|---:|---:|---:|\n'
run() { # name url pid(optional)
  local name=$1 url=$2 pid=${3:-}
  pinned "$WRK_CPUS" wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" -H "Authorization: Bearer $TOKEN" "$url" > /dev/null
  local before=0 out="$WORK/wrk-$name.txt"
  [[ -n $pid ]] && before=$(cpu_ticks "$pid")
  wrk_run "$out" -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" -H "Authorization: Bearer $TOKEN" "$url"
  local after=0
  [[ -n $pid ]] && after=$(cpu_ticks "$pid")
  local requests
  requests=$(wrk_requests "$out")
  if [[ -n $pid ]]; then
    local per_req
    per_req=$(us_per_request "$before" "$after" "$requests")
    printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$name" "$(wrk_rps "$out")" "$(wrk_p50 "$out")" "$(wrk_p99 "$out")" \
      "$(awk -v u="$per_req" 'BEGIN { printf "%.4f", u / 1000 }')" "$per_req" "$(hwm_mb "$pid")"
  else
    printf '| %s | %s | %s | %s | – | – | – |\n' "$name" "$(wrk_rps "$out")" "$(wrk_p50 "$out")" "$(wrk_p99 "$out")"
  fi
}

TARGETS=${TARGETS:-nginx haproxy yarp proxy}
[[ -n $PROXY_B_PID && " $TARGETS " != *" proxy-b "* ]] && TARGETS="$TARGETS proxy-b"
# ROUNDS > 1 repeats every target in turn, to see through the noise of a shared machine.
for ((round = 1; round <= ${ROUNDS:-1}; round++)); do
  [[ " $TARGETS " == *" nginx "* ]] && run "nginx direct" "http://127.0.0.1:$NGINX_PORT/v1/results"
  [[ " $TARGETS " == *" haproxy "* ]] && run "HAProxy ${haproxy_version%%-*} + jwt_verify" "http://127.0.0.1:$HAPROXY_PORT/v1/results" "$HAPROXY_PID"
  [[ " $TARGETS " == *" yarp "* ]] && run "plain YARP (control, no auth)${YARP_ENV:+ ($YARP_ENV)}" "http://127.0.0.1:$YARP_PORT/v1/results" "$YARP_PID"
  [[ " $TARGETS " == *" proxy "* ]] && run "requests-proxy${PROXY_ENV:+ ($PROXY_ENV)}" "http://127.0.0.1:$PROXY_PORT/v1/results" "$PROXY_A_PID"
  [[ " $TARGETS " == *" proxy-b "* ]] && run "requests-proxy ($PROXY_B_ENV)" "http://127.0.0.1:$PROXY_B_PORT/v1/results" "$PROXY_B_PID"
  :
done

echo
echo "wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s (after a ${WARMUP}s warm-up each)${WRK_CPUS:+, wrk on CPU $WRK_CPUS}${TARGET_CPUS:+, targets on CPU $TARGET_CPUS}, $(machine_line)"
