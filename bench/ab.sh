#!/usr/bin/env bash
# Two gateway builds (or settings) against each other, in the same minutes: both are started on
# CPU 1 beside one fake upstream (CPU 0), warmed, then loaded in turns (A B, B A, ...) at 64
# connections. Prints requests/s and CPU per request of each turn, and the medians. On a machine
# whose speed drifts from minute to minute (these virtual machines), consecutive single runs of
# bench/profile.sh can differ by more than the change being measured; paired turns do not.
# Run bench/run.sh once first (it installs wrk and builds the bench tools).
#
#   bench/ab.sh --a JAR [--b JAR] [--a-opts "<jvm flags>"] [--b-opts "..."] [--a-args "<--props>"]
#               [--b-args "..."] [--rounds N] [--duration S] [--warm S] [--jdk DIR]
#
# --b defaults to --a (compare settings of one build). --warm is per gateway (default 90 s),
# --rounds 6, --duration 15.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=$ROOT/bench
BUILD=$BENCH/.build
A="" B="" A_OPTS="" B_OPTS="" A_ARGS="" B_ARGS="" ROUNDS=6 DURATION=15 WARM=90 JDK=""
while [[ $# -gt 0 ]]; do
    case $1 in
        --a) A=$2; shift ;;
        --b) B=$2; shift ;;
        --a-opts) A_OPTS=$2; shift ;;
        --b-opts) B_OPTS=$2; shift ;;
        --a-args) A_ARGS=$2; shift ;;
        --b-args) B_ARGS=$2; shift ;;
        --rounds) ROUNDS=$2; shift ;;
        --duration) DURATION=$2; shift ;;
        --warm) WARM=$2; shift ;;
        --jdk) JDK=$2; shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
[[ -n $A && -f $A ]] || { echo "--a JAR is needed" >&2; exit 2; }
B=${B:-$A}
[[ -f $BUILD/classes/FakeUpstreamServer.class ]] || { echo "run bench/run.sh once first" >&2; exit 1; }
if [[ -n $JDK ]]; then export PATH=$JDK/bin:$PATH; fi

source "$BENCH/lib.sh"
begin_run ab

start_fake "$RUN" "$BUILD/classes:$BUILD/lib/*"

declare -A PORT PID AUTH
start() { # name jar opts args
    local dir=$RUN/$1 port admin
    mkdir -p "$dir"
    port=$(free_port)
    admin="ab-admin-$RANDOM$RANDOM"
    # shellcheck disable=SC2086 # the options are word lists
    (cd "$dir" && exec taskset -c 1 java -XX:+UseParallelGC -Xms512m -Xmx512m -Xlog:gc:file="$dir/gc.log" $3 \
        -jar "$2" --server.port="$port" \
        --gateway.providers.openrouter.base-url="http://127.0.0.1:$FAKE_PORT/api/v1" \
        --gateway.providers.openrouter.api-key=x --gateway.admin.key="$admin" $4 >"$dir/gateway.log" 2>&1) &
    PID[$1]=$!; PIDS+=("$!"); PORT[$1]=$port
    for _ in $(seq 1 600); do curl -fsS -o /dev/null "http://127.0.0.1:$port/actuator/health" 2>/dev/null && break; sleep 0.3; done
    AUTH[$1]=$(curl -s -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' \
        -d '{"name":"bench","rpm":100000000,"tpm":2000000000,"max_concurrency":100000}' \
        "http://127.0.0.1:$port/admin/keys" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("key",""))')
}
start a "$A" "$A_OPTS" "$A_ARGS"
start b "$B" "$B_OPTS" "$B_ARGS"

turn() { # name seconds -> "requests/s cpu-us-per-request"
    local c0 c1 out n
    c0=$(awk '{print $14 + $15}' "/proc/${PID[$1]}/stat")
    out=$(BENCH_AUTH=${AUTH[$1]} taskset -c 0 wrk -t1 -c64 -d"$2s" --timeout 10s -s "$BENCH/post.lua" \
        "http://127.0.0.1:${PORT[$1]}/api/v1/chat/completions" | sed -n 's/^BENCH_JSON //p')
    c1=$(awk '{print $14 + $15}' "/proc/${PID[$1]}/stat")
    n=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["requests"])' "$out")
    python3 -c 'import sys; n,t,d=int(sys.argv[1]),int(sys.argv[2]),float(sys.argv[3]); print(f"{n/d:.0f} {t*10000/max(n,1):.1f}")' \
        "$n" "$((c1 - c0))" "$2"
}

echo "warming each gateway for $WARM s (in 30 s turns)" >&2
for ((left = WARM; left > 0; left -= 30)); do turn a 30 >/dev/null; turn b 30 >/dev/null; done
echo "round | A requests/s | A µs/request | B requests/s | B µs/request" >&2
: >"$RUN/turns"
for ((r = 1; r <= ROUNDS; r++)); do
    if ((r % 2)); then first=a second=b; else first=b second=a; fi
    declare -A got
    got[$first]=$(turn $first "$DURATION")
    got[$second]=$(turn $second "$DURATION")
    echo "$r | ${got[a]% *} | ${got[a]#* } | ${got[b]% *} | ${got[b]#* }" | tee -a "$RUN/turns" >&2
done
python3 - "$RUN/turns" <<'PY'
import statistics, sys
rows = [[float(x) for x in line.split('|')[1:]] for line in open(sys.argv[1])]
col = lambda i: statistics.median(r[i] for r in rows)
ratio = statistics.median(r[3] / r[1] for r in rows)
print(f"median: A {col(0):.0f} requests/s, {col(1):.1f} µs/request; B {col(2):.0f} requests/s, {col(3):.1f} µs/request; B/A CPU per request {ratio:.3f} (median of the rounds' ratios)")
PY
echo "run directory $RUN" >&2
