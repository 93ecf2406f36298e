#!/usr/bin/env bash
# What the usage ledger's writes into the embedded database cost: bench/micro/io/switchboard/usage/
# LedgerWriteCost.java writes batches of 100 rows through the R2DBC writer (r2dbc-h2, pooled) and the
# JDBC writer the embedded database's ledger uses, each into a fresh H2 file database opened as the
# gateway opens it, in alternating rounds, and prints the process's CPU microseconds (all threads) and
# wall time per row. Pinned to one core, as the gateway is in bench/run.sh. About a minute.
#
#   bench/ledger_cost.sh [--jdk DIR]
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
JDK=""
case ${1:-} in
    "") ;;
    --jdk) JDK=$2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
esac
source "$ROOT/bench/micro_env.sh"
mkdir -p "$OUT/classes"
javac -nowarn -d "$OUT/classes" -cp "$CP:target/classes" bench/micro/io/switchboard/usage/LedgerWriteCost.java
"${PIN[@]}" "$JAVA" -XX:+UseParallelGC -Xms512m -Xmx512m -da:org.h2... -cp "$OUT/classes:target/classes:$CP" \
    io.switchboard.usage.LedgerWriteCost
