#!/usr/bin/env bash
# Bounded soak: two portcullis nodes on one redis-server, every session key
# expiring every second and renewed by the forum renewal pre hook on both
# nodes at once, under wrk load. Fails on any 401 or other non-2xx answer,
# any error-level log line, or resident memory that keeps growing after the
# warm-up. Everything listens on 127.0.0.1 and stops by itself.
#
#   make soak                                    # SOAK_SECONDS=300
#   SOAK_SECONDS=120 PORTCULLIS_BIN=.build/release/portcullis bash soak/run.sh
#
# Knobs (environment): SOAK_SECONDS (300), CONNECTIONS (64, split over the two
# nodes), WRK_THREADS (2 per wrk process), KEY_COUNT (200), RSS_BOUND_MB (64),
# RSS_WARMUP_SECONDS (30), PORTCULLIS_BIN (skip the build), KEEP_TMP=1 (keep
# the temporary folder with logs even when the soak passes), JSVM_NESTED_CALLS
# (true or false: the nodes' jsvm_nested_calls; unset, the gateway's default).
# Writes soak/last-results.md and soak/last-rss.csv. See soak/README.md.

set -euo pipefail

SOAK_SECONDS=${SOAK_SECONDS:-300}
CONNECTIONS=${CONNECTIONS:-64}
WRK_THREADS=${WRK_THREADS:-2}
KEY_COUNT=${KEY_COUNT:-200}
RSS_BOUND_MB=${RSS_BOUND_MB:-64}
RSS_WARMUP_SECONDS=${RSS_WARMUP_SECONDS:-30}
KEEP_TMP=${KEEP_TMP:-0}
JSVM_NESTED_CALLS=${JSVM_NESTED_CALLS:-}
SAMPLE_INTERVAL=10      # seconds between RSS samples while the load runs
SETTLE_SECONDS=5        # wait after the load before the last RSS sample
MARGIN_SECONDS=150      # startup, key creation, settling and shutdown
KEY_PREFIX=soak-
AUTH_HEADER=x-session-key
API_ID=soak-api

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SOAK_DIR=$ROOT/soak
PLUGIN=$ROOT/plugins/forum-renewal.js
RESULTS_MD=$SOAK_DIR/last-results.md
RESULTS_CSV=$SOAK_DIR/last-rss.csv

say() { printf 'soak: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

for knob in SOAK_SECONDS CONNECTIONS WRK_THREADS KEY_COUNT RSS_BOUND_MB RSS_WARMUP_SECONDS; do
    [[ ${!knob} =~ ^[0-9]+$ ]] || die "$knob must be a whole number, got '${!knob}'"
done
(( SOAK_SECONDS >= 1 )) || die "SOAK_SECONDS must be at least 1"
[[ -z $JSVM_NESTED_CALLS || $JSVM_NESTED_CALLS == true || $JSVM_NESTED_CALLS == false ]] ||
    die "JSVM_NESTED_CALLS must be true or false, got '$JSVM_NESTED_CALLS'"
(( KEY_COUNT >= 1 )) || die "KEY_COUNT must be at least 1"
PER_NODE_CONNECTIONS=$(( CONNECTIONS / 2 ))
(( WRK_THREADS >= 1 && PER_NODE_CONNECTIONS >= WRK_THREADS )) ||
    die "CONNECTIONS/2 ($PER_NODE_CONNECTIONS) must be at least WRK_THREADS ($WRK_THREADS)"
[[ -f $PLUGIN ]] || die "missing $PLUGIN"

# ---------------------------------------------------------------- packages
SUDO=""
[[ $(id -u) == 0 ]] || SUDO=sudo
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
if [[ -z ${PORTCULLIS_BIN:-} ]]; then
    command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
    pkg-config --exists javascriptcoregtk-4.1 2>/dev/null || missing+=(libjavascriptcoregtk-4.1-dev)
fi
if (( ${#missing[@]} )); then
    say "installing ${missing[*]}"
    $SUDO apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

# ------------------------------------------------------------------ binary
if [[ -n ${PORTCULLIS_BIN:-} ]]; then
    BIN=$PORTCULLIS_BIN
    [[ $BIN == /* ]] || BIN=$PWD/$BIN
else
    say "building portcullis (release, scratch path .build-soak)"
    # The same flags as `make build` (see the Makefile's RELEASE_SWIFT_FLAGS).
    flags=${RELEASE_SWIFT_FLAGS-$(make -s --no-print-directory -C "$ROOT" release-flags)}
    # shellcheck disable=SC2086 # the flags are words
    (cd "$ROOT" && swift build -c release --product portcullis --scratch-path .build-soak $flags)
    BIN=$ROOT/.build-soak/release/portcullis
fi
[[ -x $BIN ]] || die "portcullis binary not found or not executable: $BIN"

# ------------------------------------------------------ processes & cleanup
WORK=$(mktemp -d "${TMPDIR:-/tmp}/portcullis-soak.XXXXXX")
PIDS=()          # every process this script starts; cleanup stops only these

cleanup() {
    local rc=$?
    trap - EXIT INT TERM HUP
    local pid alive _
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for _ in $(seq 50); do
        alive=0
        for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        (( alive )) || break
        sleep 0.1
    done
    for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    if (( rc != 0 )) || [[ $KEEP_TMP == 1 ]]; then
        say "logs and configs kept in $WORK"
    else
        rm -rf "$WORK"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# Hard stop: the whole run (after the build) is bounded.
DEADLINE=$(( $(date +%s) + SOAK_SECONDS + MARGIN_SECONDS ))
MAIN_PID=$$
(
    while (( $(date +%s) < DEADLINE )); do sleep 1; done
    printf 'soak: error: time limit of %ss reached, stopping\n' "$(( SOAK_SECONDS + MARGIN_SECONDS ))" >&2
    kill -TERM "$MAIN_PID" 2>/dev/null || true
) &
PIDS+=($!)

# Four free loopback ports, held open together so they differ.
read -r REDIS_PORT UPSTREAM_PORT NODE1_PORT NODE2_PORT < <(python3 - <<'PY'
import socket
held = []
for _ in range(4):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    held.append(s)
print(" ".join(str(s.getsockname()[1]) for s in held))
for s in held:
    s.close()
PY
)
[[ -n ${NODE2_PORT:-} ]] || die "could not find free ports"

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# wait_until SECONDS PID WHAT LOG COMMAND...: polls COMMAND until it succeeds,
# failing early when PID has exited.
wait_until() {
    local seconds=$1 pid=$2 what=$3 log=$4 i
    shift 4
    for i in $(seq $(( seconds * 10 ))); do
        "$@" && return 0
        if ! kill -0 "$pid" 2>/dev/null; then
            [[ -f $log ]] && tail -n 20 "$log" >&2
            die "$what exited during startup"
        fi
        sleep 0.1
    done
    [[ -f $log ]] && tail -n 20 "$log" >&2
    die "$what not ready after ${seconds}s"
}

# ------------------------------------------------------------------- redis
redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --protected-mode yes \
    --save "" --appendonly no --dir "$WORK" --logfile "$WORK/redis.log" --daemonize no &
REDIS_PID=$!
PIDS+=("$REDIS_PID")
wait_until 10 "$REDIS_PID" redis-server "$WORK/redis.log" port_open "$REDIS_PORT"

# ---------------------------------------------------------------- upstream
python3 "$SOAK_DIR/upstream.py" "$UPSTREAM_PORT" >"$WORK/upstream.log" 2>&1 &
UPSTREAM_PID=$!
PIDS+=("$UPSTREAM_PID")
wait_until 10 "$UPSTREAM_PID" upstream "$WORK/upstream.log" port_open "$UPSTREAM_PORT"

# ----------------------------------------------------------------- configs
SECRET=soak-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
mkdir -p "$WORK/apps"
NESTED_LINE=""
[[ -z $JSVM_NESTED_CALLS ]] || NESTED_LINE=$'\n'"  \"jsvm_nested_calls\": $JSVM_NESTED_CALLS,"
cat >"$WORK/tyk.conf" <<EOF
{
  "listen_address": "127.0.0.1",
  "listen_port": $NODE1_PORT,
  "secret": "$SECRET",
  "app_path": "$WORK/apps",
  "storage": {"type": "redis", "host": "127.0.0.1", "port": $REDIS_PORT, "database": 0},
  "enable_jsvm": true,
  "jsvm_timeout": 5,$NESTED_LINE
  "local_session_cache": {"disable_cached_session_state": false},
  "hash_keys": false
}
EOF
cat >"$WORK/apps/soak.json" <<EOF
{
  "name": "Soak: token auth, every key renewed each second by the forum pre hook",
  "api_id": "$API_ID",
  "org_id": "soak-org",
  "use_keyless": false,
  "active": true,
  "auth": {"auth_header_name": "$AUTH_HEADER"},
  "proxy": {"listen_path": "/soak/", "target_url": "http://127.0.0.1:$UPSTREAM_PORT/", "strip_listen_path": true},
  "config_data": {
    "api_id": "$API_ID",
    "api_name": "soak",
    "session_expires_seconds": "1",
    "auth_header": "$AUTH_HEADER"
  },
  "custom_middleware": {
    "driver": "otto",
    "pre": [{"name": "forumRenewal", "path": "$PLUGIN"}]
  }
}
EOF

# ------------------------------------------------------------------- nodes
STORE_URL="redis://127.0.0.1:$REDIS_PORT/0"
"$BIN" serve --config "$WORK/tyk.conf" --listen 127.0.0.1 --port "$NODE1_PORT" --store "$STORE_URL" \
    --log-level warning >"$WORK/node1.out" 2>"$WORK/node1.err" &
NODE1_PID=$!
PIDS+=("$NODE1_PID")
"$BIN" serve --config "$WORK/tyk.conf" --listen 127.0.0.1 --port "$NODE2_PORT" --store "$STORE_URL" \
    --log-level warning >"$WORK/node2.out" 2>"$WORK/node2.err" &
NODE2_PID=$!
PIDS+=("$NODE2_PID")

node_ready() { curl -fs --max-time 2 -o /dev/null "http://127.0.0.1:$1/hello" 2>/dev/null; }
wait_until 60 "$NODE1_PID" "node 1" "$WORK/node1.err" node_ready "$NODE1_PORT"
wait_until 60 "$NODE2_PID" "node 2" "$WORK/node2.err" node_ready "$NODE2_PORT"
for port in "$NODE1_PORT" "$NODE2_PORT"; do
    hello=$(curl -fsS --max-time 5 "http://127.0.0.1:$port/hello")
    [[ $hello == *'"apis":1'* || $hello == *'"apis": 1'* ]] ||
        die "node on port $port did not load the soak API: $hello"
done
say "redis :$REDIS_PORT (pid $REDIS_PID), upstream :$UPSTREAM_PORT (pid $UPSTREAM_PID)," \
    "node 1 :$NODE1_PORT (pid $NODE1_PID), node 2 :$NODE2_PORT (pid $NODE2_PID)"

# -------------------------------------------------------------------- keys
# Each key is created through the admin API (alternating nodes) with an
# expiry one second away, so the hook starts renewing them straight away.
say "creating $KEY_COUNT keys ${KEY_PREFIX}0..${KEY_PREFIX}$(( KEY_COUNT - 1 ))"
for (( i = 0; i < KEY_COUNT; i++ )); do
    port=$NODE1_PORT
    (( i % 2 )) && port=$NODE2_PORT
    expires=$(( $(date +%s) + 1 ))
    body="{\"expires\": $expires, \"quota_max\": -1, \"quota_remaining\": -1, \"quota_renewal_rate\": 0,
\"rate\": 0, \"per\": 0, \"org_id\": \"soak-org\", \"alias\": \"$KEY_PREFIX$i\",
\"access_rights\": {\"$API_ID\": {\"api_id\": \"$API_ID\", \"api_name\": \"soak\", \"versions\": [\"Default\"], \"allowed_urls\": null}}}"
    code=$(curl -sS --max-time 5 -o "$WORK/admin-response" -w '%{http_code}' -X POST \
        -H "x-tyk-authorization: $SECRET" -H 'Content-Type: application/json' \
        --data "$body" "http://127.0.0.1:$port/tyk/keys/$KEY_PREFIX$i") || code=000
    [[ $code == 200 ]] || die "creating $KEY_PREFIX$i answered $code: $(head -c 300 "$WORK/admin-response" 2>/dev/null)"
done

# One request per node before the load: the route, the hook and the upstream work.
for port in "$NODE1_PORT" "$NODE2_PORT"; do
    code=$(curl -sS --max-time 5 -o "$WORK/smoke-response" -w '%{http_code}' \
        -H "$AUTH_HEADER: ${KEY_PREFIX}0" "http://127.0.0.1:$port/soak/ping") || code=000
    [[ $code == 200 ]] || die "smoke request on port $port answered $code: $(head -c 300 "$WORK/smoke-response")"
done

# -------------------------------------------------------------------- load
rss_kb() {
    local value
    value=$(awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null) || true
    printf '%s' "${value:-0}"
}
# js_workers PORT -> the node's JavaScript worker threads now (its
# portcullis_js_workers gauge; thread names would also count the threads
# JavaScriptCore starts from a worker, which inherit its name)
js_workers() {
    local value
    value=$(curl -fsS --max-time 2 "http://127.0.0.1:$1/metrics" 2>/dev/null |
        awk '$1 == "portcullis_js_workers" { print int($2); exit }') || true
    printf '%s' "${value:-0}"
}
CSV=$WORK/rss.csv
echo "elapsed_s,phase,node1_rss_kb,node2_rss_kb,redis_rss_kb,upstream_rss_kb,node1_js_workers,node2_js_workers" >"$CSV"
sample_rss() {
    printf '%s,%s,%s,%s,%s,%s,%s,%s\n' "$1" "$2" "$(rss_kb "$NODE1_PID")" "$(rss_kb "$NODE2_PID")" \
        "$(rss_kb "$REDIS_PID")" "$(rss_kb "$UPSTREAM_PID")" "$(js_workers "$NODE1_PORT")" "$(js_workers "$NODE2_PORT")" >>"$CSV"
}

say "load: 2 x wrk -t$WRK_THREADS -c$PER_NODE_CONNECTIONS for ${SOAK_SECONDS}s, $KEY_COUNT keys expiring every second"
LOAD_START=$(date +%s)
sample_rss 0 start
(
    t=$SAMPLE_INTERVAL
    while (( t <= SOAK_SECONDS )); do
        while (( $(date +%s) < LOAD_START + t )); do sleep 0.2; done
        sample_rss "$t" load
        t=$(( t + SAMPLE_INTERVAL ))
    done
) &
SAMPLER_PID=$!
PIDS+=("$SAMPLER_PID")

# wrk is started directly (not through a function) so $! is wrk itself.
WRK_OPTIONS=(-t"$WRK_THREADS" -c"$PER_NODE_CONNECTIONS" -d"${SOAK_SECONDS}s" --timeout 10s --latency
             -s "$SOAK_DIR/keys.lua")
WRK_SCRIPT_ARGS=(-- "$KEY_COUNT" "$KEY_PREFIX" "$AUTH_HEADER")
wrk "${WRK_OPTIONS[@]}" "http://127.0.0.1:$NODE1_PORT/soak/ping" "${WRK_SCRIPT_ARGS[@]}" >"$WORK/wrk1.out" 2>&1 &
WRK1_PID=$!
PIDS+=("$WRK1_PID")
wrk "${WRK_OPTIONS[@]}" "http://127.0.0.1:$NODE2_PORT/soak/ping" "${WRK_SCRIPT_ARGS[@]}" >"$WORK/wrk2.out" 2>&1 &
WRK2_PID=$!
PIDS+=("$WRK2_PID")

WRK1_RC=0; wait "$WRK1_PID" || WRK1_RC=$?
WRK2_RC=0; wait "$WRK2_PID" || WRK2_RC=$?
wait "$SAMPLER_PID" || true
sleep "$SETTLE_SECONDS"
sample_rss "$(( $(date +%s) - LOAD_START ))" final

NODE1_ALIVE=yes; kill -0 "$NODE1_PID" 2>/dev/null || NODE1_ALIVE=no
NODE2_ALIVE=yes; kill -0 "$NODE2_PID" 2>/dev/null || NODE2_ALIVE=no
for n in 1 2; do
    port_var=NODE${n}_PORT
    curl -sS --max-time 5 "http://127.0.0.1:${!port_var}/metrics" >"$WORK/node$n.metrics" 2>/dev/null || true
done

# ----------------------------------------------------------------- results
soak_value() { awk -v k="$2" '$1 == "SOAK" && $2 == k { print $3; exit }' "$1"; }
soak_statuses() { awk '$1 == "SOAK" && $2 == "status" { printf "%s%s=%s", sep, $3, $4; sep = " " }' "$1"; }
soak_count() {  # file, awk condition on the status code c
    awk '$1 == "SOAK" && $2 == "status" { c = $3 + 0; if ('"$2"') n += $4 } END { print n + 0 }' "$1"
}
soak_socket_errors() { awk '$1 == "SOAK" && $2 == "errors" { print $3 + $4 + $5 + $6; exit }' "$1"; }
soak_status_errors() { awk '$1 == "SOAK" && $2 == "errors" { print $7; exit }' "$1"; }
ms() { awk -v us="${1:-0}" 'BEGIN { printf "%.2f ms", us / 1000 }'; }
mb() { awk -v kb="${1:-0}" 'BEGIN { printf "%.1f MB", kb / 1024 }'; }
# Log levels as they appear in a node's lines: `<ISO time> <level> portcullis: ...`
ERROR_LEVELS='(error|critical)'
WARNING_LEVELS='warning'
level_lines() { grep -cE "^[^ ]+ $2 " "$1" || true; }  # file, levels -> count
# node, label, levels, count -> the first five such lines of the node, if any
show_level_lines() {
    (( $4 > 0 )) || return 0
    echo
    echo "Node $1 $2 lines (first 5 of $4):"
    echo
    echo '```'
    grep -E "^[^ ]+ $3 " "$WORK/node$1.err" | head -n 5
    echo '```'
}

# rss_column COLUMN -> "start warmup peak end" in kB for one CSV column
rss_column() {
    awk -F, -v col="$1" -v warm="$RSS_WARMUP_SECONDS" '
        NR == 1 { next }
        { v = $col + 0; if (v > peak) peak = v }
        $2 == "start" { start = v }
        $2 == "load" { last_load = v; if (!have_warm && $1 + 0 >= warm) { warmup = v; have_warm = 1 } }
        $2 == "final" { end = v }
        END {
            if (!have_warm) warmup = (warm <= 0 ? start : (last_load != "" ? last_load : start))
            print start + 0, warmup + 0, peak + 0, end + 0
        }' "$CSV"
}

declare -A R
for n in 1 2; do
    f=$WORK/wrk$n.out
    R[req$n]=$(soak_value "$f" requests); R[req$n]=${R[req$n]:-0}
    R[dur$n]=$(soak_value "$f" duration_us); R[dur$n]=${R[dur$n]:-0}
    R[rps$n]=$(awk -v r="${R[req$n]}" -v d="${R[dur$n]}" 'BEGIN { printf "%.0f", (d > 0 ? r / (d / 1e6) : 0) }')
    R[statuses$n]=$(soak_statuses "$f")
    R[s401_$n]=$(soak_count "$f" 'c == 401')
    R[non2xx$n]=$(soak_count "$f" 'c < 200 || c > 299')
    R[sock$n]=$(soak_socket_errors "$f"); R[sock$n]=${R[sock$n]:-0}
    R[wrkstatus$n]=$(soak_status_errors "$f"); R[wrkstatus$n]=${R[wrkstatus$n]:-0}
    R[p50$n]=$(ms "$(soak_value "$f" p50_us)")
    R[p99$n]=$(ms "$(soak_value "$f" p99_us)")
    R[max$n]=$(ms "$(soak_value "$f" max_us)")
    R[errlines$n]=$(level_lines "$WORK/node$n.err" "$ERROR_LEVELS")
    R[warnlines$n]=$(level_lines "$WORK/node$n.err" "$WARNING_LEVELS")
    R[workers_start$n]=$(awk -F, -v col=$(( n + 6 )) '$2 == "start" { print $col + 0; exit }' "$CSV")
    R[workers_max$n]=$(awk -F, -v col=$(( n + 6 )) 'NR > 1 && $col + 0 > m { m = $col + 0 } END { print m + 0 }' "$CSV")
    R[renewals$n]=$(awk '$1 == "portcullis_plugin_session_writes_total" { print $2; exit }' "$WORK/node$n.metrics")
    R[renewals$n]=${R[renewals$n]:-n/a}
    read -r R[rss_start$n] R[rss_warm$n] R[rss_peak$n] R[rss_end$n] < <(rss_column $(( n + 2 )))
    R[growth$n]=$(( R[rss_end$n] - R[rss_warm$n] ))
done
TOTAL_REQ=$(( R[req1] + R[req2] ))
TOTAL_RPS=$(( R[rps1] + R[rps2] ))
TOTAL_401=$(( R[s401_1] + R[s401_2] ))
TOTAL_NON2XX=$(( R[non2xx1] + R[non2xx2] ))
TOTAL_SOCK=$(( R[sock1] + R[sock2] ))
TOTAL_WRKSTATUS=$(( R[wrkstatus1] + R[wrkstatus2] ))
TOTAL_STATUSES=$(cat "$WORK/wrk1.out" "$WORK/wrk2.out" |
    awk '$1 == "SOAK" && $2 == "status" { n[$3] += $4 } END { for (c in n) printf "%s=%s\n", c, n[c] }' |
    sort | paste -sd' ' -)
BOUND_KB=$(( RSS_BOUND_MB * 1024 ))

FAILS=()
(( TOTAL_REQ > 0 )) || FAILS+=("no requests completed")
(( TOTAL_401 == 0 )) || FAILS+=("$TOTAL_401 responses were 401")
(( TOTAL_NON2XX == 0 )) || FAILS+=("$TOTAL_NON2XX responses were not 2xx")
(( TOTAL_WRKSTATUS == 0 )) || FAILS+=("wrk counted $TOTAL_WRKSTATUS responses with status >= 400")
(( TOTAL_SOCK == 0 )) || FAILS+=("$TOTAL_SOCK socket errors (connect/read/write/timeout)")
for n in 1 2; do
    (( R[errlines$n] == 0 )) || FAILS+=("node $n logged ${R[errlines$n]} error-level lines")
    (( R[growth$n] < BOUND_KB )) ||
        FAILS+=("node $n RSS grew $(mb "${R[growth$n]}") after warm-up (bound $RSS_BOUND_MB MB)")
    alive_var=NODE${n}_ALIVE
    [[ ${!alive_var} == yes ]] || FAILS+=("node $n was not running at the end")
    rc_var=WRK${n}_RC
    (( ${!rc_var} == 0 )) || FAILS+=("wrk for node $n exited with ${!rc_var}")
done
VERDICT=PASS
(( ${#FAILS[@]} == 0 )) || VERDICT=FAIL

check() { if eval "$1"; then echo pass; else echo FAIL; fi; }
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
git -C "$ROOT" diff --quiet HEAD 2>/dev/null || COMMIT="$COMMIT (with local changes)"

{
    echo "# Soak results"
    echo
    echo "$(date -u '+%Y-%m-%d %H:%M:%S UTC'), commit $COMMIT, $(nproc) CPUs, binary \`$BIN\`."
    echo "Two nodes on one redis-server, ${SOAK_SECONDS}s of load, $CONNECTIONS connections" \
         "($PER_NODE_CONNECTIONS per node, $WRK_THREADS wrk threads each), $KEY_COUNT keys," \
         "session_expires_seconds 1 (every key renewed by the pre hook every second)${JSVM_NESTED_CALLS:+, jsvm_nested_calls $JSVM_NESTED_CALLS}."
    echo
    echo "| | node 1 | node 2 | total |"
    echo "|---|---|---|---|"
    echo "| requests | ${R[req1]} | ${R[req2]} | $TOTAL_REQ |"
    echo "| req/s | ${R[rps1]} | ${R[rps2]} | $TOTAL_RPS |"
    echo "| statuses | ${R[statuses1]:-none} | ${R[statuses2]:-none} | ${TOTAL_STATUSES:-none} |"
    echo "| 401 | ${R[s401_1]} | ${R[s401_2]} | $TOTAL_401 |"
    echo "| non-2xx | ${R[non2xx1]} | ${R[non2xx2]} | $TOTAL_NON2XX |"
    echo "| wrk non-2xx/3xx (cross-check) | ${R[wrkstatus1]} | ${R[wrkstatus2]} | $TOTAL_WRKSTATUS |"
    echo "| socket errors | ${R[sock1]} | ${R[sock2]} | $TOTAL_SOCK |"
    echo "| latency p50 | ${R[p501]} | ${R[p502]} | |"
    echo "| latency p99 | ${R[p991]} | ${R[p992]} | |"
    echo "| latency max | ${R[max1]} | ${R[max2]} | |"
    echo "| plugin session writes (renewals) | ${R[renewals1]} | ${R[renewals2]} | |"
    echo "| RSS start | $(mb "${R[rss_start1]}") | $(mb "${R[rss_start2]}") | |"
    echo "| RSS after ${RSS_WARMUP_SECONDS}s | $(mb "${R[rss_warm1]}") | $(mb "${R[rss_warm2]}") | |"
    echo "| RSS peak | $(mb "${R[rss_peak1]}") | $(mb "${R[rss_peak2]}") | |"
    echo "| RSS end (${SETTLE_SECONDS}s after load) | $(mb "${R[rss_end1]}") | $(mb "${R[rss_end2]}") | |"
    echo "| RSS end − after warm-up | $(mb "${R[growth1]}") | $(mb "${R[growth2]}") | bound $RSS_BOUND_MB MB |"
    echo "| JavaScript workers at the start / most | ${R[workers_start1]} / ${R[workers_max1]} | ${R[workers_start2]} / ${R[workers_max2]} | |"
    echo "| error-level log lines | ${R[errlines1]} | ${R[errlines2]} | $(( R[errlines1] + R[errlines2] )) |"
    echo "| warning-level log lines | ${R[warnlines1]} | ${R[warnlines2]} | $(( R[warnlines1] + R[warnlines2] )) |"
    echo "| running at the end | $NODE1_ALIVE | $NODE2_ALIVE | |"
    echo
    echo "| check | result |"
    echo "|---|---|"
    echo "| (a) no 401, no non-2xx, no socket errors | $(check '(( TOTAL_REQ > 0 && TOTAL_401 == 0 && TOTAL_NON2XX == 0 && TOTAL_WRKSTATUS == 0 && TOTAL_SOCK == 0 ))') |"
    echo "| (b) no error-level log lines | $(check '(( R[errlines1] == 0 && R[errlines2] == 0 ))') |"
    echo "| (c) RSS growth after warm-up < $RSS_BOUND_MB MB | $(check '(( R[growth1] < BOUND_KB && R[growth2] < BOUND_KB ))') |"
    echo "| nodes and wrk ran to the end | $(check '[[ $NODE1_ALIVE == yes && $NODE2_ALIVE == yes ]] && (( WRK1_RC == 0 && WRK2_RC == 0 ))') |"
    echo
    echo "**Verdict: $VERDICT**"
    if (( ${#FAILS[@]} )); then
        echo
        for reason in "${FAILS[@]}"; do echo "- $reason"; done
    fi
    samples=$(cat "$WORK/wrk1.out" "$WORK/wrk2.out" | awk '$1 == "SOAK" && $2 == "sample" { $1 = ""; $2 = ""; sub(/^  /, ""); print }' | head -n 6)
    if [[ -n $samples ]]; then
        echo
        echo "Non-2xx response bodies (first few):"
        echo
        echo '```'
        echo "$samples"
        echo '```'
    fi
    for n in 1 2; do
        show_level_lines "$n" warning-level "$WARNING_LEVELS" "${R[warnlines$n]}"
        show_level_lines "$n" error-level "$ERROR_LEVELS" "${R[errlines$n]}"
    done
    if grep -q '^portcullis_request_errors_total' "$WORK/node1.metrics" "$WORK/node2.metrics" 2>/dev/null; then
        echo
        echo "Request errors counted by the nodes (/metrics):"
        echo
        echo '```'
        grep -H '^portcullis_request_errors_total' "$WORK/node1.metrics" "$WORK/node2.metrics" | sed "s|^$WORK/||"
        echo '```'
    fi
    echo
    echo "RSS samples (kB) are in soak/last-rss.csv."
} >"$WORK/summary.md"

cp "$WORK/summary.md" "$RESULTS_MD"
cp "$CSV" "$RESULTS_CSV"
cat "$WORK/summary.md"
[[ $VERDICT == PASS ]]
