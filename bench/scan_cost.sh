#!/usr/bin/env bash
# The usage filter's cost per server-sent event: bench/micro/io/switchboard/usage/EventScanCost.java
# times SseEventScanner.scan on a content chunk and on the closing usage event (nanoseconds and bytes
# allocated per event, one thread). Given a git revision, it runs the same against that revision's
# scanner first (the four classes that read an event, compiled from that revision), so that a change
# is measured against what it replaces in the same minute. About a minute.
#
#   bench/scan_cost.sh [REV] [--jdk DIR]      e.g. bench/scan_cost.sh HEAD~1
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
REV="" JDK=""
while [[ $# -gt 0 ]]; do
    case $1 in
        --jdk) JDK=$2; shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
        *) REV=$1 ;;
    esac
    shift
done
source "$ROOT/bench/micro_env.sh"
MICRO=bench/micro/io/switchboard/usage/EventScanCost.java
run() { # label classes
    echo "== $1"
    "${PIN[@]}" "$JAVA" -XX:+UseParallelGC -Xms256m -Xmx256m -cp "$2:$CP" io.switchboard.usage.EventScanCost
}
if [[ -n $REV ]]; then
    mkdir -p "$OUT/rev-src/io/switchboard/usage" "$OUT/rev"
    for class in SseEventScanner UsageJsonScanner LongStringElider ScanScratch; do
        git show "$REV:src/main/java/io/switchboard/usage/$class.java" >"$OUT/rev-src/io/switchboard/usage/$class.java"
    done
    javac -nowarn -d "$OUT/rev" -cp "$CP:target/classes" "$OUT"/rev-src/io/switchboard/usage/*.java "$MICRO"
    run "$REV ($(git rev-parse --short "$REV"))" "$OUT/rev:target/classes"
fi
mkdir -p "$OUT/current"
javac -nowarn -d "$OUT/current" -cp "$CP:target/classes" "$MICRO"
run "working tree" "$OUT/current:target/classes"
