#!/usr/bin/env bash
# Paired comparison of two portcullis binaries on one benchmark row.
#
#   bash Benchmarks/peers/pair.sh OLD_BINARY NEW_BINARY      (or: make bench-pair OLD=... NEW=...)
#
# Both binaries serve the same row at the same time, in front of one nginx
# upstream (and, for the Redis rows, a redis-server each). wrk loads them in
# turn, a short round each, so both see the same minutes of a noisy machine;
# a sequential run (`make bench-peers`) cannot resolve a change of 5-10% on
# such a machine. Per round it reads req/s and p99 from wrk, and CPU, JS
# worker CPU and context switches per request from /proc.
#
# The second process to be loaded in a round has measured a few per cent
# slower even when both binaries were the same, so by default the pair runs
# twice, NEW second and then NEW first; read both lines.
#
# Everything listens on 127.0.0.1 on free ports; every process started here
# is stopped by its pid on exit.
#
# Knobs (environment):
#   ROW=forum-memory  forum-memory | forum-redis | always-memory | always-redis | token | keyless
#                     (the rows of the same names in Benchmarks/README.md)
#   ROUNDS=8          rounds per order
#   ROUND_SECONDS=3   seconds of load per binary per round
#   CONNECTIONS=32    wrk connections;  THREADS=2  wrk threads
#   WARMUP=2          seconds of warm-up load per binary before the first round
#   ORDERS=both       both | once (NEW second only)
#   KEEP_RUN_DIR=1    keep the temp folder (configs, logs)
set -euo pipefail

usage() { awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "${BASH_SOURCE[0]}"; }
case "${1:-}" in -h | --help | "") usage; [ -n "${1:-}" ] && exit 0 || exit 2 ;; esac
[ $# -eq 2 ] || { usage >&2; exit 2; }
OLD=$1
NEW=$2

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=common.sh
source "$HERE/common.sh"
ROW=${ROW:-forum-memory}
ROUNDS=${ROUNDS:-8}
ROUND_SECONDS=${ROUND_SECONDS:-3}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
WARMUP=${WARMUP:-2}
ORDERS=${ORDERS:-both}
KEEP_RUN_DIR=${KEEP_RUN_DIR:-0}
TOKEN=bench-session-key-0001
TTL=3600
WORKERS=$(nproc)
SECRET=pair-admin-secret-$$-$RANDOM

fail() { echo "pair.sh: $*" >&2; exit 2; }
say() { printf '%s\n' "$*"; }
for knob in ROUNDS ROUND_SECONDS CONNECTIONS THREADS WARMUP; do
    [[ ${!knob} =~ ^[0-9]+$ ]] || fail "$knob must be a whole number, got '${!knob}'"
done
[ "$ROUNDS" -ge 1 ] && [ "$ROUND_SECONDS" -ge 1 ] && [ "$CONNECTIONS" -ge "$THREADS" ] && [ "$THREADS" -ge 1 ] ||
    fail "ROUNDS and ROUND_SECONDS must be at least 1, and CONNECTIONS at least THREADS (at least 1)"
for binary in "$OLD" "$NEW"; do [ -x "$binary" ] || fail "$binary is not an executable file"; done
case "$ROW" in
    forum-memory | forum-redis) API=api-forum.json HOOK_NAME=forumRenewal HOOK_PATH=$ROOT/plugins/forum-renewal.js ;;
    always-memory | always-redis) API=api-forum.json HOOK_NAME=renewAlways HOOK_PATH=$HERE/portcullis/renew-always.js ;;
    token) API=api-token.json HOOK_NAME="" HOOK_PATH="" ;;
    keyless) API=api-keyless.json HOOK_NAME="" HOOK_PATH="" ;;
    *) fail "ROW must be forum-memory, forum-redis, always-memory, always-redis, token or keyless; got '$ROW'" ;;
esac
STORE=memory
[[ $ROW == *-redis ]] && STORE=redis
case "$ORDERS" in both | once) ;; *) fail "ORDERS must be both or once, got '$ORDERS'" ;; esac
tools=(nginx wrk curl ss python3)
[ "$STORE" = redis ] && tools+=(redis-server)
for tool in "${tools[@]}"; do
    command -v "$tool" >/dev/null 2>&1 || fail "$tool is required (make bench-peers installs it)"
done

RUN=$(mktemp -d /tmp/portcullis-pair.XXXXXX)
chmod 755 "$RUN"
STARTED=()
cleanup() {
    local pid
    for pid in "${STARTED[@]}"; do kill "$pid" 2>/dev/null || true; done
    sleep 0.5
    for pid in "${STARTED[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    [ "$KEEP_RUN_DIR" = 1 ] && echo "run folder kept: $RUN" || rm -rf "$RUN"
}
trap cleanup EXIT

# A free loopback port: bound and released by the kernel's choice.
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Waits up to 10 s for `url` to answer anything.
wait_ready() {
    local _
    for _ in $(seq 100); do
        curl -s -o /dev/null --max-time 1 "$1" && return 0
        sleep 0.1
    done
    return 1
}

UPSTREAM_PORT=$(free_port)
mkdir -p "$RUN/upstream"
PORT=$UPSTREAM_PORT render "$HERE/nginx/upstream.conf" "$RUN/upstream/nginx.conf"
nginx -p "$RUN/upstream/" -e "$RUN/upstream/error.log" -c "$RUN/upstream/nginx.conf" -g 'daemon off;' >"$RUN/upstream.log" 2>&1 &
STARTED+=($!)
wait_ready "http://127.0.0.1:$UPSTREAM_PORT/bench/" || fail "the nginx upstream did not start: $(tail -n 1 "$RUN/upstream/error.log" 2>/dev/null)"

# Starts one binary on the row; sets PID_<name> and PORT_<name>.
start_node() {
    local name=$1 binary=$2 dir="$RUN/$1" port redis_port args code
    mkdir -p "$dir/apps"
    port=$(free_port)
    PORT=$port APP_PATH="$dir/apps" MIDDLEWARE_PATH="$dir/middleware" render "$HERE/portcullis/tyk.conf" "$dir/tyk.conf"
    render "$HERE/portcullis/$API" "$dir/apps/$API"
    args=(serve --config "$dir/tyk.conf" --port "$port" --log-level warning)
    if [ "$STORE" = redis ]; then
        redis_port=$(free_port)
        redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no >"$dir/redis.log" 2>&1 &
        STARTED+=($!)
        args+=(--store "redis://127.0.0.1:$redis_port/0")
        sleep 0.3
    fi
    "$binary" "${args[@]}" >"$dir/log" 2>&1 &
    STARTED+=($!)
    printf -v "PID_$name" '%s' "$!"
    printf -v "PORT_$name" '%s' "$port"
    wait_ready "http://127.0.0.1:$port/hello" || fail "$binary did not start: $(tail -n 3 "$dir/log" | tr '\n' ' ')"
    if [ "$API" != api-keyless.json ]; then
        code=$(curl -s -o "$dir/seed" -w '%{http_code}' --max-time 5 -X POST -H "x-tyk-authorization: $SECRET" \
            -H 'Content-Type: application/json' --data "$(session_json "$TOKEN")" "http://127.0.0.1:$port/tyk/keys/$TOKEN")
        [ "$code" = 200 ] || fail "creating the key on $binary failed: $code $(head -c 200 "$dir/seed")"
    fi
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "x-session-key: $TOKEN" "http://127.0.0.1:$port/bench/")
    [ "$code" = 200 ] || fail "$binary answered $code to the row's request"
}

# utime+stime ticks of a whole process, of its JS worker threads, and its context switches.
process_ticks() { sed -e 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
worker_ticks() {
    local task total=0
    for task in /proc/"$1"/task/*; do
        case "$(cat "$task/comm" 2>/dev/null)" in
            portcullis-js*) total=$((total + $(sed -e 's/^.*) //' "$task/stat" | awk '{print $12 + $13}'))) ;;
        esac
    done
    echo "$total"
}
switches() { cat /proc/"$1"/task/*/status 2>/dev/null | awk '/ctxt_switches/ {s += $2} END {print s}'; }

# One round on one node: prints "req/s cpu_us worker_us switches p99_ms".
load_round() {
    local pid=$1 port=$2 t0 w0 s0 out total
    t0=$(process_ticks "$pid"); w0=$(worker_ticks "$pid"); s0=$(switches "$pid")
    out=$(timeout $((ROUND_SECONDS + 30)) wrk -t"$THREADS" -c"$CONNECTIONS" -d"${ROUND_SECONDS}s" --timeout 5s --latency \
        -H "x-session-key: $TOKEN" "http://127.0.0.1:$port/bench/")
    total=$(awk '/ requests in / {print $1}' <<<"$out")
    [ -n "$total" ] && [ "$total" -gt 0 ] || fail "wrk served no requests on port $port"
    if grep -q 'Non-2xx' <<<"$out"; then fail "port $port answered non-2xx: $(grep 'Non-2xx' <<<"$out")"; fi
    awk -v rps="$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")" -v t=$(($(process_ticks "$pid") - t0)) \
        -v w=$(($(worker_ticks "$pid") - w0)) -v s=$(($(switches "$pid") - s0)) -v n="$total" -v hz="$(getconf CLK_TCK)" \
        -v p99="$(awk '$1 == "99%" {print $2}' <<<"$out")" 'BEGIN {
            ms = p99 + 0; if (p99 ~ /us$/) ms /= 1000; else if (p99 ~ /[^m]s$/) ms *= 1000
            printf "%.0f %.1f %.1f %.2f %.2f\n", rps, t * 1e6 / hz / n, w * 1e6 / hz / n, s / n, ms }'
}

# Alternates rounds between FIRST and SECOND, then prints the medians and the paired ratio.
pair() {
    local first=$1 second=$2 round line
    local -a a=() b=()
    say "-- $first loaded first, $second second; $ROUNDS rounds of ${ROUND_SECONDS}s each"
    for round in $(seq "$ROUNDS"); do
        a[round]=$(load_round "$(eval echo "\$PID_$first")" "$(eval echo "\$PORT_$first")")
        b[round]=$(load_round "$(eval echo "\$PID_$second")" "$(eval echo "\$PORT_$second")")
        printf '   round %2d  %-3s %s | %-3s %s\n' "$round" "$first" "${a[round]}" "$second" "${b[round]}"
    done
    python3 - "$first" "$second" "${a[@]}" -- "${b[@]}" <<'PY'
import statistics, sys
first, second = sys.argv[1], sys.argv[2]
rest = sys.argv[3:]
cut = rest.index("--")
a = [list(map(float, r.split())) for r in rest[:cut]]
b = [list(map(float, r.split())) for r in rest[cut + 1:]]
med = lambda rows, i: statistics.median(r[i] for r in rows)
names = [("req/s", 0), ("CPU µs/request", 1), ("JS worker µs/request", 1), ("context switches/request", 2), ("p99 ms", 2)]
for i, (name, digits) in enumerate(names):
    print(f"   median {name:<26} {first} {med(a, i):>9.{digits}f}   {second} {med(b, i):>9.{digits}f}")
ratios = sorted(y[0] / x[0] for x, y in zip(a, b))
print(f"   paired median {second}/{first} req/s: {statistics.median(ratios):.3f} (range {ratios[0]:.2f}-{ratios[-1]:.2f})")
PY
}

say "row $ROW ($STORE store), upstream nginx on 127.0.0.1:$UPSTREAM_PORT"
say "old: $OLD"
say "new: $NEW"
start_node old "$OLD"
start_node new "$NEW"
if [ "$WARMUP" -gt 0 ]; then
    for name in old new; do
        timeout $((WARMUP + 20)) wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" -H "x-session-key: $TOKEN" \
            "http://127.0.0.1:$(eval echo "\$PORT_$name")/bench/" >/dev/null 2>&1 || true
    done
fi
say "columns per round: req/s, CPU µs/request, JS worker µs/request, context switches/request, p99 ms"
pair old new
[ "$ORDERS" = both ] && pair new old
exit 0
