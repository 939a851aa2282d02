#!/usr/bin/env bash
# Runs the benchmark set with the short settings recorded in benchmarks/README.md, saving the output (text and JMH
# JSON) under benchmarks/target/results. Builds the uber-jar first when it is missing. Exits with the status of
# ConcurrentSleepersProbe (1 when the thread target is missed), after running everything.
set -euo pipefail
cd "$(dirname "$0")/.."
JAR=benchmarks/target/benchmarks.jar
OUT=benchmarks/target/results
[ -f "$JAR" ] || mvn -B -q -pl benchmarks -am package -DskipTests
mkdir -p "$OUT"

java -jar "$JAR" EmbeddedLifecycleBenchmark -f 1 -wi 2 -i 3 -w 2s -r 3s \
    -rf json -rff "$OUT/lifecycle.json" | tee "$OUT/lifecycle.txt"
java -jar "$JAR" StdoutThroughputBenchmark -f 1 -wi 1 -i 3 \
    -rf json -rff "$OUT/stdout.json" | tee "$OUT/stdout.txt"

status=0
java -cp "$JAR" dev.berth.tasks.ConcurrentSleepersProbe | tee "$OUT/sleepers.txt" || status=$?
echo "results in $OUT; probe exit status $status"
exit "$status"
