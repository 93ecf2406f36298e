#!/usr/bin/env bash
# The stack's floor: nginx, a bare Reactor Netty relay (bench/java/BareRelay.java: the server and
# client the gateway runs on, with no Spring and none of the gateway's work) and the gateway, each
# pinned to CPU 1 in turn, with the fake upstream and wrk on CPU 0, in one run. Rounds alternate
# the three so that all see the same minutes of a noisy machine. Prints requests/s at 64
# connections, CPU per request, and p50/p99 at one connection, as ratios to nginx.
# About 3 minutes plus 1 per round. Run bench/run.sh once first (tools, jar, bench classes).
#
#   bench/floor.sh [--rounds N] [--duration S] [--warm N] [--jdk DIR] [--gw-opts "<jvm flags>"] [--gw-args "<--props>"]
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=$ROOT/bench
BUILD=$BENCH/.build
ROUNDS=2 DURATION=15 WARM=6 JDK="" GW_OPTS="" GW_ARGS=""
while [[ $# -gt 0 ]]; do
    case $1 in
        --rounds) ROUNDS=$2; shift ;;
        --duration) DURATION=$2; shift ;;
        --warm) WARM=$2; shift ;;
        --jdk) JDK=$2; shift ;;
        --gw-opts) GW_OPTS=$2; shift ;;
        --gw-args) GW_ARGS=$2; shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
JAR=$ROOT/target/switchboard-0.1.0-SNAPSHOT.jar
[[ -f $BUILD/classes/FakeUpstreamServer.class && -f $JAR ]] || { echo "run bench/run.sh once first" >&2; exit 1; }
CP="$BUILD/classes:$BUILD/lib/*"
if [[ ! -f $BUILD/classes/BareRelay.class || $BENCH/java/BareRelay.java -nt $BUILD/classes/BareRelay.class ]]; then
    javac -nowarn -d "$BUILD/classes" -cp "$CP" "$BENCH/java/BareRelay.java"
fi
if [[ -n $JDK ]]; then
    export PATH=$JDK/bin:$PATH
fi
ulimit -n 20000 2>/dev/null || true

source "$BENCH/lib.sh"
begin_run floor
JVM=(-XX:+UseParallelGC -Xms512m -Xmx512m $GW_OPTS)

start_fake "$RUN" "$CP"
BASE=http://127.0.0.1:$FAKE_PORT/api/v1

NGINX_PORT=$(free_port)
write_nginx_conf "$RUN" "$FAKE_PORT" "$NGINX_PORT"
taskset -c 1 nginx -e "$RUN/nginx-error.log" -p "$RUN/nginx" -c "$RUN/nginx.conf" &
NGINX_PID=$!; PIDS+=("$NGINX_PID")

(cd "$RUN" && exec taskset -c 1 java "${JVM[@]}" -Dreactor.netty.ioWorkerCount=1 -cp "$CP" BareRelay 0 "$BASE" \
    >"$RUN/relay.log" 2>&1) &
RELAY_PID=$!; PIDS+=("$RELAY_PID")
RELAY_PORT=$(logged_port "$RUN/relay.log")

GW_PORT=$(free_port)
ADMIN_KEY="floor-admin-$RANDOM$RANDOM"
(cd "$RUN" && exec taskset -c 1 java "${JVM[@]}" -jar "$JAR" --server.port="$GW_PORT" \
    --gateway.providers.openrouter.base-url="$BASE" --gateway.providers.openrouter.api-key=x \
    --gateway.admin.key="$ADMIN_KEY" $GW_ARGS >"$RUN/gateway.log" 2>&1) &
GW_PID=$!; PIDS+=("$GW_PID")
for _ in $(seq 1 600); do curl -fsS -o /dev/null "http://127.0.0.1:$GW_PORT/actuator/health" 2>/dev/null && break; sleep 0.3; done
GW_KEY=$(curl -s -H "Authorization: Bearer $ADMIN_KEY" -H 'Content-Type: application/json' \
    -d '{"name":"floor","rpm":100000000,"tpm":2000000000,"max_concurrency":100000}' \
    "http://127.0.0.1:$GW_PORT/admin/keys" | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')

url() { case $1 in nginx) echo "http://127.0.0.1:$NGINX_PORT/api/v1/chat/completions" ;;
    relay) echo "http://127.0.0.1:$RELAY_PORT/api/v1/chat/completions" ;;
    gateway) echo "http://127.0.0.1:$GW_PORT/api/v1/chat/completions" ;; esac; }
pids() { case $1 in nginx) pgrep -P "$NGINX_PID" | tr '\n' ' '; echo "$NGINX_PID" ;; relay) echo "$RELAY_PID" ;; gateway) echo "$GW_PID" ;; esac; }
ticks() { local t=0 p; for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo $t; }
wrk_json() { # target connections seconds
    local auth=""
    [[ $1 != gateway ]] || auth=$GW_KEY
    BENCH_AUTH=$auth taskset -c 0 wrk -t1 -c"$2" -d"$3s" --timeout 10s -s "$BENCH/post.lua" "$(url "$1")" \
        | sed -n 's/^BENCH_JSON //p'
}

# Warm-up: --warm runs of 20 s each (default 6: C2 has compiled both JVMs' paths by then here).
for target in relay gateway; do
    for ((w = 0; w < WARM; w++)); do wrk_json "$target" 64 20 >/dev/null; done
done
wrk_json nginx 64 5 >/dev/null
echo "warmed; load $(cut -d' ' -f1-3 /proc/loadavg)" >&2

: >"$RUN/results.jsonl"
for ((round = 1; round <= ROUNDS; round++)); do
    for target in nginx relay gateway; do
        read -r -a ps <<<"$(pids "$target")"
        c0=$(ticks "${ps[@]}")
        rps=$(wrk_json "$target" 64 "$DURATION")
        c1=$(ticks "${ps[@]}")
        lat=$(wrk_json "$target" 1 10)
        python3 - "$round" "$target" "$rps" "$lat" $((c1 - c0)) "$(getconf CLK_TCK)" >>"$RUN/results.jsonl" <<'EOF'
import json, sys
rnd, target, rps, lat, ticks, hz = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), json.loads(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
print(json.dumps({"round": int(rnd), "target": target, "rps": rps["rps"], "errors": rps["errors_status"] + rps["errors_read"],
                  "cpu_us": ticks / hz * 1e6 / max(rps["requests"], 1), "p50": lat["p50_ms"], "p99": lat["p99_ms"]}))
EOF
        tail -1 "$RUN/results.jsonl" >&2
    done
done
echo "load after $(cut -d' ' -f1-3 /proc/loadavg); run directory $RUN" >&2
python3 - "$RUN/results.jsonl" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print("| round | target | requests/s, c=64 | of nginx | CPU µs/request | p50 / p99 at c=1, ms | errors |")
print("| ---: | --- | ---: | ---: | ---: | --- | ---: |")
for r in rows:
    nginx = next(x for x in rows if x["round"] == r["round"] and x["target"] == "nginx")
    print(f"| {r['round']} | {r['target']} | {r['rps']:.0f} | {100 * r['rps'] / nginx['rps']:.0f}% | {r['cpu_us']:.1f} "
          f"| {r['p50']:.3f} / {r['p99']:.3f} | {r['errors']} |")
EOF
