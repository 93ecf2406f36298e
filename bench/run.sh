#!/usr/bin/env bash
# Switchboard benchmark: the same workload direct to a fake upstream, through nginx (plain reverse
# proxy) and through the gateway, in one run, on loopback. See docs/benchmarks.md.
#
#   bench/run.sh                 quick run (about 5 minutes)
#   bench/run.sh --full          adds the issue-6 load runs: 5-minute soak at 70% of max rps,
#                                8000 idle streams, 2000 active streams x 20 events, and --filters
#                                (18-23 minutes in all)
#   options: --gc parallel|g1|serial  (default parallel)   --heap 512m (fixed: -Xms = -Xmx)
#            --jfr                    profile the gateway with JFR (figures then include its cost)
#            --gw-opts "<jvm flags>"  extra gateway JVM flags, e.g. "-Dreactor.netty.ioWorkerCount=1"
#            --gw-args "<--props>"    extra gateway settings, e.g. "--management.observations.enable.spring.security=false"
#            --idle N                 idle streams (default 2000, 8000 with --full)
#            --duration S             seconds of the c=64 requests/s run (default 20)
#            --warmup N               requests that warm the gateway's JIT first (default 100000),
#                                     and until its JIT compilers use < 5% of its CPU over 10 s
#            --warmup-max S           ... within at most S seconds, default 300)
#            --soak S                 length of the --full soak (default 300 s, in 30 s windows)
#            --active-rounds R        rounds of --full's 2000 active streams, after one not counted (default 3)
#            --active-ramp S          --full also opens 2000 streams of 20 events 1 s apart over S seconds
#                                     (default 8, 0 = not), so all are open together without the queue
#                                     of a burst, in --active-rounds rounds
#            --filters                also measure a second gateway with issue 4's filters off (limits,
#                                     usage ledger, metrics), alternating with the first at one
#                                     connection, and both with idle streams held (on with --full)
#            --heap-dump              also write a heap dump of the gateway holding its idle streams
#                                     (heap-idle_gateway.hprof in the run directory; for bench/hprof_referrers.py)
#            --no-install             never call apt-get
#            --jdk DIR                run the gateway, the fake upstream and the clients on the JDK in DIR
#                                     (the jar and the tools are still built with the default one), e.g.
#                                     --jdk /usr/lib/jvm/temurin-25-jdk-amd64 --gw-opts "<the image's flags>"
#
# Cores: load generator, fake upstream and stream clients on CPU 0; nginx and the gateway (one at a
# time under load) on CPU 1. Everything listens on 127.0.0.1 and is stopped on exit.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=$ROOT/bench
BUILD=$BENCH/.build
RESULTS=$BENCH/results

FULL=0 FILTERS=0 JFR=0 HEAP_DUMP=0 INSTALL=1 JDK="" GC=parallel HEAP=512m GW_OPTS="" IDLE="" DURATION=20 WARMUP_REQUESTS=100000 WARMUP_MAX=300 SOAK=300 GW_ARGS="" ACTIVE_ROUNDS=3 ACTIVE_RAMP=8
while [[ $# -gt 0 ]]; do
    case $1 in
        --full) FULL=1 FILTERS=1 ;;
        --filters) FILTERS=1 ;;
        --jfr) JFR=1 ;;
        --no-install) INSTALL=0 ;;
        --heap-dump) HEAP_DUMP=1 ;;
        --jdk) JDK=$2; shift ;;
        --gc) GC=$2; shift ;;
        --heap) HEAP=$2; shift ;;
        --gw-opts) GW_OPTS=$2; shift ;;
        --gw-args) GW_ARGS=$2; shift ;;
        --idle) IDLE=$2; shift ;;
        --duration) DURATION=$2; shift ;;
        --warmup) WARMUP_REQUESTS=$2; shift ;;
        --warmup-max) WARMUP_MAX=$2; shift ;;
        --soak) SOAK=$2; shift ;;
        --active-rounds) ACTIVE_ROUNDS=$2; shift ;;
        --active-ramp) ACTIVE_RAMP=$2; shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
[[ -n $IDLE ]] || IDLE=$([[ $FULL == 1 ]] && echo 8000 || echo 2000)
case $GC in
    parallel) GC_FLAGS="-XX:+UseParallelGC" ;;
    g1) GC_FLAGS="-XX:+UseG1GC" ;;
    serial) GC_FLAGS="-XX:+UseSerialGC" ;;
    *) echo "--gc parallel|g1|serial" >&2; exit 2 ;;
esac

log() { printf '[bench %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

# ---- processes: every one we start is recorded and stopped on exit -------------------------------
RUN=$(mktemp -d /tmp/switchboard-bench.XXXXXX)
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    sleep 0.5
    for pid in "${PIDS[@]}"; do
        kill -9 "$pid" 2>/dev/null || true
    done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Each idle stream holds two sockets in the gateway; raise the open-file limit as far as allowed.
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"

CPUS=$(nproc)
if [[ $CPUS -ge 2 ]]; then LOAD_CPU=0 PROXY_CPU=1; else LOAD_CPU=0 PROXY_CPU=0; fi
on_load() { taskset -c "$LOAD_CPU" "$@"; }
on_proxy() { taskset -c "$PROXY_CPU" "$@"; }

# ---- 1. tools ------------------------------------------------------------------------------------
if ! command -v wrk >/dev/null || ! command -v nginx >/dev/null; then
    [[ $INSTALL == 1 ]] || { echo "wrk and nginx are needed (apt-get install -y wrk nginx-light)" >&2; exit 1; }
    SUDO=$([[ $(id -u) == 0 ]] && echo "" || echo sudo)
    log "installing wrk and nginx (Debian packages)"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq wrk nginx-light \
        || DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq wrk nginx
fi
for tool in java javac jcmd jstat jfr python3 curl taskset; do
    command -v $tool >/dev/null || { echo "$tool is needed" >&2; exit 1; }
done

# ---- 2. the gateway jar and the bench's own Java tools ------------------------------------------
JAR=$ROOT/target/switchboard-0.1.0-SNAPSHOT.jar
# The jar's own mtime is the reproducible-build timestamp, so a stamp file records when it was built.
JAR_STAMP=$ROOT/target/.bench-jar-built
if [[ ! -f $JAR || ! -f $JAR_STAMP ]] || [[ -n $(find "$ROOT/src/main" "$ROOT/pom.xml" -newer "$JAR_STAMP" -print -quit) ]]; then
    log "building the gateway jar"
    (cd "$ROOT" && ./mvnw -q -DskipTests package)
    touch "$JAR_STAMP"
fi
if [[ ! -f $BUILD/classes/StreamClient.class ]] || [[ -n $(find "$BENCH/java" "$JAR_STAMP" -newer "$BUILD/classes/StreamClient.class" -print -quit) ]]; then
    log "compiling the fake upstream and the stream client against the jar's libraries"
    rm -rf "$BUILD" && mkdir -p "$BUILD/lib" "$BUILD/classes"
    (cd "$BUILD/lib" && jar xf "$JAR" BOOT-INF/lib && mv BOOT-INF/lib/*.jar . && rm -rf BOOT-INF)
    javac -nowarn -d "$BUILD/classes" -cp "$BUILD/lib/*" "$BENCH"/java/*.java
fi
CP="$BUILD/classes:$BUILD/lib/*"
if [[ -n $JDK ]]; then
    [[ -x $JDK/bin/java && -x $JDK/bin/jcmd ]] || { echo "--jdk $JDK: no bin/java and bin/jcmd there" >&2; exit 2; }
    export PATH=$JDK/bin:$PATH
    log "running on $(java -version 2>&1 | sed -n 2p)"
fi
# The clients only need to start fast; the fake upstream must be fast, so it gets the full JIT.
TOOL_JVM=(-XX:+UseParallelGC -Xms256m -Xmx1g -XX:TieredStopAtLevel=1 -Dreactor.netty.ioWorkerCount=1)
FAKE_JVM=(-XX:+UseParallelGC -Xms512m -Xmx1g -Dreactor.netty.ioWorkerCount=1)

source "$BENCH/lib.sh"

wait_http() { # url seconds
    local deadline=$((SECONDS + $2))
    until curl -fsS -o /dev/null "$1" 2>/dev/null; do
        ((SECONDS < deadline)) || { echo "timed out waiting for $1" >&2; return 1; }
        sleep 0.3
    done
}

# ---- 3. fake upstream, nginx, gateway ------------------------------------------------------------
log "run directory $RUN"
# Background processes are started without a shell function in between, so that $! is the
# process itself (taskset execs it) and the exit trap stops the right pid.
taskset -c "$LOAD_CPU" java "${FAKE_JVM[@]}" -cp "$CP" FakeUpstreamServer 0 >"$RUN/fake.log" 2>&1 &
FAKE_PID=$!; PIDS+=("$FAKE_PID")
FAKE_PORT=$(logged_port "$RUN/fake.log")
[[ -n $FAKE_PORT ]] || { cat "$RUN/fake.log" >&2; exit 1; }
DIRECT=http://127.0.0.1:$FAKE_PORT/api/v1/chat/completions

NGINX_PORT=$(free_port)
write_nginx_conf "$RUN" "$FAKE_PORT" "$NGINX_PORT"
taskset -c "$PROXY_CPU" nginx -e "$RUN/nginx-error.log" -p "$RUN/nginx" -c "$RUN/nginx.conf" &
NGINX_PID=$!; PIDS+=("$NGINX_PID")
VIA_NGINX=http://127.0.0.1:$NGINX_PORT/api/v1/chat/completions

ADMIN_KEY="bench-admin-$RANDOM$RANDOM"
GW_JVM=($GC_FLAGS -Xms$HEAP -Xmx$HEAP $GW_OPTS)
start_gateway() { # directory port [extra settings]: starts a gateway with its own database there; sets STARTED_PID
    local dir=$1 port=$2; shift 2
    mkdir -p "$dir"
    (cd "$dir" && exec taskset -c "$PROXY_CPU" java "${GW_JVM[@]}" -jar "$JAR" \
        --server.port="$port" \
        --gateway.providers.openrouter.base-url="http://127.0.0.1:$FAKE_PORT/api/v1" \
        --gateway.providers.openrouter.api-key=x \
        --gateway.admin.key="$ADMIN_KEY" $GW_ARGS "$@" >"$dir/gateway.log" 2>&1) &
    STARTED_PID=$!; PIDS+=("$STARTED_PID")
}
GW_PORT=$(free_port)
start_gateway "$RUN" "$GW_PORT"
GW_PID=$STARTED_PID
VIA_GATEWAY=http://127.0.0.1:$GW_PORT/api/v1/chat/completions
log "fake upstream :$FAKE_PORT, nginx :$NGINX_PORT, gateway :$GW_PORT (pid $GW_PID, $GC_FLAGS -Xmx$HEAP $GW_OPTS $GW_ARGS)"
wait_http "http://127.0.0.1:$NGINX_PORT/api/v1/models" 20
wait_http "http://127.0.0.1:$GW_PORT/actuator/health" 180 || { tail -50 "$RUN/gateway.log" >&2; exit 1; }
NGINX_PIDS="$NGINX_PID $(pgrep -P "$NGINX_PID" | tr '\n' ' ')"

# Once keys land the data plane answers 401 without one: create a key through the admin API
# (generous limits, so the bench measures the path, not the limiter) and use it everywhere.
AUTH=""
probe_status() { # url [key]
    curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' ${2:+-H "Authorization: Bearer $2"} \
        -d '{"model":"openai/gpt-5-nano","messages":[{"role":"user","content":"hi"}]}' "$1"
}
admin_key() { # port: a key with generous limits, created through the gateway's admin API
    local body key
    for body in '{"name":"bench","rpm":100000000,"tpm":2000000000,"max_concurrency":100000}' '{"name":"bench"}'; do
        key=$(curl -s -H "Authorization: Bearer $ADMIN_KEY" -H 'Content-Type: application/json' -d "$body" \
            "http://127.0.0.1:$1/admin/keys" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("key",""))' 2>/dev/null || true)
        [[ -n $key ]] && break
    done
    [[ -n $key ]] || { echo "could not create a key through /admin/keys" >&2; return 1; }
    echo "$key"
}
STATUS=$(probe_status "$VIA_GATEWAY")
if [[ $STATUS == 401 ]]; then
    log "the gateway wants a key: creating one through POST /admin/keys"
    AUTH=$(admin_key "$GW_PORT")
    STATUS=$(probe_status "$VIA_GATEWAY" "$AUTH")
fi
[[ $STATUS == 200 ]] || { echo "the gateway answers $STATUS to the bench request" >&2; tail -30 "$RUN/gateway.log" >&2; exit 1; }
export BENCH_AUTH=$AUTH

# ---- 4. measurements -----------------------------------------------------------------------------
RESULTS_JSONL=$RUN/results.jsonl
: >"$RESULTS_JSONL"
record() { printf '{"name":"%s","data":%s}\n' "$1" "$2" >>"$RESULTS_JSONL"; }

cpu_ticks() { # pids... -> utime+stime of all, in clock ticks
    local total=0 pid
    for pid in "$@"; do
        [[ -r /proc/$pid/stat ]] || continue
        total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
    done
    echo $total
}
CLK_TCK=$(getconf CLK_TCK)
jit_ticks() { # CPU of a JVM's JIT compiler threads, so that a JIT still warming can be told apart
    local t total=0
    for t in /proc/$1/task/*; do
        case $(cat "$t/comm" 2>/dev/null) in C1\ Compiler*|C2\ Compiler*) total=$((total + $(awk '{print $14 + $15}' "$t/stat"))) ;; esac
    done
    echo $total
}

wrk_run() { # name url connections seconds [pids for CPU accounting]
    local name=$1 url=$2 conns=$3 secs=$4; shift 4
    local before after jit0=0 jit1=0 out json
    before=$(cpu_ticks "$@")
    [[ $# -eq 0 ]] || jit0=$(jit_ticks "$1")
    out=$(on_load timeout $((secs + 30)) wrk -t1 -c"$conns" -d"${secs}s" --timeout 10s -s "$BENCH/post.lua" "$url" 2>&1) || true
    after=$(cpu_ticks "$@")
    [[ $# -eq 0 ]] || jit1=$(jit_ticks "$1")
    echo "$out" >"$RUN/wrk-$name.txt"
    json=$(grep '^BENCH_JSON ' <<<"$out" | sed 's/^BENCH_JSON //' || true)
    [[ -n $json ]] || { echo "wrk failed for $name: $out" >&2; json='{"requests":0}'; }
    if [[ $# -gt 0 ]]; then
        json=${json%\}}",\"cpu_ticks\":$((after - before)),\"jit_ticks\":$((jit1 - jit0)),\"clk_tck\":$CLK_TCK}"
    fi
    record "$name" "$json"
    log "$name: $(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print("%.0f req/s, p50 %.3f ms, p99 %.3f ms, non-2xx %d" % (d.get("rps",0), d.get("p50_ms",0), d.get("p99_ms",0), d.get("errors_status",0)))' "$json")"
}

stream_run() { # name url streams concurrency events delayMs [mode]; mode ramped: concurrency = seconds to open them
    local out json
    out=$(on_load timeout 900 java "${TOOL_JVM[@]}" -cp "$CP" StreamClient "${7:-paced}" "$2" "$3" "$4" "$5" "$6" "$AUTH" 2>&1) || true
    echo "$out" >"$RUN/stream-$1.txt"
    json=$(grep '^BENCH_JSON ' <<<"$out" | sed 's/^BENCH_JSON //' || true)
    [[ -n $json ]] || { echo "stream client failed for $1: $(tail -5 <<<"$out")" >&2; json='{"streams":0}'; }
    record "$1" "$json"
    log "$1: $json"
}

heap_used_kib() { # pid: live heap after a full collection, from jstat (S0U+S1U+EU+OU)
    # Twice: with -XX:+UseStringDeduplication (the image's flags) the collector's background thread
    # shares equal strings only after a collection found them; the second one then frees the copies.
    jcmd "$1" GC.run >/dev/null
    sleep 1
    jcmd "$1" GC.run >/dev/null
    sleep 1
    jstat -gc "$1" | awk 'NR==1{for(i=1;i<=NF;i++)c[$i]=i} NR==2{printf "%d\n", $c["S0U"]+$c["S1U"]+$c["EU"]+$c["OU"]}'
}
rss_kib() { local t=0 pid; for pid in "$@"; do t=$((t + $(awk '/^VmRSS/{print $2}' "/proc/$pid/status" 2>/dev/null || echo 0))); done; echo $t; }

idle_run() { # name url streams holdSeconds gateway-pid|nginx [key]
    local name=$1 url=$2 n=$3 hold=$4 kind=$5 key=${6-$AUTH} rss0 heap0 rss1 heap1 client ready out
    if [[ $kind != nginx ]]; then
        # The live objects before, to subtract from those with the streams held (histogram_diff.py).
        jcmd "$kind" GC.class_histogram >"$RUN/histogram-before-$name.txt" 2>/dev/null || true
        heap0=$(heap_used_kib "$kind"); rss0=$(rss_kib "$kind")
    else heap0=0; rss0=$(rss_kib $NGINX_PIDS); fi
    taskset -c "$LOAD_CPU" java "${TOOL_JVM[@]}" -cp "$CP" StreamClient idle "$url" "$n" "$hold" "$key" >"$RUN/idle-$name.txt" 2>&1 &
    client=$!; PIDS+=("$client")
    for _ in $(seq 1 800); do grep -q '^READY' "$RUN/idle-$name.txt" && break; sleep 0.25; done
    sleep 2
    ready=$(grep '^READY' "$RUN/idle-$name.txt" || echo "READY 0 0 0")
    if [[ $kind != nginx ]]; then
        heap1=$(heap_used_kib "$kind"); rss1=$(rss_kib "$kind")
        # What the held streams keep alive on the heap, for the report (live objects only).
        jcmd "$kind" GC.class_histogram >"$RUN/histogram-$name.txt" 2>/dev/null || true
        if [[ $HEAP_DUMP == 1 && $name == idle_gateway ]]; then
            jcmd "$kind" GC.heap_dump "$RUN/heap-$name.hprof" >/dev/null 2>&1 || true
        fi
    else heap1=0; rss1=$(rss_kib $NGINX_PIDS); fi
    wait "$client" || true
    out=$(grep '^BENCH_JSON ' "$RUN/idle-$name.txt" | sed 's/^BENCH_JSON //' || echo '{}')
    record "$name" "${out%\}},\"rss0_kib\":$rss0,\"rss1_kib\":$rss1,\"heap0_kib\":$heap0,\"heap1_kib\":$heap1}"
    log "$name: $ready; RSS $rss0 -> $rss1 KiB, heap $heap0 -> $heap1 KiB"
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
log "load average before: $LOAD_BEFORE"
# The machine's random memory access time, so that runs on different machines can be compared: a
# Java gateway's working set is far larger than nginx's, so slow memory costs it more.
MEMORY_LATENCY=$(on_proxy java -Xmx1g -cp "$CP" MemoryLatency 2>/dev/null || echo "?")
log "memory: $MEMORY_LATENCY"

log "warm-up (not measured)"
on_load wrk -t1 -c64 -d3s -s "$BENCH/post.lua" "$DIRECT" >/dev/null
on_load wrk -t1 -c64 -d3s -s "$BENCH/post.lua" "$VIA_NGINX" >/dev/null
# The gateway needs its JIT: C2 compiles on the same core and its CPU counts per request, so warm
# it by requests served (WARMUP_REQUESTS) and until its compilers have settled (under 5% of the
# gateway's CPU over the last 10 s window), within WARMUP_MAX seconds. On a machine with slow
# memory the JIT needs minutes; figures taken while it still compiles measure a warming JVM.
warm_up() { # pid url: sets WARMED
    local warmed=0 warm_start=$SECONDS jit_share=100 n c0 c1 j0 j1
    while ((SECONDS - warm_start < WARMUP_MAX)) && ((warmed < WARMUP_REQUESTS || jit_share >= 5)); do
        c0=$(cpu_ticks "$1") j0=$(jit_ticks "$1")
        n=$(on_load wrk -t1 -c64 -d10s -s "$BENCH/post.lua" "$2" | sed -n 's/^BENCH_JSON {"requests":\([0-9]*\).*/\1/p')
        c1=$(cpu_ticks "$1") j1=$(jit_ticks "$1")
        warmed=$((warmed + ${n:-0}))
        jit_share=$(( (j1 - j0) * 100 / (c1 - c0 > 0 ? c1 - c0 : 1) ))
    done
    WARMED="$warmed requests in $((SECONDS - warm_start)) s, JIT at $jit_share% of the gateway's CPU in the last 10 s"
    log "gateway (pid $1) warmed with $WARMED"
    ((jit_share < 5)) || log "the JIT was still compiling when the warm-up time ran out: figures are of a warming JVM"
    on_load wrk -t1 -c1 -d3s -s "$BENCH/post.lua" "$2" >/dev/null
}
warm_up "$GW_PID" "$VIA_GATEWAY"
on_load java "${TOOL_JVM[@]}" -cp "$CP" StreamClient paced "$VIA_GATEWAY" 64 32 8 1 "$AUTH" >/dev/null 2>&1 || true

if [[ $JFR == 1 ]]; then
    # Profile the measured load only, not start-up and warm-up.
    jcmd "$GW_PID" JFR.start name=bench settings=profile >/dev/null
fi

for target in direct nginx gateway; do
    case $target in direct) url=$DIRECT pids=("$FAKE_PID") ;; nginx) url=$VIA_NGINX pids=($NGINX_PIDS) ;; gateway) url=$VIA_GATEWAY pids=("$GW_PID") ;; esac
    wrk_run "rps_c64_$target" "$url" 64 "$DURATION" "${pids[@]}"
    wrk_run "lat_c1_$target" "$url" 1 10
    wrk_run "lat_c8_$target" "$url" 8 10
done

for target in direct nginx gateway; do
    case $target in direct) url=$DIRECT ;; nginx) url=$VIA_NGINX ;; gateway) url=$VIA_GATEWAY ;; esac
    stream_run "stream_$target" "$url" 128 32 64 20
done

if [[ $JFR == 1 ]]; then
    jcmd "$GW_PID" JFR.stop name=bench filename="$RUN/gateway.jfr" >/dev/null || true
    [[ -s $RUN/gateway.jfr ]] && python3 "$BENCH/jfr_top.py" "$RUN/gateway.jfr" >"$RUN/jfr-top.md" || true
fi

idle_run idle_gateway "$VIA_GATEWAY" "$IDLE" 12 "$GW_PID"
idle_run idle_nginx "$VIA_NGINX" "$IDLE" 8 nginx

if [[ $FILTERS == 1 ]]; then
    # Issue 4: what the limit, usage and metrics filters add over the bare proxy path (key
    # authentication stays on in both). A second gateway with its own database, the same JVM flags
    # and core, warmed the same way; the two take turns at one connection so that both see the
    # machine's same minutes.
    BARE_PORT=$(free_port)
    start_gateway "$RUN/filters-off" "$BARE_PORT" \
        --gateway.ratelimit.enabled=false --gateway.usage.enabled=false --gateway.metrics.enabled=false
    BARE_PID=$STARTED_PID
    VIA_BARE=http://127.0.0.1:$BARE_PORT/api/v1/chat/completions
    wait_http "http://127.0.0.1:$BARE_PORT/actuator/health" 180 || { tail -50 "$RUN/filters-off/gateway.log" >&2; exit 1; }
    BARE_AUTH=""
    [[ -z $AUTH ]] || BARE_AUTH=$(admin_key "$BARE_PORT")
    STATUS=$(probe_status "$VIA_BARE" "$BARE_AUTH")
    [[ $STATUS == 200 ]] || { echo "the filters-off gateway answers $STATUS" >&2; exit 1; }
    log "filters: a second gateway with limits, usage and metrics off, :$BARE_PORT (pid $BARE_PID)"
    MAIN_WARMED=$WARMED
    BENCH_AUTH=$BARE_AUTH warm_up "$BARE_PID" "$VIA_BARE"
    WARMED=$MAIN_WARMED
    for round in 1 2; do
        wrk_run "filters_on_c1_$round" "$VIA_GATEWAY" 1 10
        BENCH_AUTH=$BARE_AUTH wrk_run "filters_off_c1_$round" "$VIA_BARE" 1 10
    done
    wrk_run filters_on_c64 "$VIA_GATEWAY" 64 "$DURATION" "$GW_PID"
    BENCH_AUTH=$BARE_AUTH wrk_run filters_off_c64 "$VIA_BARE" 64 "$DURATION" "$BARE_PID"
    idle_run idle_filters_off "$VIA_BARE" "$IDLE" 12 "$BARE_PID" "$BARE_AUTH"
    kill "$BARE_PID" 2>/dev/null || true
fi

if [[ $FULL == 1 ]]; then
    # One burst each first, not counted: the runs before sent few streams, and the gateway's first
    # burst measured its JIT compiling the streaming path (bench/profile.sh --active: C1 and C2 at 42%
    # of its CPU, 1829 compilations, still 160-420 in the next bursts). Then rounds: one burst's first
    # events wait mostly on the stream client and the fake upstream (CPU 0), whose own figure moved by
    # 670 ms between rounds. Each round after a pause past the upstream pool's idle time (20 s, evicted
    # every 20 s), so that every burst opens its upstream connections anew, as direct does.
    log "full: 2000 active streams x 20 events, 100 ms apart: one burst each not counted, then $ACTIVE_ROUNDS rounds 45 s apart"
    stream_run active_warm_direct "$DIRECT" 2000 2000 20 100
    stream_run active_warm_gateway "$VIA_GATEWAY" 2000 2000 20 100
    for round in $(seq 1 "$ACTIVE_ROUNDS"); do
        sleep 45
        stream_run "active_direct_$round" "$DIRECT" 2000 2000 20 100
        stream_run "active_gateway_$round" "$VIA_GATEWAY" 2000 2000 20 100
    done
    if [[ $ACTIVE_RAMP -gt 0 ]]; then
        # The same 2000 streams opened at a steady rate instead of in one instant, and lasting 20 s
        # (20 events 1 s apart) so that all of them are open together from the end of the opening on.
        # A burst puts a queue of 2000 connects, requests and first events in front of each stream (on
        # the gateway's one core: about 2 ms of CPU per stream); here the first event of each stream is
        # measured with up to 2000 others active, which is what "no buffering" asks.
        log "full: 2000 active streams x 20 events, 1 s apart, opened over $ACTIVE_RAMP s: $ACTIVE_ROUNDS rounds 45 s apart"
        for round in $(seq 1 "$ACTIVE_ROUNDS"); do
            sleep 45
            stream_run "ramp_direct_$round" "$DIRECT" 2000 "$ACTIVE_RAMP" 20 1000 ramped
            stream_run "ramp_gateway_$round" "$VIA_GATEWAY" 2000 "$ACTIVE_RAMP" 20 1000 ramped
        done
    fi

    MAX=$(python3 -c 'import json,sys
for l in open(sys.argv[1]):
    r=json.loads(l)
    if r["name"]=="rps_c64_gateway": print(r["data"]["rps"])' "$RESULTS_JSONL")
    PAUSE=$(python3 -c "import sys; print(max(1, int(64 * 1000 / (0.7 * float('$MAX')))))")
    log "full: $SOAK s soak at ~70% of $MAX req/s (64 connections, $PAUSE ms between requests)"
    (while true; do echo "$(date +%s) $(rss_kib "$GW_PID")" >>"$RUN/soak-rss.txt"; sleep 10; done) &
    SAMPLER=$!; PIDS+=("$SAMPLER")
    for w in $(seq 1 $(((SOAK + 29) / 30))); do BENCH_DELAY_MS=$PAUSE wrk_run "soak_$w" "$VIA_GATEWAY" 64 30 "$GW_PID"; done
    kill "$SAMPLER" 2>/dev/null || true
    record soak_rss "$(python3 -c 'import json,sys; print(json.dumps([int(l.split()[1]) for l in open(sys.argv[1])]))' "$RUN/soak-rss.txt")"
fi

LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)


# ---- 6. report -----------------------------------------------------------------------------------
mkdir -p "$RESULTS"
export B_DATE B_NPROC=$CPUS B_JAVA B_KERNEL B_NGINX B_GC="$GC_FLAGS" B_HEAP=$HEAP B_GW_OPTS="$GW_OPTS" B_GW_ARGS="$GW_ARGS" \
    B_JFR=$JFR B_FULL=$FULL B_LOAD_BEFORE="$LOAD_BEFORE" B_LOAD_AFTER="$LOAD_AFTER" B_COMMIT B_AUTH B_RUN=$RUN \
    B_CPUS="load generator, fake upstream, stream clients: CPU $LOAD_CPU; nginx and gateway: CPU $PROXY_CPU" B_IDLE=$IDLE \
    B_WARMED="$WARMED" B_MEMORY="$MEMORY_LATENCY"
B_DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
B_JAVA=$(java -version 2>&1 | sed -n 2p)
B_KERNEL=$(uname -r)
B_NGINX=$(nginx -v 2>&1)
B_COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo "?")
B_AUTH=$([[ -n $AUTH ]] && echo "a key created through /admin/keys" || echo "none needed")
python3 -c 'import json,os; print(json.dumps({k[2:].lower(): v for k, v in os.environ.items() if k.startswith("B_")}))' >"$RUN/meta.json"
python3 "$BENCH/histogram_diff.py" "$RUN/histogram-before-idle_gateway.txt" "$RUN/histogram-idle_gateway.txt" "$IDLE" \
    >"$RUN/idle-histogram.md" 2>/dev/null || true
if [[ $FILTERS == 1 ]]; then
    # Per stream, the live objects the filters add: the growth with them on minus with them off.
    python3 "$BENCH/histogram_diff.py" "$RUN/histogram-before-idle_gateway.txt" "$RUN/histogram-idle_gateway.txt" "$IDLE" \
        --minus "$RUN/histogram-before-idle_filters_off.txt" "$RUN/histogram-idle_filters_off.txt" \
        >"$RUN/filters-histogram.md" 2>/dev/null || true
fi
REPORT_ARGS=("$RUN/meta.json" "$RESULTS_JSONL" "$RUN/idle-histogram.md")
if [[ -s $RUN/filters-histogram.md ]]; then REPORT_ARGS+=("$RUN/filters-histogram.md"); fi
if [[ -s $RUN/jfr-top.md ]]; then REPORT_ARGS+=("$RUN/jfr-top.md"); fi
python3 "$BENCH/report.py" "${REPORT_ARGS[@]}" >"$RESULTS/latest.md"
cp "$RESULTS_JSONL" "$RESULTS/latest.jsonl"
if [[ -f $RUN/gateway.jfr ]]; then cp "$RUN/gateway.jfr" "$RESULTS/latest-gateway.jfr"; fi
cat "$RESULTS/latest.md"
log "written to $RESULTS/latest.md (raw output in $RUN)"
