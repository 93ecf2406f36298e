# Shared by the scripts that time one class of bench/micro (scan_cost.sh, ledger_cost.sh): sourced after
# their options, with ROOT and JDK (empty for the default java) set. Builds the gateway's classes and
# sets JAVA, OUT (a temporary directory, removed on exit), CP (the gateway's runtime classpath) and PIN
# (pins a command onto CPU 1, as bench/run.sh pins the gateway, when there are two cores or more).
JAVA=java
[[ -z $JDK ]] || JAVA=$JDK/bin/java
OUT=$(mktemp -d /tmp/switchboard-micro.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
cd "$ROOT"
./mvnw -q -DskipTests compile dependency:build-classpath -Dmdep.outputFile="$OUT/cp" -Dmdep.includeScope=runtime
CP=$(cat "$OUT/cp")
PIN=()
[[ $(nproc) -lt 2 ]] || PIN=(taskset -c 1)
