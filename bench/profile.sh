#!/usr/bin/env bash
# A short profile of the gateway alone, for tuning: the fake upstream and wrk on CPU 0, the gateway
# on CPU 1 (as in bench/run.sh), a warm-up by requests served, then requests/s at 64 connections with
# the gateway's CPU per request, and p50/p99 at 1 connection. 2 to 6 minutes; no nginx, no streams,
# no idle streams. Run bench/run.sh once first (it installs wrk and builds the jar and the bench tools).
#
#   bench/profile.sh [--jfr | --async] [--warmup N] [--duration S] [--c1-rounds N] [--active N [--active-rounds R]] [--gw-args "<--props>"] [--gw-opts "<jvm flags>"] [--jdk DIR]
#
# --c1-rounds N measures the one-connection latency in N consecutive 10 s rounds (default 1) and prints
# each: a tail that stays from round to round is not the JIT settling after the c=64 run.
# bench/slow_requests.py <run directory> then says when the slow ones came (the gateway's access log).
# --jfr records the measured c=64 run with JFR (CPU samples every 1 ms, allocation samples) into
# the run directory and prints bench/jfr_top.py's summary; the GC log is always kept there.
# --syscalls adds a 12 s one-connection run after the rounds and prints, per request, the voluntary
# context switches of each group of the gateway's threads (from /proc, 5 s, no tracer attached) and
# the system calls it made (strace -c -f, 4 s; strace slows the gateway, so only the counts mean
# anything). Counts do not swing with the machine's load as timings do: a change that saves a send
# or a wake-up per request shows here.
# --active N ends with N streams of 20 events 100 ms apart, all opened at once (bench/run.sh --full's
# 2000 active streams), direct and then through the gateway, in --active-rounds R rounds (default 3)
# 45 s apart, and prints each round's times to first event. The first burst runs the streaming path's
# code for the first time, and the JIT recompiles much of it in the next ones too (with
# -XX:+PrintCompilation in --gw-opts each round counts the compilations): read the last rounds.
# With --async the gateway's CPU in the last round goes to active.collapsed and active-top.md.
# --jdk DIR runs the gateway, the fake upstream and the tools on the JDK in DIR (as bench/run.sh --jdk).
# --async does the same with async-profiler (Maven Central's tools.profiler:async-profiler, fetched
# once into bench/.build): CPU samples every 1 ms with whole Java stacks, which JFR undersamples on
# busy event loops; cpu.collapsed (flame-graph input) and bench/stacks_top.py's summary.
# --alloc does the same for allocations (async-profiler's alloc event, a sample every 512 KiB):
# alloc.collapsed, weighted by bytes, and the bytes allocated per request by the measured run.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=$ROOT/bench
BUILD=$BENCH/.build
JFR=0 ASYNC=0 ALLOC=0 SYSCALLS=0 ACTIVE=0 ACTIVE_ROUNDS=3 JDK="" WARMUP=60000 DURATION=15 C1_ROUNDS=1 GW_ARGS="" GW_OPTS=""
while [[ $# -gt 0 ]]; do
    case $1 in
        --jfr) JFR=1 ;;
        --async) ASYNC=1 ;;
        --alloc) ASYNC=1 ALLOC=1 ;;
        --syscalls) SYSCALLS=1 ;;
        --warmup) WARMUP=$2; shift ;;
        --duration) DURATION=$2; shift ;;
        --c1-rounds) C1_ROUNDS=$2; shift ;;
        --active) ACTIVE=$2; shift ;;
        --active-rounds) ACTIVE_ROUNDS=$2; shift ;;
        --gw-args) GW_ARGS=$2; shift ;;
        --gw-opts) GW_OPTS=$2; shift ;;
        --jdk) JDK=$2; shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
JAR=$ROOT/target/switchboard-0.1.0-SNAPSHOT.jar
JAR_STAMP=$ROOT/target/.bench-jar-built
[[ -f $BUILD/classes/FakeUpstreamServer.class ]] || { echo "run bench/run.sh once first" >&2; exit 1; }
if [[ ! -f $JAR || ! -f $JAR_STAMP ]] || [[ -n $(find "$ROOT/src/main" "$ROOT/pom.xml" -newer "$JAR_STAMP" -print -quit) ]]; then
    (cd "$ROOT" && ./mvnw -q -DskipTests package)
    touch "$JAR_STAMP"
fi
if [[ -n $JDK ]]; then
    [[ -x $JDK/bin/java && -x $JDK/bin/jcmd ]] || { echo "--jdk $JDK: no bin/java and bin/jcmd there" >&2; exit 2; }
    export PATH=$JDK/bin:$PATH
fi

source "$BENCH/lib.sh"
begin_run profile

start_fake "$RUN" "$BUILD/classes:$BUILD/lib/*"
GW_PORT=$(free_port)
ADMIN_KEY="profile-admin-$RANDOM$RANDOM"
(cd "$RUN" && exec taskset -c 1 java -XX:+UseParallelGC -Xms512m -Xmx512m -Xlog:gc:file="$RUN/gc.log" $GW_OPTS \
    -jar "$JAR" --server.port="$GW_PORT" \
    --gateway.providers.openrouter.base-url="http://127.0.0.1:$FAKE_PORT/api/v1" \
    --gateway.providers.openrouter.api-key=x --gateway.admin.key="$ADMIN_KEY" $GW_ARGS >"$RUN/gateway.log" 2>&1) &
GW_PID=$!; PIDS+=("$GW_PID")
URL=http://127.0.0.1:$GW_PORT/api/v1/chat/completions
for _ in $(seq 1 600); do curl -fsS -o /dev/null "http://127.0.0.1:$GW_PORT/actuator/health" 2>/dev/null && break; sleep 0.3; done
AUTH=$(curl -s -H "Authorization: Bearer $ADMIN_KEY" -H 'Content-Type: application/json' \
    -d '{"name":"bench","rpm":100000000,"tpm":2000000000,"max_concurrency":100000}' \
    "http://127.0.0.1:$GW_PORT/admin/keys" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("key",""))' 2>/dev/null || true)
export BENCH_AUTH=$AUTH

wrk_json() { taskset -c 0 wrk -t1 -c"$1" -d"$2s" --timeout 10s -s "$BENCH/post.lua" "$URL" | sed -n 's/^BENCH_JSON //p'; }
ticks() { awk '{print $14 + $15}' "/proc/$GW_PID/stat"; }
jit_ticks() {
    local t total=0
    for t in /proc/$GW_PID/task/*; do
        case $(cat "$t/comm" 2>/dev/null) in C1\ Compiler*|C2\ Compiler*) total=$((total + $(awk '{print $14 + $15}' "$t/stat"))) ;; esac
    done
    echo $total
}

# As in bench/run.sh: by requests served and until the JIT uses < 5% of the gateway's CPU.
warmed=0 start=$SECONDS jit_share=100
while ((SECONDS - start < 300)) && ((warmed < WARMUP || jit_share >= 5)); do
    c0=$(ticks) j0=$(jit_ticks)
    n=$(wrk_json 64 10 | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"])' || echo 0)
    c1=$(ticks) j1=$(jit_ticks)
    warmed=$((warmed + n))
    jit_share=$(( (j1 - j0) * 100 / (c1 - c0 > 0 ? c1 - c0 : 1) ))
done
echo "warmed with $warmed requests in $((SECONDS - start)) s (JIT $jit_share% of CPU at the end); load $(cut -d' ' -f1-3 /proc/loadavg)" >&2

if [[ $JFR == 1 ]]; then
    JH=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")
    sed 's/<setting name="period" control="method-sampling-java-interval">10 ms</<setting name="period" control="method-sampling-java-interval">1 ms</' \
        "$JH/lib/jfr/profile.jfc" >"$RUN/fine.jfc"
    jcmd "$GW_PID" JFR.start name=profile settings="$RUN/fine.jfc" >/dev/null
fi
AP_LIB=$BUILD/async-profiler/linux-x64/libasyncProfiler.so
if [[ $ASYNC == 1 ]]; then
    if [[ ! -f $AP_LIB ]]; then
        (cd "$ROOT" && ./mvnw -q dependency:copy -Dartifact=tools.profiler:async-profiler:4.2:jar:linux-x64 \
            -DoutputDirectory="$BUILD/async-profiler")
        (cd "$BUILD/async-profiler" && unzip -o -q async-profiler-4.2-linux-x64.jar 'linux-x64/*')
    fi
    # jcmd reads name=value pairs itself: the agent's options go quoted.
    if [[ $ALLOC == 1 ]]; then
        jcmd "$GW_PID" JVMTI.agent_load "$AP_LIB" '"start,event=alloc,alloc=524288"' >/dev/null
    else
        jcmd "$GW_PID" JVMTI.agent_load "$AP_LIB" '"start,event=cpu,interval=1000000,threads"' >/dev/null
    fi
fi
gc0=$(grep -c 'Pause Young' "$RUN/gc.log" || true)
c0=$(ticks) j0=$(jit_ticks)
RPS=$(wrk_json 64 "$DURATION")
c1=$(ticks) j1=$(jit_ticks)
gc1=$(grep -c 'Pause Young' "$RUN/gc.log" || true)
if [[ $JFR == 1 ]]; then
    jcmd "$GW_PID" JFR.stop name=profile filename="$RUN/gateway.jfr" >/dev/null
fi
if [[ $ASYNC == 1 ]]; then
    if [[ $ALLOC == 1 ]]; then
        # total: each stack weighted by the bytes its samples stand for, not by their number.
        jcmd "$GW_PID" JVMTI.agent_load "$AP_LIB" "\"stop,file=$RUN/alloc.collapsed,collapsed,total\"" >/dev/null
    else
        jcmd "$GW_PID" JVMTI.agent_load "$AP_LIB" "\"stop,file=$RUN/cpu.collapsed,collapsed\"" >/dev/null
    fi
fi
# bench/slow_requests.py reads the one-connection rounds from here on in the gateway's access log.
date -u +%Y-%m-%dT%H:%M:%S.%3N >"$RUN/c1-start"
for ((round = 1; round <= C1_ROUNDS; round++)); do
    LAT=$(wrk_json 1 10)
    if ((C1_ROUNDS > 1)); then
        echo "c=1 round $round: $(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print("p50 %.3f ms, p99 %.3f ms, max %.3f ms" % (d["p50_ms"], d["p99_ms"], d["max_ms"]))' "$LAT")" >&2
    fi
done
if [[ $SYSCALLS == 1 ]]; then
    # Requests counted by the gateway's own access lines, so that both windows count what it served.
    served() { grep -c ' io.switchboard.access ' "$RUN/gateway.log" || true; }
    switches() {
        local t
        for t in /proc/$GW_PID/task/*; do
            printf '%s|%s\n' "$(cat "$t/comm" 2>/dev/null)" "$(awk '/^voluntary_ctxt_switches/ {print $2}' "$t/status" 2>/dev/null)"
        done | sed -E 's/-?[0-9]+\|/-N|/' | awk -F'|' '{s[$1] += $2} END {for (k in s) print k "|" s[k]}' | sort
    }
    wrk_json 1 12 >/dev/null &
    WRK=$!
    sleep 2
    r0=$(served); switches >"$RUN/switches-0"; sleep 5; switches >"$RUN/switches-1"; r1=$(served)
    echo "context switches per request at c=1 ($((r1 - r0)) requests in 5 s), by thread:" >&2
    join -t'|' "$RUN/switches-0" "$RUN/switches-1" \
        | awk -F'|' -v n=$((r1 - r0)) '$3 > $2 && n > 0 {printf "  %6.2f  %s\n", ($3 - $2) / n, $1}' | sort -rn | head -8 >&2
    if command -v strace >/dev/null; then
        r0=$(served)
        timeout -s INT 4 strace -c -f -p "$GW_PID" -o "$RUN/strace.txt" 2>/dev/null || true
        r1=$(served)
        echo "system calls per request at c=1 under strace ($((r1 - r0)) requests):" >&2
        awk -v n=$((r1 - r0)) '$4 ~ /^[0-9]+$/ && $NF != "total" && n > 0 {printf "  %6.2f  %s\n", $4 / n, $NF}' "$RUN/strace.txt" \
            | sort -rn | head -10 >&2
    else
        echo "strace is not installed: no system call counts (apt-get install strace)" >&2
    fi
    wait "$WRK" || true
fi
if ((ACTIVE > 0)); then
    # As bench/run.sh's stream_run: the stream client on CPU 0 with the fake upstream.
    paced() { # url auth
        taskset -c 0 java -XX:+UseParallelGC -Xms256m -Xmx1g -XX:TieredStopAtLevel=1 -Dreactor.netty.ioWorkerCount=1 \
            -cp "$BUILD/classes:$BUILD/lib/*" StreamClient paced "$1" "$ACTIVE" "$ACTIVE" 20 100 "$2" 2>&1 \
            | sed -n 's/^BENCH_JSON //p'
    }
    compiled() { grep -cE '^ *[0-9]+ +[0-9]+ ' "$RUN/gateway.log" || true; }
    for ((round = 1; round <= ACTIVE_ROUNDS; round++)); do
        # A pause past the upstream pool's idle time (20 s, evicted every 20 s) before each round, so
        # that every burst opens its upstream connections anew, as direct does.
        ((round == 1)) || sleep 45
        ACTIVE_DIRECT=$(paced "http://127.0.0.1:$FAKE_PORT/api/v1/chat/completions" "")
        ((round < ACTIVE_ROUNDS)) || [[ $ASYNC != 1 ]] \
            || jcmd "$GW_PID" JVMTI.agent_load "$AP_LIB" '"start,event=cpu,interval=1000000,threads"' >/dev/null
        a0=$(ticks) k0=$(compiled)
        ACTIVE_GW=$(paced "$URL" "$AUTH")
        a1=$(ticks) k1=$(compiled)
        ((round < ACTIVE_ROUNDS)) || [[ $ASYNC != 1 ]] \
            || jcmd "$GW_PID" JVMTI.agent_load "$AP_LIB" "\"stop,file=$RUN/active.collapsed,collapsed\"" >/dev/null
        python3 - "$round" "$ACTIVE_DIRECT" "$ACTIVE_GW" $((a1 - a0)) "$(getconf CLK_TCK)" $((k1 - k0)) <<'EOF'
import json, sys
rnd, d, g = sys.argv[1], json.loads(sys.argv[2] or "{}"), json.loads(sys.argv[3] or "{}")
cpu, compiles = int(sys.argv[4]) / int(sys.argv[5]), int(sys.argv[6])
for name, r in (("direct", d), ("gateway", g)):
    print(f"active round {rnd} {name}: {r.get('ok', 0)} of {r.get('streams', 0)} streams ok, {r.get('errors', 0)} errors,"
          f" first event p50 {r.get('ttfe_p50_ms', float('nan')):.1f} ms, p99 {r.get('ttfe_p99_ms', float('nan')):.1f} ms"
          f" (from the stream opened: {r.get('open_to_first_p50_ms', float('nan')):.1f}, {r.get('open_to_first_p99_ms', float('nan')):.1f}),"
          f" wall {r.get('wall_s', float('nan')):.2f} s")
if d and g:
    jit = f", {compiles} JIT compilations and deoptimizations" if compiles else ""
    print(f"active round {rnd}: gateway minus direct at p50 {g['ttfe_p50_ms'] - d['ttfe_p50_ms']:+.1f} ms; gateway CPU"
          f" {cpu:.2f} s with the client's start, {cpu * 1e6 / max(g['streams'], 1):.0f} us per stream{jit}")
EOF
    done
fi
python3 - "$RPS" "$LAT" $((c1 - c0)) $((j1 - j0)) "$(getconf CLK_TCK)" $((gc1 - gc0)) <<'EOF'
import json, sys
rps, lat = json.loads(sys.argv[1]), json.loads(sys.argv[2])
ticks, jit, hz, gcs = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
n = max(rps["requests"], 1)
print(f"c=64: {rps['rps']:.0f} req/s, {ticks / hz * 1e6 / n:.0f} us CPU/request ({(ticks - jit) / hz * 1e6 / n:.0f} without JIT),"
      f" {gcs} young GCs ({gcs * 1e6 / n:.1f} per 1M requests), non-2xx {rps['errors_status']}")
print(f"c=1:  {lat['rps']:.0f} req/s, p50 {lat['p50_ms']:.3f} ms, p99 {lat['p99_ms']:.3f} ms, max {lat['max_ms']:.3f} ms")
EOF
echo "load after $(cut -d' ' -f1-3 /proc/loadavg); run directory $RUN" >&2
if [[ $JFR == 1 ]]; then python3 "$BENCH/jfr_top.py" "$RUN/gateway.jfr" >"$RUN/jfr-top.md" && echo "JFR: $RUN/gateway.jfr, $RUN/jfr-top.md" >&2; fi
if [[ $ALLOC == 1 ]]; then
    awk -v n="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["requests"])' "$RPS")" \
        '{b += $NF} END {printf "allocated %.1f KiB per request (sampled, all threads): %s\n", b / n / 1024, FILENAME}' \
        "$RUN/alloc.collapsed" >&2
elif [[ $ASYNC == 1 ]]; then python3 "$BENCH/stacks_top.py" "$RUN/cpu.collapsed" >"$RUN/stacks-top.md" && echo "async-profiler: $RUN/cpu.collapsed, $RUN/stacks-top.md" >&2; fi
if [[ $ASYNC == 1 && -s $RUN/active.collapsed ]]; then python3 "$BENCH/stacks_top.py" "$RUN/active.collapsed" >"$RUN/active-top.md" && echo "async-profiler, active streams: $RUN/active.collapsed, $RUN/active-top.md" >&2; fi
