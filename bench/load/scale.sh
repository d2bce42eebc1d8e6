#!/usr/bin/env bash
# requests-proxy at cluster scale, on loopback (benchmarks, not tests; figures in docs/benchmarks.md):
#   connections  IDLE keep-alive connections held open (each made one authorized request) while
#                ACTIVE connections load the proxy; p99 of the active ones against a 64-connection
#                run, peak RSS (VmHWM) of the proxy.
#   flood        FLOOD_TOKENS distinct valid tokens sent as fast as one wrk can, while a warm client
#                repeats one token; control: the same flood load with a single repeated token. p99 of
#                the warm client, RSS of the proxy.
#   revocations  a revocation list of REVOKED entries, polled every second: p99 with the file
#                rewritten every second (a reload per second) against the same load with it untouched.
# Every run is bounded by DURATION; connections and tokens are bounded by IDLE and FLOOD_TOKENS.
#
#   idle         RSS with IDLE idle connections and no load (PROXY_ENV="VAR=value …" to try runtime settings).
#
# usage: bench/load/scale.sh [connections|flood|revocations|idle]...   (default: the first three)
#        DURATION=15 WARMUP=5 ROUNDS=2 IDLE=4950 ACTIVE=50 FLOOD_TOKENS=100000 REVOKED=20000
#        WRK_CPUS=1 TARGET_CPUS=0 to pin the load generators and the measured processes apart.
set -euo pipefail

DURATION=${DURATION:-15}
WARMUP=${WARMUP:-5}
ROUNDS=${ROUNDS:-2}
IDLE=${IDLE:-4950}
ACTIVE=${ACTIVE:-50}
FLOOD_TOKENS=${FLOOD_TOKENS:-100000}
REVOKED=${REVOKED:-20000}
SCENARIOS=${*:-connections flood revocations}

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=bench/load/common.sh
source "$ROOT/bench/load/common.sh"
start_work rp-scale

# One descriptor per connection, on both ends, plus the proxy's own.
ulimit -n "$(ulimit -Hn)"
if (($(ulimit -n) < IDLE + ACTIVE + 1000)); then
  echo "ulimit -n is $(ulimit -n): too low for $IDLE + $ACTIVE connections" >&2
  exit 1
fi

need_tools wrk nginx
make_keys_and_token
start_nginx
build_proxy
URL="http://127.0.0.1:$PROXY_PORT/v1/results"
METRICS="http://127.0.0.1:$PROXY_MANAGEMENT_PORT/metrics"

restart_proxy() { # [VAR=value…]
  if [[ -n ${PROXY_PID:-} ]]; then kill "$PROXY_PID" 2>/dev/null || true; wait "$PROXY_PID" 2>/dev/null || true; fi
  start_proxy "$PROXY_PORT" "$PROXY_MANAGEMENT_PORT" "$WORK/proxy.log" "$@"
  wait_ok "http://127.0.0.1:$NGINX_PORT/"
  wait_ok "http://127.0.0.1:$PROXY_MANAGEMENT_PORT/readyz"
  wait_ok -H "Authorization: Bearer $TOKEN" "$URL"
  pinned "$WRK_CPUS" wrk -t2 -c64 -d"${WARMUP}s" -H "Authorization: Bearer $TOKEN" "$URL" > /dev/null
}
metric() {
  curl -s -o "$WORK/metrics.txt" "$METRICS"
  awk -v name="$1" '$1 ~ "^"name"[{ ]" || $1 == name {print $2; exit}' "$WORK/metrics.txt"
}
row() { printf '| %s |\n' "$(IFS='|'; echo "$*" | sed 's/|/ | /g')"; }

measured_row() { # label connections-open wrk-connections: one measured wrk run as a table row
  local out="$WORK/wrk-measured.txt" before after
  before=$(cpu_ticks "$PROXY_PID")
  wrk_run "$out" -t2 -c"$3" -d"${DURATION}s" -H "Authorization: Bearer $TOKEN" "$URL"
  after=$(cpu_ticks "$PROXY_PID")
  row "$1" "$2" "$(wrk_rps "$out")" "$(wrk_p50 "$out")" "$(wrk_p99 "$out")" \
    "$(us_per_request "$before" "$after" "$(wrk_requests "$out")")" "$(rss_mb "$PROXY_PID")"
}

connections() {
  echo "### connections: $IDLE idle + $ACTIVE active keep-alive connections vs 64 active"
  echo
  restart_proxy ${PROXY_ENV:-}
  row "run" "connections open" "req/s" "p50 (ms)" "p99 (ms)" "µs CPU / req" "RSS (MB)"
  row "---" "---:" "---:" "---:" "---:" "---:" "---:"
  for ((round = 1; round <= ROUNDS; round++)); do
    for c in 64 "$ACTIVE"; do
      measured_row "$c active" "$c" "$c"
    done
    spawn "$WRK_CPUS" python3 "$ROOT/bench/load/idle_connections.py" "$PROXY_PORT" "$IDLE" $((WARMUP + DURATION + 10)) "$TOKEN" > "$WORK/idle.txt"
    local holder=$SPAWNED
    for _ in $(seq 1 240); do grep -q '^ready' "$WORK/idle.txt" && break; sleep 0.25; done
    grep -q '^ready' "$WORK/idle.txt" || { echo "the idle connections did not open: $(cat "$WORK/idle.txt")" >&2; exit 1; }
    pinned "$WRK_CPUS" wrk -t2 -c"$ACTIVE" -d"${WARMUP}s" -H "Authorization: Bearer $TOKEN" "$URL" > /dev/null
    local established
    established=$(ss -Htn state established "( sport = :$PROXY_PORT )" | wc -l)
    measured_row "$ACTIVE active + $IDLE idle" "$((established + ACTIVE))" "$ACTIVE"
    wait "$holder" || true
    echo "<!-- idle holder: $(tr '\n' ' ' < "$WORK/idle.txt") -->"
  done
  echo
  echo "proxy peak RSS (VmHWM) over the scenario: $(hwm_mb "$PROXY_PID") MB"
  echo
}

flood() {
  echo "### flood: $FLOOD_TOKENS distinct valid tokens vs one repeated token, warm client p99"
  echo
  python3 "$ROOT/bench/load/make_tokens.py" "$KEY" "$FLOOD_TOKENS" > "$WORK/tokens.txt"
  printf '%s\n' "$TOKEN" > "$WORK/one-token.txt"
  restart_proxy ${PROXY_ENV:-}
  local idle_rss
  idle_rss=$(rss_mb "$PROXY_PID")
  row "flood tokens" "flood req/s" "flood requests" "warm req/s" "warm p50 (ms)" "warm p99 (ms)" "RSS after (MB)"
  row "---" "---:" "---:" "---:" "---:" "---:" "---:"
  for ((round = 1; round <= ROUNDS; round++)); do
    for file in one-token tokens; do
      spawn "$WRK_CPUS" env TOKENS_FILE="$WORK/$file.txt" wrk -t2 -c32 -d"$((DURATION + 2))s" -s "$ROOT/bench/load/tokens.lua" "$URL" > "$WORK/flood.txt"
      local flooder=$SPAWNED
      sleep 1
      wrk_run "$WORK/warm.txt" -t1 -c16 -d"${DURATION}s" -H "Authorization: Bearer $TOKEN" "$URL"
      wait "$flooder"
      if grep -q Non-2xx "$WORK/flood.txt"; then echo "flood: non-2xx answers" >&2; cat "$WORK/flood.txt" >&2; exit 1; fi
      local distinct=1
      [[ $file == tokens ]] && distinct=$FLOOD_TOKENS
      row "$distinct" "$(wrk_rps "$WORK/flood.txt")" "$(wrk_requests "$WORK/flood.txt")" "$(wrk_rps "$WORK/warm.txt")" \
        "$(wrk_p50 "$WORK/warm.txt")" "$(wrk_p99 "$WORK/warm.txt")" "$(rss_mb "$PROXY_PID")"
    done
  done
  echo
  echo "proxy RSS before any flood: $idle_rss MB; peak RSS (VmHWM) over the scenario: $(hwm_mb "$PROXY_PID") MB"
  echo
}

revocations() {
  echo "### revocations: a $REVOKED-entry list reloaded every second vs left alone"
  echo
  python3 - "$REVOKED" > "$WORK/revoked/revoked.json" <<'PY'
import json, os, base64, sys, time
now = int(time.time())
entries = [{"jti": base64.urlsafe_b64encode(os.urandom(16)).rstrip(b"=").decode(), "exp": now + 86400, "sub": "job-%06d" % i}
           for i in range(int(sys.argv[1]))]
print(json.dumps(entries))
PY
  restart_proxy REQUESTS_PROXY_REVOKED_POLL_SECONDS=1
  local entries
  entries=$(metric requests_proxy_revocations_entries)
  [[ $entries == "$REVOKED" ]] || { echo "the proxy holds $entries revoked jtis, not $REVOKED" >&2; exit 1; }
  row "revocation file" "reloads during the run" "req/s" "p50 (ms)" "p99 (ms)" "RSS (MB)"
  row "---" "---:" "---:" "---:" "---:" "---:"
  for ((round = 1; round <= ROUNDS; round++)); do
    for mode in untouched rewritten; do
      local writer=
      if [[ $mode == rewritten ]]; then
        # Each second a new version: the first entry's jti changes, so every poll sees new content to parse.
        spawn "" python3 "$ROOT/bench/load/rewrite_revoked.py" "$WORK/revoked/revoked.json" $((DURATION + 2)) "$round"
        writer=$SPAWNED
      fi
      local reloads_before reloads_after
      reloads_before=$(metric requests_proxy_revocations_reloads_total)
      wrk_run "$WORK/wrk-revoked.txt" -t2 -c64 -d"${DURATION}s" -H "Authorization: Bearer $TOKEN" "$URL"
      reloads_after=$(metric requests_proxy_revocations_reloads_total)
      [[ -n $writer ]] && { kill "$writer" 2>/dev/null || true; wait "$writer" 2>/dev/null || true; }
      row "$mode" "$((reloads_after - reloads_before))" "$(wrk_rps "$WORK/wrk-revoked.txt")" "$(wrk_p50 "$WORK/wrk-revoked.txt")" \
        "$(wrk_p99 "$WORK/wrk-revoked.txt")" "$(rss_mb "$PROXY_PID")"
    done
  done
  echo
  echo "revoked jtis in force at the end: $(metric requests_proxy_revocations_entries); reload failures: $(metric requests_proxy_revocations_reload_failures_total)"
  echo
}

idle() {
  echo "### idle: RSS of the proxy holding $IDLE idle keep-alive connections, no load${PROXY_ENV:+ ($PROXY_ENV)}"
  echo
  if [[ -n ${PROXY_PID:-} ]]; then kill "$PROXY_PID" 2>/dev/null || true; wait "$PROXY_PID" 2>/dev/null || true; fi
  # shellcheck disable=SC2086
  start_proxy "$PROXY_PORT" "$PROXY_MANAGEMENT_PORT" "$WORK/proxy.log" ${PROXY_ENV:-}
  wait_ok "http://127.0.0.1:$PROXY_MANAGEMENT_PORT/readyz"
  wait_ok -H "Authorization: Bearer $TOKEN" "$URL"
  local before
  before=$(rss_mb "$PROXY_PID")
  spawn "" python3 "$ROOT/bench/load/idle_connections.py" "$PROXY_PORT" "$IDLE" 10 "$TOKEN" > "$WORK/idle.txt"
  local holder=$SPAWNED
  for _ in $(seq 1 240); do grep -q '^ready' "$WORK/idle.txt" && break; sleep 0.25; done
  sleep 3
  echo "RSS $before MB before, $(rss_mb "$PROXY_PID") MB with the connections open ($(head -1 "$WORK/idle.txt"))"
  wait "$holder" || true
  echo
}

for scenario in $SCENARIOS; do
  "$scenario"
done
echo "wrk runs of ${DURATION}s after ${WARMUP}s warm-ups, ROUNDS=$ROUNDS${WRK_CPUS:+, load generators on CPU $WRK_CPUS}${TARGET_CPUS:+, proxy and nginx on CPU $TARGET_CPUS}, $(machine_line)"
