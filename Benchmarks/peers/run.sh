#!/usr/bin/env bash
# Side-by-side peer benchmark: Portcullis against nginx, nginx+njs, nginx+Lua
# and HAProxy+Lua doing the same forum-renewal pre-hook work in front of the
# same upstream. Everything listens on 127.0.0.1 only, on free ports, from a
# temp folder; every process this script starts is stopped by its pid on exit.
#
#   bash Benchmarks/peers/run.sh            (or: make bench-peers)
#
# Knobs (environment):
#   DURATION=10       seconds of measurement per target (wrk -d)
#   CONNECTIONS=32    wrk connections (wrk -c)
#   THREADS=2         wrk threads (wrk -t)
#   WARMUP=2          seconds of warm-up load before each measurement (0: none)
#   WORKERS=$(nproc)  nginx worker_processes and HAProxy nbthread
#   ONLY=id,id        run only these targets (ids as printed); others are "skipped"
#   RESULTS=path      where the results are written (default Benchmarks/peer-results.md)
#   PORTCULLIS_BIN=   use this portcullis binary instead of building one
#   PORTCULLIS_LOG_LEVEL=warning   --log-level of the portcullis processes
#   SKIP_INSTALL=1    do not apt-get install missing packages
#   BUILD_TIMEOUT=1800  seconds the release build may take
#   RELEASE_SWIFT_FLAGS=   flags of that build (default: `make build`'s, from `make release-flags`)
#   KEEP_RUN_DIR=1    keep the temp folder (configs, logs, wrk output)
#   BUSY_LIMIT=15     a row waits for the machine to be at most this % busy ...
#   QUIET_WAIT=10     ... for up to this many seconds, and is noted when it was not
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=common.sh
source "$HERE/common.sh"

DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
WARMUP=${WARMUP:-2}
WORKERS=${WORKERS:-$(nproc)}
ONLY=${ONLY:-}
RESULTS=${RESULTS:-$ROOT/Benchmarks/peer-results.md}
PORTCULLIS_BIN=${PORTCULLIS_BIN:-}
PORTCULLIS_LOG_LEVEL=${PORTCULLIS_LOG_LEVEL:-warning}
SKIP_INSTALL=${SKIP_INSTALL:-0}
BUILD_TIMEOUT=${BUILD_TIMEOUT:-1800}
RELEASE_SWIFT_FLAGS=${RELEASE_SWIFT_FLAGS-$(make -s --no-print-directory -C "$ROOT" release-flags)}
KEEP_RUN_DIR=${KEEP_RUN_DIR:-0}
BUSY_LIMIT=${BUSY_LIMIT:-15}
QUIET_WAIT=${QUIET_WAIT:-10}

for knob in DURATION CONNECTIONS THREADS WARMUP WORKERS BUILD_TIMEOUT BUSY_LIMIT QUIET_WAIT; do
    if ! [[ ${!knob} =~ ^[0-9]+$ ]]; then
        echo "run.sh: $knob must be a whole number, got '${!knob}'" >&2
        exit 2
    fi
done
if [ "$DURATION" -lt 1 ] || [ "$CONNECTIONS" -lt 1 ] || [ "$THREADS" -lt 1 ] || [ "$WORKERS" -lt 1 ]; then
    echo "run.sh: DURATION, CONNECTIONS, THREADS and WORKERS must be at least 1" >&2
    exit 2
fi
if [ "$CONNECTIONS" -lt "$THREADS" ]; then
    echo "run.sh: CONNECTIONS ($CONNECTIONS) must be at least THREADS ($THREADS)" >&2
    exit 2
fi

TOKEN=bench-session-key-0001
TTL=60
SECRET=bench-admin-secret-$$-$RANDOM
export BENCH_TOKEN=$TOKEN
NGINX_MODULES=/usr/lib/nginx/modules

say() { printf '%s\n' "$*"; }
warn() { printf '  ! %s\n' "$*" >&2; }

# ---------------------------------------------------------------- packages --

SUDO=""
[ "$(id -u)" = "0" ] || SUDO=sudo

# The Debian package holding each piece, and how to tell it is installed.
package_missing() {
    case "$1" in
        nginx) ! command -v nginx >/dev/null 2>&1 ;;
        libnginx-mod-http-js) [ ! -f "$NGINX_MODULES/ngx_http_js_module.so" ] ;;
        libnginx-mod-http-lua) [ ! -f "$NGINX_MODULES/ngx_http_lua_module.so" ] ;;
        haproxy) ! command -v haproxy >/dev/null 2>&1 ;;
        redis-server) ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1 ;;
        wrk) ! command -v wrk >/dev/null 2>&1 ;;
        curl) ! command -v curl >/dev/null 2>&1 ;;
        pkg-config) ! command -v pkg-config >/dev/null 2>&1 ;;
        libjavascriptcoregtk-4.1-dev) ! pkg-config --exists javascriptcoregtk-4.1 2>/dev/null ;;
        *) [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true) != *"install ok installed"* ]] ;;
    esac
}

# Has Debian a candidate for this package?
package_available() {
    apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {found = ($2 != "(none)")} END {exit found ? 0 : 1}'
}

install_packages() {
    local wanted=(nginx libnginx-mod-http-js libnginx-mod-http-lua lua-cjson haproxy redis-server wrk curl
                  pkg-config libjavascriptcoregtk-4.1-dev)
    local missing=() available=() pkg
    for pkg in "${wanted[@]}"; do
        if package_missing "$pkg"; then missing+=("$pkg"); fi
    done
    # Optional: the nginx+Lua peer uses lua-resty-redis when Debian has it and
    # otherwise speaks RESP itself (lua/resp.lua).
    if package_missing lua-resty-redis; then
        if package_available lua-resty-redis; then
            missing+=(lua-resty-redis)
        else
            say "packages: lua-resty-redis is not in this Debian release; the nginx+Lua peer speaks RESP itself (lua/resp.lua)"
        fi
    fi
    if [ "${#missing[@]}" -eq 0 ]; then
        say "packages: everything is installed"
        return 0
    fi
    if [ "$SKIP_INSTALL" = "1" ]; then
        say "packages: missing ${missing[*]} (SKIP_INSTALL=1, not installing)"
        return 0
    fi
    say "packages: missing ${missing[*]}; apt-get update"
    $SUDO apt-get update -qq || warn "apt-get update failed"
    for pkg in "${missing[@]}"; do
        if package_available "$pkg"; then
            available+=("$pkg")
        else
            warn "$pkg is not available from the configured Debian repositories"
        fi
    done
    [ "${#available[@]}" -gt 0 ] || return 0
    say "packages: installing ${available[*]}"
    if ! DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${available[@]}" >/dev/null; then
        warn "installing them together failed; trying one at a time"
        for pkg in "${available[@]}"; do
            DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$pkg" >/dev/null || warn "could not install $pkg"
        done
    fi
}

# ------------------------------------------------------------- run folder --

RUN=$(mktemp -d "${TMPDIR:-/tmp}/portcullis-peers.XXXXXX")
chmod 755 "$RUN"   # nginx workers may run as an unprivileged user
PIDS=()

alive() {
    local state
    state=$(awk '/^State:/ {print $2}' "/proc/$1/status" 2>/dev/null) || return 1
    [ -n "$state" ] && [ "$state" != "Z" ]
}

# Starts a process in the background, output to $RUN/NAME.log; its pid is
# left in LAST_PID and recorded for the exit trap.
start_proc() {
    local name=$1
    shift
    "$@" >"$RUN/$name.log" 2>&1 &
    LAST_PID=$!
    PIDS+=("$LAST_PID")
}

# Stops one process this script started: SIGTERM, then SIGKILL after 5 s.
# Children it leaves behind (nginx workers of a killed master) are stopped too.
stop_proc() {
    local pid=$1 kids kid i keep=()
    kids=$(ps -o pid= --ppid "$pid" 2>/dev/null || true)
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 50); do
        alive "$pid" || break
        sleep 0.1
    done
    if alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
    wait "$pid" 2>/dev/null || true
    for kid in $kids; do
        if alive "$kid"; then
            sleep 1
            if alive "$kid"; then kill -KILL "$kid" 2>/dev/null || true; fi
        fi
    done
    for i in "${PIDS[@]}"; do [ "$i" = "$pid" ] || keep+=("$i"); done
    PIDS=("${keep[@]+"${keep[@]}"}")
}

cleanup() {
    local status=$? pid
    trap - EXIT INT TERM
    for pid in "${PIDS[@]+"${PIDS[@]}"}"; do stop_proc "$pid"; done
    if [ "$KEEP_RUN_DIR" = "1" ]; then
        say "run folder kept: $RUN"
    else
        rm -rf "$RUN"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

cd "$RUN"

# ------------------------------------------------------------------ ports --

USED_PORTS=" "
# Picks a free loopback port into PORT.
free_port() {
    local candidate _
    for _ in $(seq 200); do
        candidate=$((20000 + RANDOM % 40000))
        case "$USED_PORTS" in *" $candidate "*) continue ;; esac
        if [ -z "$(ss -Htan "sport = :$candidate" 2>/dev/null)" ]; then
            USED_PORTS+="$candidate "
            PORT=$candidate
            return 0
        fi
    done
    echo "run.sh: no free port found" >&2
    return 1
}


# -------------------------------------------------------------- measuring --

# A process and its child processes (nginx: the master and its workers).
with_children() { echo "$1" $(ps -o pid= --ppid "$1" 2>/dev/null || true); }

# Resident memory of a process and its children, in KiB.
rss_kib() {
    local total=0 pid value
    for pid in $(with_children "$1"); do
        value=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
        total=$((total + ${value:-0}))
    done
    echo "$total"
}

# CPU time (user + system) of a process and its children, in clock ticks
# (fields 14 and 15 of /proc/PID/stat, read after the command name).
cpu_ticks() {
    local total=0 pid value
    for pid in $(with_children "$1"); do
        value=$(sed -e 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | awk '{print $12 + $13}' || true)
        total=$((total + ${value:-0}))
    done
    echo "$total"
}
CLOCK_TICKS=$(getconf CLK_TCK 2>/dev/null || echo 100)

# Context switches (voluntary + involuntary) of every thread of a process
# and its children, from /proc/PID/task/*/status. A thread that sleeps and
# is woken for each request's work shows here as CPU time does not.
ctx_switches() {
    local total=0 pid value
    for pid in $(with_children "$1"); do
        value=$(cat /proc/"$pid"/task/*/status 2>/dev/null | awk '/^(voluntary|nonvoluntary)_ctxt_switches:/ {s += $2} END {print s + 0}' || true)
        total=$((total + ${value:-0}))
    done
    echo "$total"
}

# Share of all CPUs in use over one second, in percent (the machine should be
# idle before a measurement; another build or test run skews the numbers).
cpu_busy() {
    local a b
    a=$(awk '/^cpu / {print $2 + $3 + $4 + $7 + $8, $5 + $6}' /proc/stat)
    sleep 1
    b=$(awk '/^cpu / {print $2 + $3 + $4 + $7 + $8, $5 + $6}' /proc/stat)
    awk -v a="$a" -v b="$b" 'BEGIN {split(a, x, " "); split(b, y, " "); busy = y[1] - x[1]; idle = y[2] - x[2];
        total = busy + idle; printf "%.0f", (total > 0 ? 100 * busy / total : 0)}'
}

mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }

# HTTP status of one request (000 when it fails); the body goes to $RUN/body.
http_status() {
    local url=$1
    shift
    curl -s -o "$RUN/body" -w '%{http_code}' --max-time 5 "$@" "$url" || true
}

# Waits until URL answers at all (any status), while PID is alive.
wait_ready() {
    local url=$1 pid=$2 _
    for _ in $(seq 150); do
        alive "$pid" || return 1
        [ "$(http_status "$url")" != "000" ] && return 0
        sleep 0.1
    done
    return 1
}

# wrk latency like 812.00us / 1.53ms / 1.02s, in milliseconds.
to_ms() {
    awk -v v="$1" 'BEGIN {
        n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
        if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
        printf "%.2f", n }'
}


# ------------------------------------------------------------------- rows --

ORDER=()
declare -A LABEL STATUS RPS P50 P99 NOTE RSS_IDLE RSS_AFTER CPU_US CSW

row() {
    ORDER+=("$1")
    LABEL[$1]=$2
    STATUS[$1]=pending
    NOTE[$1]=""
}
unavailable() { STATUS[$1]="unavailable: $2"; warn "$1 unavailable: $2"; }
invalid() { STATUS[$1]="invalid: $2"; warn "$1 invalid: $2"; }
note() { NOTE[$1]="${NOTE[$1]:+${NOTE[$1]}; }$2"; }
selected() { [ -z "$ONLY" ] || [[ ",$ONLY," == *",$1,"* ]]; }

# Expects 200 and the upstream's "ok" body for a request with the token.
check_served() {
    local id=$1 url=$2 code
    shift 2
    code=$(http_status "$url" -H "x-session-key: $TOKEN" "$@")
    if [ "$code" != "200" ] || [ "$(cat "$RUN/body" 2>/dev/null)" != "ok" ]; then
        invalid "$id" "a request with the token got $code '$(head -c 120 "$RUN/body" 2>/dev/null | tr '\n' ' ')', not 200 ok"
        return 1
    fi
}

# Expects 401 or 403 for a request with these curl arguments.
check_rejected() {
    local id=$1 url=$2 what=$3 code
    shift 3
    code=$(http_status "$url" "$@")
    if [ "$code" != "401" ] && [ "$code" != "403" ]; then
        invalid "$id" "a request $what got $code, not 401/403"
        return 1
    fi
}

# Expects a fresh, unknown token to be renewed by the pre hook and served.
check_renewed() {
    local id=$1 url=$2 code
    code=$(http_status "$url" -H "x-session-key: fresh-$RANDOM$RANDOM")
    if [ "$code" != "200" ]; then
        invalid "$id" "a request with an unknown token got $code; the pre hook should renew it and serve 200"
        return 1
    fi
}

# Warm-up, then the measured wrk run; fills RPS/P50/P99 and, given a pid,
# the RSS before and after the load.
measure() {
    local id=$1 url=$2 pid=${3:-} out="$RUN/$1.wrk" rps total non2xx timeouts per_request busy="" ticks_before=0 switches_before=0 _
    [ -n "$pid" ] && RSS_IDLE[$id]=$(rss_kib "$pid")
    # Give another job on the machine up to QUIET_WAIT seconds to finish.
    for _ in $(seq "$QUIET_WAIT"); do
        busy=$(cpu_busy)
        [ "$busy" -gt "$BUSY_LIMIT" ] || break
    done
    busy=${busy:-$(cpu_busy)}
    if [ "$busy" -gt "$BUSY_LIMIT" ]; then
        note "$id" "machine busy before the run: ${busy}% CPU in use"
        warn "$id: ${busy}% CPU was in use before the run; the numbers may be low"
    fi
    if [ "$WARMUP" -gt 0 ]; then
        timeout $((WARMUP + 20)) wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" --timeout 5s \
            -H "x-session-key: $TOKEN" "$url" >"$RUN/$id.warmup" 2>&1 || true
    fi
    [ "${COUNT_REDIS:-}" != "1" ] || redis_cli CONFIG RESETSTAT >/dev/null
    [ -n "$pid" ] && ticks_before=$(cpu_ticks "$pid") && switches_before=$(ctx_switches "$pid")
    if ! timeout $((DURATION + 30)) wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --timeout 5s --latency \
        -H "x-session-key: $TOKEN" "$url" >"$out" 2>&1; then
        invalid "$id" "wrk failed: $(tail -n 1 "$out")"
        return 0
    fi
    [ -n "$pid" ] && RSS_AFTER[$id]=$(rss_kib "$pid")
    rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
    total=$(awk '/ requests in / {print $1}' "$out")
    non2xx=$(awk -F: '/Non-2xx or 3xx responses/ {gsub(/ /, "", $2); print $2}' "$out")
    timeouts=$(awk '/Socket errors/ {for (i = 1; i <= NF; i++) if ($i == "timeout") print $(i + 1)}' "$out")
    if [ -z "$rps" ] || [ -z "$total" ]; then
        invalid "$id" "could not read wrk's output"
        return 0
    fi
    RPS[$id]=$(awk -v r="$rps" 'BEGIN {printf "%.0f", r}')
    if [ -n "$pid" ]; then
        CPU_US[$id]=$(awk -v a="$ticks_before" -v b="$(cpu_ticks "$pid")" -v hz="$CLOCK_TICKS" -v n="$total" \
            'BEGIN {printf "%.0f", (b - a) * 1000000 / hz / n}')
        CSW[$id]=$(awk -v a="$switches_before" -v b="$(ctx_switches "$pid")" -v n="$total" 'BEGIN {printf "%.2f", (b - a) / n}')
    fi
    P50[$id]=$(to_ms "$(awk '$1 == "50%" {print $2}' "$out")")
    P99[$id]=$(to_ms "$(awk '$1 == "99%" {print $2}' "$out")")
    STATUS[$id]=ok
    if [ -n "$non2xx" ] && [ "$non2xx" != "0" ]; then
        if [ $((non2xx * 100)) -gt "$total" ]; then
            invalid "$id" "$non2xx of $total responses were not 2xx"
        else
            note "$id" "$non2xx of $total responses not 2xx"
        fi
    fi
    if [ -n "$timeouts" ] && [ "$timeouts" != "0" ]; then note "$id" "$timeouts wrk timeouts"; fi
    if [ "${COUNT_REDIS:-}" = "1" ]; then
        per_request=$(redis_per_request "$total" || true)
        note "$id" "Redis per request: ${per_request:-no commands}"
    fi
    say "  $id: ${RPS[$id]} req/s, p50 ${P50[$id]} ms, p99 ${P99[$id]} ms, CPU ${CPU_US[$id]:-?} µs/request, ${CSW[$id]:-?} context switches/request"
}

# --------------------------------------------------------------- servers --

# Starts an nginx instance from a template in nginx/; sets TARGET_PID and PORT.
start_nginx() {
    local id=$1 template=$2 prefix="$RUN/$1" output
    mkdir -p "$prefix"
    free_port
    render "$HERE/nginx/$template" "$prefix/nginx.conf"
    if ! output=$(nginx -t -q -p "$prefix/" -e "$prefix/error.log" -c "$prefix/nginx.conf" 2>&1); then
        REASON="nginx refused the config: $(printf '%s\n' "$output" | grep -m 1 -E 'emerg|alert|crit|error' | sed 's/^nginx: //')"
        return 1
    fi
    start_proc "$id" nginx -p "$prefix/" -e "$prefix/error.log" -c "$prefix/nginx.conf" -g 'daemon off;'
    TARGET_PID=$LAST_PID
    if ! wait_ready "http://127.0.0.1:$PORT/" "$TARGET_PID"; then
        REASON="nginx did not start: $(tail -n 1 "$prefix/error.log" 2>/dev/null || tail -n 1 "$RUN/$id.log")"
        return 1
    fi
}

redis_cli() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"; }

# Redis commands per request since the last CONFIG RESETSTAT, largest first
# (the commands wrk's requests caused, as a proof that the store is used).
redis_per_request() {
    redis_cli INFO commandstats | tr -d '\r' | awk -F'[:,=]' -v n="$1" '
        /^cmdstat_/ && $1 !~ /^cmdstat_(config|info)/ && $3 / n >= 0.005 {
            sub(/^cmdstat_/, "", $1); gsub(/\|/, "/", $1); printf "%s %.2f\n", toupper($1), $3 / n }' |
        sort -k2,2 -g -r | head -n 8 | awk '{printf "%s%s %s", (NR > 1 ? ", " : ""), $1, $2}'
}

require_redis() {
    if [ -z "${REDIS_PORT:-}" ]; then
        REASON="no redis-server ($REDIS_REASON)"
        return 1
    fi
    redis_cli FLUSHALL >/dev/null
}

# Starts `portcullis serve` on a generated tyk.conf with one API file;
# sets TARGET_PID and PORT. STORE is memory or redis.
start_portcullis() {
    local id=$1 api=$2 store=$3 dir="$RUN/$1" args
    if [ -z "$PORTCULLIS" ]; then
        REASON="no portcullis binary ($BUILD_REASON)"
        return 1
    fi
    mkdir -p "$dir/apps"
    free_port
    APP_PATH="$dir/apps" MIDDLEWARE_PATH="$dir/middleware" render "$HERE/portcullis/tyk.conf" "$dir/tyk.conf"
    render "$HERE/portcullis/$api" "$dir/apps/$api"
    args=(serve --config "$dir/tyk.conf" --port "$PORT" --log-level "$PORTCULLIS_LOG_LEVEL")
    if [ "$store" = "redis" ]; then
        require_redis || return 1
        args+=(--store "redis://127.0.0.1:$REDIS_PORT/0")
    fi
    start_proc "$id" "$PORTCULLIS" "${args[@]}"
    TARGET_PID=$LAST_PID
    if ! wait_ready "http://127.0.0.1:$PORT/hello" "$TARGET_PID"; then
        REASON="portcullis did not start: $(tail -n 3 "$RUN/$id.log" | tr '\n' ' ')"
        return 1
    fi
}

# Creates the benchmark token through the admin API.
seed_portcullis_key() {
    local code
    code=$(curl -s -o "$RUN/body" -w '%{http_code}' --max-time 5 -X POST \
        -H "x-tyk-authorization: $SECRET" -H 'Content-Type: application/json' \
        --data "$(session_json "$TOKEN")" "http://127.0.0.1:$PORT/tyk/keys/$TOKEN" || true)
    if [ "$code" != "200" ]; then
        REASON="creating the key through POST /tyk/keys failed: $code $(head -c 200 "$RUN/body" 2>/dev/null)"
        return 1
    fi
}

# ---------------------------------------------------------------- targets --

target_upstream() {
    local url="http://127.0.0.1:$UPSTREAM_PORT/bench/"
    check_served upstream "$url" || return 0
    measure upstream "$url" "$UPSTREAM_PID"
}

target_nginx_proxy() {
    start_nginx nginx-proxy proxy.conf || { unavailable nginx-proxy "$REASON"; return 0; }
    local url="http://127.0.0.1:$PORT/bench/"
    check_served nginx-proxy "$url" || return 0
    measure nginx-proxy "$url" "$TARGET_PID"
}

target_nginx_njs() {
    local id=nginx-njs
    [ -f "$NGINX_MODULES/ngx_http_js_module.so" ] || { unavailable $id "libnginx-mod-http-js is not installed"; return 0; }
    start_nginx $id njs.conf || { unavailable $id "$REASON"; return 0; }
    local url="http://127.0.0.1:$PORT/bench/"
    check_served $id "$url" || return 0
    check_rejected $id "$url" "without the token" || return 0
    check_renewed $id "$url" || return 0
    note $id "njs $NJS_VERSION: no shared dict, per-request copy of a module-level store"
    measure $id "$url" "$TARGET_PID"
}

# What to add to an nginx+Lua start failure when the cause is likely a
# missing package (the Lua peers load cjson in init_by_lua).
lua_hint() {
    if package_missing lua-cjson; then echo " (lua-cjson is not installed; run without SKIP_INSTALL=1 to install it)"; fi
}

target_nginx_lua_shdict() {
    local id=nginx-lua-shdict
    [ -f "$NGINX_MODULES/ngx_http_lua_module.so" ] || { unavailable $id "libnginx-mod-http-lua is not installed"; return 0; }
    start_nginx $id lua-shdict.conf || { unavailable $id "$REASON$(lua_hint)"; return 0; }
    local url="http://127.0.0.1:$PORT/bench/"
    check_served $id "$url" || return 0
    check_rejected $id "$url" "without the token" || return 0
    check_renewed $id "$url" || return 0
    measure $id "$url" "$TARGET_PID"
}

target_nginx_lua_redis() {
    local id=$1 always=$2 fresh code
    [ -f "$NGINX_MODULES/ngx_http_lua_module.so" ] || { unavailable "$id" "libnginx-mod-http-lua is not installed"; return 0; }
    require_redis || { unavailable "$id" "$REASON"; return 0; }
    redis_cli SET "session:$TOKEN" "$(session_json "$TOKEN")" >/dev/null
    RENEW_ALWAYS=$always start_nginx "$id" lua-redis.conf || { unavailable "$id" "$REASON$(lua_hint)"; return 0; }
    local url="http://127.0.0.1:$PORT/bench/"
    check_served "$id" "$url" || return 0
    check_rejected "$id" "$url" "without the token" || return 0
    fresh="fresh-$RANDOM$RANDOM"
    code=$(http_status "$url" -H "x-session-key: $fresh")
    if [ "$code" != "200" ] || [ "$(redis_cli EXISTS "session:$fresh")" != "1" ]; then
        invalid "$id" "an unknown token got $code and was not written to Redis"
        return 0
    fi
    note "$id" "$LUA_REDIS_CLIENT"
    COUNT_REDIS=1 measure "$id" "$url" "$TARGET_PID"
}

target_haproxy_lua() {
    local id=haproxy-lua dir="$RUN/haproxy-lua" output
    command -v haproxy >/dev/null 2>&1 || { unavailable $id "haproxy is not installed"; return 0; }
    # (no `| grep -q` here: with pipefail, haproxy's SIGPIPE would fail the test)
    if [[ $(haproxy -vv 2>/dev/null || true) != *"Built with Lua"* ]]; then
        unavailable $id "this haproxy is built without Lua"
        return 0
    fi
    mkdir -p "$dir"
    free_port
    render "$HERE/haproxy/haproxy.cfg" "$dir/haproxy.cfg"
    if ! output=$(haproxy -c -q -f "$dir/haproxy.cfg" 2>&1); then
        unavailable $id "haproxy refused the config: $(printf '%s\n' "$output" | grep -m 1 -iE 'alert|error' || printf '%s' "$output" | head -n 1)"
        return 0
    fi
    start_proc $id haproxy -db -f "$dir/haproxy.cfg"
    TARGET_PID=$LAST_PID
    if ! wait_ready "http://127.0.0.1:$PORT/" "$TARGET_PID"; then
        unavailable $id "haproxy did not start: $(tail -n 2 "$RUN/$id.log" | tr '\n' ' ')"
        return 0
    fi
    local url="http://127.0.0.1:$PORT/bench/"
    check_served $id "$url" || return 0
    check_rejected $id "$url" "without the token" || return 0
    check_renewed $id "$url" || return 0
    note $id "per-thread Lua table ($WORKERS threads)"
    measure $id "$url" "$TARGET_PID"
}

target_portcullis_keyless() {
    local id=portcullis-keyless
    start_portcullis $id api-keyless.json memory || { unavailable $id "$REASON"; return 0; }
    local url="http://127.0.0.1:$PORT/bench/"
    check_served $id "$url" || return 0
    measure $id "$url" "$TARGET_PID"
}

target_portcullis_token() {
    local id=portcullis-token
    start_portcullis $id api-token.json memory || { unavailable $id "$REASON"; return 0; }
    seed_portcullis_key || { unavailable $id "$REASON"; return 0; }
    local url="http://127.0.0.1:$PORT/bench/"
    check_served $id "$url" || return 0
    check_rejected $id "$url" "without the token" || return 0
    check_rejected $id "$url" "with an unknown token" -H "x-session-key: unknown-$RANDOM$RANDOM" || return 0
    measure $id "$url" "$TARGET_PID"
}

# The forum pre hook (or the renew-always hook) on the memory or Redis store.
target_portcullis_hook() {
    local id=$1 store=$2 hook_name=$3 hook_path=$4
    HOOK_NAME=$hook_name HOOK_PATH=$hook_path start_portcullis "$id" api-forum.json "$store" ||
        { unavailable "$id" "$REASON"; return 0; }
    seed_portcullis_key || { unavailable "$id" "$REASON"; return 0; }
    local url="http://127.0.0.1:$PORT/bench/"
    check_served "$id" "$url" || return 0
    check_rejected "$id" "$url" "without the token" || return 0
    check_renewed "$id" "$url" || return 0
    if [ "$store" = "redis" ]; then
        COUNT_REDIS=1 measure "$id" "$url" "$TARGET_PID"
    else
        measure "$id" "$url" "$TARGET_PID"
    fi
}

# The forum pre hook on the memory store with tracing on: every request's
# spans go over OTLP/HTTP to a local stand-in collector (otlp-sink.py).
target_portcullis_traced() {
    local id=portcullis-forum-traced sink_port report="$RUN/otlp-sink.counts"
    command -v python3 >/dev/null 2>&1 || { unavailable $id "python3 is not installed (it runs the OTLP sink)"; return 0; }
    free_port
    sink_port=$PORT
    start_proc otlp-sink python3 "$HERE/portcullis/otlp-sink.py" "$sink_port" "$report"
    local sink_pid=$LAST_PID
    OPENTELEMETRY="{\"enabled\": true, \"exporter\": \"http\", \"endpoint\": \"127.0.0.1:$sink_port\", \"span_batch_config\": {\"batch_timeout\": 1}}" \
        HOOK_NAME=forumRenewal HOOK_PATH="$ROOT/plugins/forum-renewal.js" start_portcullis $id api-forum.json memory ||
        { unavailable $id "$REASON"; return 0; }
    seed_portcullis_key || { unavailable $id "$REASON"; return 0; }
    local url="http://127.0.0.1:$PORT/bench/"
    check_served $id "$url" || return 0
    check_rejected $id "$url" "without the token" || return 0
    measure $id "$url" "$TARGET_PID"
    # Stopping the gateway sends its last spans; then the sink writes its counts.
    stop_proc "$TARGET_PID"
    TARGET_PID=""
    stop_proc "$sink_pid"
    if [ -s "$report" ]; then
        note $id "the sink received $(cut -d' ' -f1 "$report") OTLP export requests, $(($(cut -d' ' -f2 "$report") / 1048576)) MiB"
    else
        note $id "the sink wrote no counts"
    fi
}

# Runs one target if selected, then stops whatever it started.
run_target() {
    local id=$1
    shift
    if ! selected "$id"; then
        STATUS[$id]="skipped (not in ONLY)"
        return 0
    fi
    say "== $id: ${LABEL[$id]}"
    TARGET_PID=""
    "$@" || warn "$id: the target's set-up failed"
    [ "${STATUS[$id]}" != "pending" ] || invalid "$id" "the target did not complete"
    if [ -n "$TARGET_PID" ]; then
        if [[ $id == portcullis-* ]] && ! alive "$TARGET_PID"; then
            note "$id" "the process had exited by the end of the run"
        fi
        stop_proc "$TARGET_PID"
    fi
    TARGET_PID=""
}

# ------------------------------------------------------------------- main --

START=$(date +%s)
install_packages

for tool in nginx wrk curl ss; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "run.sh: $tool is required and not installed" >&2
        exit 1
    fi
done

# Portcullis, release, in its own scratch folder (incremental after the first build).
PORTCULLIS=""
BUILD_REASON=""
BUILD_SECONDS=0
if [ -n "$PORTCULLIS_BIN" ]; then
    if [ -x "$PORTCULLIS_BIN" ]; then PORTCULLIS=$PORTCULLIS_BIN; else BUILD_REASON="PORTCULLIS_BIN=$PORTCULLIS_BIN is not executable"; fi
elif ! command -v swift >/dev/null 2>&1; then
    BUILD_REASON="swift is not installed"
else
    say "building portcullis (release, scratch folder .build-bench; the first build takes 5-10 minutes)"
    build_start=$(date +%s)
    if (cd "$ROOT" && timeout "$BUILD_TIMEOUT" swift build -c release --product portcullis --scratch-path .build-bench $RELEASE_SWIFT_FLAGS) \
        >"$RUN/build.log" 2>&1; then
        PORTCULLIS="$ROOT/.build-bench/release/portcullis"
        BUILD_SECONDS=$(($(date +%s) - build_start))
        say "built $PORTCULLIS in ${BUILD_SECONDS}s"
    else
        BUILD_REASON="the release build failed"
        warn "the release build failed; its last lines:"
        tail -n 25 "$RUN/build.log" >&2
    fi
fi

NJS_VERSION=$(dpkg-query -W -f='${Version}' libnginx-mod-http-js 2>/dev/null || echo "?")
if [ -f /usr/share/lua/5.1/resty/redis.lua ]; then
    LUA_REDIS_CLIENT="Redis client: resty.redis"
else
    LUA_REDIS_CLIENT="Redis client: lua/resp.lua (no lua-resty-redis in Debian)"
fi

# The upstream and Redis run for the whole benchmark.
mkdir -p "$RUN/upstream"
free_port
UPSTREAM_PORT=$PORT
render "$HERE/nginx/upstream.conf" "$RUN/upstream/nginx.conf"
start_proc upstream nginx -p "$RUN/upstream/" -e "$RUN/upstream/error.log" -c "$RUN/upstream/nginx.conf" -g 'daemon off;'
UPSTREAM_PID=$LAST_PID
if ! wait_ready "http://127.0.0.1:$UPSTREAM_PORT/" "$UPSTREAM_PID"; then
    echo "run.sh: the upstream nginx did not start:" >&2
    cat "$RUN/upstream.log" "$RUN/upstream/error.log" >&2 2>/dev/null || true
    exit 1
fi
say "upstream nginx on 127.0.0.1:$UPSTREAM_PORT (pid $UPSTREAM_PID)"

REDIS_PORT=""
REDIS_REASON=""
if command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1; then
    free_port
    start_proc redis redis-server --bind 127.0.0.1 --port "$PORT" --save '' --appendonly no --daemonize no
    REDIS_PID=$LAST_PID
    ready=""
    for _ in $(seq 100); do
        alive "$REDIS_PID" || break
        if [ "$(redis-cli -h 127.0.0.1 -p "$PORT" PING 2>/dev/null)" = "PONG" ]; then ready=yes; break; fi
        sleep 0.1
    done
    if [ -n "$ready" ]; then
        REDIS_PORT=$PORT
        say "redis-server on 127.0.0.1:$REDIS_PORT (pid $REDIS_PID)"
    else
        REDIS_REASON="redis-server did not start: $(tail -n 1 "$RUN/redis.log")"
        warn "$REDIS_REASON"
    fi
else
    REDIS_REASON="redis-server is not installed"
fi

row upstream "upstream served directly (nginx \`return 200\`)"
row nginx-proxy "nginx, plain proxy"
row nginx-njs "nginx + njs, forum logic (in-memory object)"
row nginx-lua-shdict "nginx + Lua, forum logic on lua_shared_dict"
row nginx-lua-redis "nginx + Lua, forum logic on Redis"
row nginx-lua-redis-always "nginx + Lua on Redis, renew every request"
row haproxy-lua "HAProxy + Lua, forum logic (Lua table)"
row portcullis-keyless "Portcullis (a) keyless proxy, no JS"
row portcullis-token "Portcullis (b) token auth, no JS, memory"
row portcullis-forum-memory "Portcullis (c) forum pre hook, memory"
row portcullis-forum-redis "Portcullis (d) forum pre hook, Redis + local cache"
row portcullis-always-redis "Portcullis (e) TykSetKeyData every request, Redis + local cache"
row portcullis-always-memory "Portcullis (f) TykSetKeyData every request, memory"
row portcullis-forum-traced "Portcullis (c) with tracing on: spans over OTLP/HTTP to a local sink"

say "measuring: wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency after a ${WARMUP}s warm-up, per target"
run_target upstream target_upstream
run_target nginx-proxy target_nginx_proxy
run_target nginx-njs target_nginx_njs
run_target nginx-lua-shdict target_nginx_lua_shdict
run_target nginx-lua-redis target_nginx_lua_redis nginx-lua-redis false
run_target nginx-lua-redis-always target_nginx_lua_redis nginx-lua-redis-always true
run_target haproxy-lua target_haproxy_lua
run_target portcullis-keyless target_portcullis_keyless
run_target portcullis-token target_portcullis_token
run_target portcullis-forum-memory target_portcullis_hook portcullis-forum-memory memory forumRenewal "$ROOT/plugins/forum-renewal.js"
run_target portcullis-forum-redis target_portcullis_hook portcullis-forum-redis redis forumRenewal "$ROOT/plugins/forum-renewal.js"
run_target portcullis-always-redis target_portcullis_hook portcullis-always-redis redis renewAlways "$HERE/portcullis/renew-always.js"
run_target portcullis-always-memory target_portcullis_hook portcullis-always-memory memory renewAlways "$HERE/portcullis/renew-always.js"
run_target portcullis-forum-traced target_portcullis_traced

# ---------------------------------------------------------------- results --

ratio() {
    local value=$1 base=$2
    if [ -z "$value" ] || [ -z "$base" ] || [ "$base" = "0" ]; then echo "–"; return; fi
    awk -v v="$value" -v b="$base" 'BEGIN {printf "%.2f", v / b}'
}

BASE_UPSTREAM=""
BASE_NJS=""
[ "${STATUS[upstream]}" = "ok" ] && BASE_UPSTREAM=${RPS[upstream]}
[ "${STATUS[nginx-njs]}" = "ok" ] && BASE_NJS=${RPS[nginx-njs]}

table() {
    local id rss notes
    echo "| target | requests/s | p50 ms | p99 ms | CPU µs/request | context switches/request | × upstream direct | × nginx+njs | RSS MiB idle → after load | notes |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---|---|"
    for id in "${ORDER[@]}"; do
        rss="–"
        if [ -n "${RSS_IDLE[$id]:-}" ] && [ -n "${RSS_AFTER[$id]:-}" ]; then
            rss="$(mib "${RSS_IDLE[$id]}") → $(mib "${RSS_AFTER[$id]}")"
        fi
        notes=${NOTE[$id]}
        if [ "${STATUS[$id]}" = "ok" ] || [[ ${STATUS[$id]} == invalid:* && -n "${RPS[$id]:-}" ]]; then
            [ "${STATUS[$id]}" = "ok" ] || notes="**${STATUS[$id]}**${notes:+; $notes}"
            echo "| ${LABEL[$id]} | ${RPS[$id]} | ${P50[$id]} | ${P99[$id]} | ${CPU_US[$id]:-–} | ${CSW[$id]:-–} | $(ratio "${RPS[$id]}" "$BASE_UPSTREAM") | $(ratio "${RPS[$id]}" "$BASE_NJS") | $rss | $notes |"
        else
            echo "| ${LABEL[$id]} | – | – | – | – | – | – | – | – | ${STATUS[$id]}${notes:+; $notes} |"
        fi
    done
}

CPU_MODEL=$(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null || true)
version_of() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "not installed"; }
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo "?")
if [ -n "$(git -C "$ROOT" status --porcelain -- Sources Package.swift plugins 2>/dev/null)" ]; then
    COMMIT="$COMMIT (with uncommitted changes in Sources/, Package.swift or plugins/)"
fi
TABLE=$(table)
ELAPSED=$(($(date +%s) - START))

say ""
say "$TABLE"
say ""

{
    echo "# Peer benchmark results"
    echo
    echo "Written by \`Benchmarks/peers/run.sh\` (\`make bench-peers\`); see \`Benchmarks/README.md\` for what each row measures."
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- machine: $(nproc) CPUs, ${CPU_MODEL:-unknown CPU}, $(uname -sr)"
    echo "- load: wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency, after a ${WARMUP}s warm-up, on the same machine as the servers"
    echo "- nginx worker_processes / HAProxy nbthread: $WORKERS"
    if [ -n "$PORTCULLIS_BIN" ]; then
        echo "- Portcullis: commit $COMMIT, the binary given as PORTCULLIS_BIN ($PORTCULLIS_BIN), --log-level $PORTCULLIS_LOG_LEVEL"
    else
        echo "- Portcullis: commit $COMMIT, release build${RELEASE_SWIFT_FLAGS:+ with $RELEASE_SWIFT_FLAGS}, --log-level $PORTCULLIS_LOG_LEVEL"
    fi
    echo "- versions: nginx $(version_of nginx), njs $(version_of libnginx-mod-http-js), lua-nginx-module $(version_of libnginx-mod-http-lua), HAProxy $(version_of haproxy), redis-server $(version_of redis-server), wrk $(version_of wrk)"
    [ -z "$ONLY" ] || echo "- only these targets were run: $ONLY"
    echo "- whole run: ${ELAPSED}s, of which ${BUILD_SECONDS}s building Portcullis"
    echo
    echo "$TABLE"
    echo
    echo "RSS is VmRSS from /proc/PID/status: for nginx the master plus its workers; \"idle\" is after start-up and"
    echo "the first check requests, before the warm-up; \"after load\" is right after the measured run."
    echo "CPU µs/request is the target's user + system time (/proc/PID/stat, with its child processes) over the"
    echo "measured run divided by the requests wrk counted; wrk's own CPU and the upstream's are not in it."
    echo "Context switches/request counts every thread's voluntary and involuntary switches"
    echo "(/proc/PID/task/*/status, with child processes) over the same run and requests."
} >"$RESULTS"
say "results written to $RESULTS (${ELAPSED}s)"
