#!/usr/bin/env bash
# Two warm Berth drivers (dev.berth.containers.ContainerLifecycleDriver --serve) with different JVM options answer
# alternate rounds in the same minutes, so a change of setting is compared under the same machine load.
#
#   benchmarks/driver-ab.sh "OPTS_A" "OPTS_B" [ROUNDS]      e.g.
#   benchmarks/driver-ab.sh -Dberth.shims.v2.stdoutHandoff=true -Dberth.shims.v2.stdoutHandoff=false 6
#
# Each round runs 1:30 then 4:60 on A, then the same on B (WARMUP lifecycles first, default 300); prints every line
# and then the mean rate per side and concurrency. Needs root, runc, containerd-shim-runc-v2, busybox-static and
# benchmarks/target/benchmarks.jar (built when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { echo "usage: $0 OPTS_A OPTS_B [ROUNDS]" >&2; exit 2; }
OPTS_A=$1
OPTS_B=$2
ROUNDS=${3:-6}
WARMUP=${WARMUP:-300}
JAR=benchmarks/target/benchmarks.jar
[ -f "$JAR" ] || mvn -B -q -o -pl benchmarks -am package -DskipTests
OUT=$(mktemp /tmp/driver-ab.XXXXXX)
trap 'rm -f "$OUT"' EXIT

# shellcheck disable=SC2086 # the options split into JVM arguments
coproc A { exec java $OPTS_A -cp "$JAR" dev.berth.containers.ContainerLifecycleDriver --serve --warmup "$WARMUP" \
    2>/dev/null; }
A_IN=${A[1]}
A_OUT=${A[0]}
# shellcheck disable=SC2086
coproc B { exec java $OPTS_B -cp "$JAR" dev.berth.containers.ContainerLifecycleDriver --serve --warmup "$WARMUP" \
    2>/dev/null; }
B_IN=${B[1]}
B_OUT=${B[0]}
read -r ready <&"$A_OUT"
read -r ready <&"$B_OUT"
echo "# $(date -u +%FT%TZ) $(nproc) vCPU, load $(cut -d' ' -f1-3 /proc/loadavg); A: $OPTS_A; B: $OPTS_B; rounds=$ROUNDS"
for ((r = 1; r <= ROUNDS; r++)); do
    for round in 1:30 4:60; do
        echo "$round" >&"$A_IN"
        read -r a <&"$A_OUT"
        echo "$round" >&"$B_IN"
        read -r b <&"$B_OUT"
        echo "A $a" | tee -a "$OUT"
        echo "B $b" | tee -a "$OUT"
    done
done
eval "exec $A_IN>&- $B_IN>&-"
wait
awk '{ for (i = 1; i <= NF; i++) { if ($i ~ /^c=/) c = $i; if ($i ~ /^rate=/) { r = $i; sub("rate=", "", r); sub("/s", "", r) } }
       k = $1 " " c; s[k] += r; n[k]++ }
     END { for (k in s) printf "%s mean rate %.2f/s over %d rounds\n", k, s[k] / n[k], n[k] }' "$OUT" | sort
