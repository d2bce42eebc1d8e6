#!/usr/bin/env bash
# Shared by run.sh and scale.sh (source it, then call start_work): tools, a key ring and token,
# the nginx upstream, the Release requests-proxy, and the measuring helpers. Loopback only.

# start_work NAME: a fresh WORK folder and the EXIT trap that kills everything started (PIDS) and removes it.
start_work() {
  WORK=$(mktemp -d "/tmp/$1-XXXXXX")
  PIDS=()
  trap cleanup EXIT
}
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}

NGINX_PORT=${NGINX_PORT:-18180}
PROXY_PORT=${PROXY_PORT:-18182}
PROXY_MANAGEMENT_PORT=${PROXY_MANAGEMENT_PORT:-18192}
# WRK_CPUS / TARGET_CPUS: taskset CPU lists for the load generator and for everything it measures
# (nginx, HAProxy, the proxies), so the comparison is not the scheduler's. Empty: unpinned.
WRK_CPUS=${WRK_CPUS:-}
TARGET_CPUS=${TARGET_CPUS:-}

pinned() { # cpus command… : runs it in the foreground
  local cpus=$1; shift
  if [[ -n $cpus ]]; then taskset -c "$cpus" "$@"; else "$@"; fi
}

# spawn cpus command… : starts it in the background (the command itself, not a subshell, so the
# caller's EXIT trap can kill it); its pid is in SPAWNED and in PIDS. Never call it with '&'.
spawn() {
  local cpus=$1; shift
  if [[ -n $cpus ]]; then taskset -c "$cpus" "$@" & else "$@" & fi
  SPAWNED=$!
  PIDS+=($SPAWNED)
}

need_tools() {
  local need=()
  for tool in "$@"; do command -v "$tool" >/dev/null || need+=("$tool"); done
  if ((${#need[@]})); then
    echo "installing: ${need[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  fi
}

b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }

# A key ring in $WORK/keys, an empty revocation list in $WORK/revoked, KEY and TOKEN (HS256, as the jobs-manager mints it).
make_keys_and_token() {
  mkdir -p "$WORK/keys" "$WORK/revoked"
  KEY=$(LC_ALL=C tr -dc 'A-Za-z0-9' < <(head -c 4096 /dev/urandom) | cut -c1-64)
  printf 'v1\n' > "$WORK/keys/active"
  printf '%s\n' "$KEY" > "$WORK/keys/v1"
  printf '[]\n' > "$WORK/revoked/revoked.json"
  local now header payload signature
  now=$(date +%s)
  header=$(printf '{"alg":"HS256","typ":"JWT","kid":"v1"}' | b64url)
  payload=$(printf '{"iss":"jobs-manager","aud":"requests-proxy","sub":"job-bench","jti":"%s","iat":%d,"nbf":%d,"exp":%d,"scope":"results:write flops:write"}' \
    "$(head -c 16 /dev/urandom | b64url)" "$now" "$now" "$((now + 3600))" | b64url)
  signature=$(printf '%s.%s' "$header" "$payload" | openssl dgst -sha256 -mac HMAC -macopt "key:$KEY" -binary | b64url)
  TOKEN="$header.$payload.$signature"
}

# nginx, one worker, a small static 200.
start_nginx() {
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
  spawn "$TARGET_CPUS" nginx -c "$WORK/nginx.conf" -e "$WORK/nginx-error.log"
}

build_proxy() {
  dotnet build "$ROOT/src/RequestsProxy.Server/RequestsProxy.Server.csproj" -c Release -nologo -v q -o "$WORK/proxy-bin" >/dev/null
}

# start_proxy PORT MANAGEMENT_PORT LOG [VAR=value…]: the Release proxy, default settings but for the folders; sets PROXY_PID.
start_proxy() {
  local port=$1 management=$2 log=$3; shift 3
  local runner=(dotnet)
  [[ -n $TARGET_CPUS ]] && runner=(taskset -c "$TARGET_CPUS" dotnet)
  env "$@" ASPNETCORE_URLS="http://127.0.0.1:$port" REQUESTS_PROXY_MANAGEMENT_URLS="http://127.0.0.1:$management" \
    REQUESTS_PROXY_KEYS_DIR="$WORK/keys" REQUESTS_PROXY_REVOKED_DIR="$WORK/revoked" \
    REQUESTS_PROXY_UPSTREAM="http://127.0.0.1:$NGINX_PORT" \
    "${runner[@]}" "$WORK/proxy-bin/requests-proxy.dll" > "$log" 2>&1 &
  PROXY_PID=$!
  PIDS+=($PROXY_PID)
}

wait_ok() {
  for _ in $(seq 1 400); do
    if curl -sf -o /dev/null "$@"; then return 0; fi
    sleep 0.05
  done
  echo "not answering: ${*: -1}" >&2
  tail -n 5 "$WORK"/*.log >&2 || true
  exit 1
}

CLK_TCK=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hwm_mb() { awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }
rss_mb() { awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }
to_ms() { # wrk prints 812.00us, 1.23ms, 1.01s
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000; printf "%.2f", n }'
}

# wrk_run OUT wrk-arguments…: a measured wrk run (pinned to WRK_CPUS); fails on any non-2xx answer.
wrk_run() {
  local out=$1; shift
  pinned "$WRK_CPUS" wrk --latency "$@" > "$out"
  local non2xx
  non2xx=$(awk '/Non-2xx/ {print $5}' "$out")
  if [[ -n $non2xx ]]; then echo "$out: $non2xx non-2xx answers" >&2; cat "$out" >&2; exit 1; fi
}
wrk_rps() { awk '/Requests\/sec/ {printf "%.0f", $2}' "$1"; }
wrk_requests() { awk '/requests in/ {print $1}' "$1"; }
wrk_p50() { to_ms "$(awk '$1 == "50%" {print $2}' "$1")"; }
wrk_p99() { to_ms "$(awk '$1 == "99%" {print $2}' "$1")"; }
# µs of the process's CPU per request, from tick counts before and after.
us_per_request() { awk -v t=$(($2 - $1)) -v hz="$CLK_TCK" -v n="$3" 'BEGIN { printf "%.1f", t / hz / n * 1e6 }'; }
machine_line() {
  echo "$(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -r), .NET $(dotnet --version), load average $(cut -d' ' -f1-3 /proc/loadavg)"
}
