#!/usr/bin/env bash
# Container lifecycles side by side, in one invocation: Berth's shim v2 runtime (a warm JVM,
# dev.berth.containers.ContainerLifecycleDriver in --serve mode), `ctr run --rm --rootfs` against a private containerd
# (private-containerd.sh) and plain `runc run` (one bundle, unique ids). Each runs `/bin/true` in the same busybox
# rootfs, create/start/wait/delete. Rounds alternate Berth, ctr, runc, at concurrency 1 then 4, and the summary prints
# each one's median rate and latency and Berth's ratios against the two peers.
#
#   benchmarks/containers-side-by-side.sh [ROUNDS]               (default 3 rounds; about 1 minute per round)
#   benchmarks/containers-side-by-side.sh --containerd [ROUNDS]  Berth over containerd instead of runc
#
# --containerd: the tools are berth-cd (Berth.containerd over the same private containerd, the same driver JVM, rounds
# prefixed `containerd:`), ctr and berth (the shim v2 runtime), in that order in every round; the summary prints
# berth-cd/ctr, berth-cd/berth and berth/ctr. TOOLS="…" picks any other list of berth, berth-cd, ctr and runc.
# After every round the private containerd's own CPU time over that round (utime + stime from /proc/PID/stat) per
# lifecycle is printed: berth-cd and ctr both drive that daemon, berth and runc do not (about 0).
# EVENTS=1 also records `ctr events` over the lifecycle rounds and ends with daemon-phases.sh's table: the median time
# between the daemon's events of one container, for berth-cd and ctr (where the time goes inside containerd).
#
# Environment: N1 (lifecycles per tool in a concurrency-1 round, default 30), N4 (the same at concurrency 4, default
# 60), STDIO (pipe: Berth reads stdout and stderr to their end as ctr run does, the default; null),
# WARMUP (Berth lifecycles, 4 at a time, before the first round; default 200: after 100 the JIT compiler threads still
# used 4 to 11 ms of CPU per lifecycle), BERTH_JAVA_OPTS (extra options of the Berth driver's JVM, e.g.
# -Dberth.shims.v2.stdoutHandoff=false to send the init's output through the shim's FIFO copy again).
#
# Then stdout throughput, STDOUT_ROUNDS times (default 3; 0 skips it): one container running
# `dd if=/dev/zero bs=64k` for STDOUT_MIB MiB (default 1024), read by Berth from Process.stdout() (container pipe ->
# JVM: the init's pipes are handed over through a binary:// logger, StdoutHandoff; with the handoff switched off,
# container pipe -> shim copy -> FIFO -> JVM), by `ctr run --rm ... >/dev/null` (the shim's copy into a FIFO, then
# ctr's copy), and by
# `runc run ... | cat >/dev/null` (the container writes into the pipe itself: the floor). Each timed from the
# request to the end, lifecycle included; the summary prints MiB/s and Berth's ratio against ctr.
# Needs root, containerd 1.6, ctr, runc, containerd-shim-runc-v2, busybox-static, jq and Java 17; builds
# benchmarks/target/benchmarks.jar when it is missing. Everything lives in one temporary directory, removed on exit
# with the private containerd.
#
# How each is timed: one lifecycle is from the request to the end of the delete. For ctr and runc, C bash workers
# each run N/C commands back to back and read $EPOCHREALTIME around each (no extra process), stdio on /dev/null; the
# rate is all commands over the round's wall time. Berth's driver does the same inside the JVM (flatMap with
# concurrency C over N lifecycles). Peer commands pay a fork+exec of ctr or runc that Berth does not, which is
# the point of a library: the comparison is "lifecycle as a client sees it".
set -euo pipefail
cd "$(dirname "$0")/.."
DEFAULT_TOOLS="berth ctr runc"
if [ "${1:-}" = --containerd ]; then
    DEFAULT_TOOLS="berth-cd ctr berth"
    shift
fi
TOOLS=${TOOLS:-$DEFAULT_TOOLS}
ROUNDS=${1:-3}
N1=${N1:-30}
N4=${N4:-60}
STDIO=${STDIO:-pipe}
BERTH_JAVA_OPTS=${BERTH_JAVA_OPTS:-}
WARMUP=${WARMUP:-200}
JAR=benchmarks/target/benchmarks.jar
PCD=benchmarks/private-containerd.sh
NS=bench-ctr
[ -f "$JAR" ] || mvn -B -q -o -pl benchmarks -am package -DskipTests

WORK=$(mktemp -d /tmp/sbs.XXXXXX)
PCD_DIR=""
DRIVER_PID=""
EVENTS_PID=""
cleanup() {
    trap '' INT TERM # finish cleaning up whatever arrives now
    set +e
    [ -n "$EVENTS_PID" ] && kill "$EVENTS_PID" 2>/dev/null
    if [ -n "$DRIVER_PID" ]; then
        eval "exec $DRIVER_IN>&-" # EOF ends the driver, which closes its service
        wait "$DRIVER_PID" 2>/dev/null
    fi
    [ -n "$PCD_DIR" ] && "$PCD" stop "$PCD_DIR"
    for id in $(runc --root "$WORK/runc" list -q 2>/dev/null); do
        runc --root "$WORK/runc" delete --force "$id" >/dev/null 2>&1
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT # the EXIT trap cleans up; the driver (a background job, SIGINT ignored) ends on its stdin's EOF
trap 'exit 143' TERM

# The rootfs (as BusyboxRootfs builds it) and a runc bundle over it running /bin/true.
ROOTFS=$WORK/rootfs
mkdir -p "$ROOTFS/bin" "$ROOTFS/proc" "$ROOTFS/dev" "$ROOTFS/sys" "$ROOTFS/tmp"
cp -p /bin/busybox "$ROOTFS/bin/busybox"
for applet in sh true cat head yes dd; do ln -s busybox "$ROOTFS/bin/$applet"; done
BUNDLE=$WORK/bundle
mkdir -p "$BUNDLE"
(cd "$BUNDLE" && runc spec)
jq --arg root "$ROOTFS" '.process.terminal = false | .process.args = ["/bin/true"] | .root = {path: $root, readonly: true}' \
    "$BUNDLE/config.json" >"$BUNDLE/config.json.new"
mv "$BUNDLE/config.json.new" "$BUNDLE/config.json"
STDOUT_ROUNDS=${STDOUT_ROUNDS:-3}
STDOUT_MIB=${STDOUT_MIB:-1024}
DD=(/bin/dd if=/dev/zero bs=65536 "count=$((STDOUT_MIB * 16))")
DD_BUNDLE=$WORK/bundle-dd
mkdir -p "$DD_BUNDLE"
jq --argjson args "$(printf '%s\n' "${DD[@]}" | jq -R . | jq -s .)" '.process.args = $args' "$BUNDLE/config.json" \
    >"$DD_BUNDLE/config.json"

eval "$("$PCD" start)"

# Berth: one warm JVM answering rounds on stdin.
DRIVER_ARGS=(--serve --warmup "$WARMUP" --stdio "$STDIO")
has_tool() { [[ " $TOOLS " == *" $1 "* ]]; }
has_tool berth-cd && DRIVER_ARGS+=(--containerd "$PCD_ADDRESS")
# shellcheck disable=SC2086 # BERTH_JAVA_OPTS is a list of words
coproc BERTH { exec java $BERTH_JAVA_OPTS -cp "$JAR" dev.berth.containers.ContainerLifecycleDriver "${DRIVER_ARGS[@]}" \
    2>"$WORK/berth.err"; }
DRIVER_PID=$!
DRIVER_IN=${BERTH[1]}
DRIVER_OUT=${BERTH[0]}
read -r -u "$DRIVER_OUT" ready || { cat "$WORK/berth.err" >&2; exit 1; }
[ "$ready" = ready ] || { echo "driver said: $ready" >&2; exit 1; }

ctr_cmd() { ctr -a "$PCD_ADDRESS" -n "$NS" run --rm --rootfs --runc-root "$PCD_RUNC_ROOT" --fifo-dir "$PCD_FIFO_DIR" \
    "$ROOTFS" "$1" /bin/true; }
runc_cmd() { runc --root "$WORK/runc" run -b "$BUNDLE" "$1"; }
# peer_round NAME C N TAG: N commands of NAME (ctr|runc), C at a time, with container ids TAG-<worker>-<i>; prints
# a line in the driver's format.
peer_round() {
    local name=$1 c=$2 n=$3 tag=$4 w start end pids=()
    rm -f "$WORK"/lat.*
    start=$EPOCHREALTIME
    for ((w = 0; w < c; w++)); do
        (
            local i t0 t1 per=$(((n + c - 1 - w) / c))
            for ((i = 0; i < per; i++)); do
                t0=$EPOCHREALTIME
                if ! "${name}_cmd" "$tag-$w-$i" </dev/null >/dev/null 2>"$WORK/err.$w"; then
                    echo "$name failed:" >&2; cat "$WORK/err.$w" >&2; exit 1
                fi
                t1=$EPOCHREALTIME
                echo "${t0/./} ${t1/./}" >>"$WORK/lat.$w"
            done
        ) &
        pids+=($!)
    done
    for w in "${pids[@]}"; do wait "$w" || exit 1; done
    end=$EPOCHREALTIME
    cat "$WORK"/lat.* | awk '{ print ($2 - $1) / 1000 }' | sort -n | awk -v name="$name" -v c="$c" \
        -v wall="$(awk -v s="$start" -v e="$end" 'BEGIN { print e - s }')" '
        { v[NR] = $1 }
        function pct(p,  r) { r = int(p / 100 * NR + 0.999999); if (r < 1) r = 1; return v[r] }
        END { printf "%s c=%d n=%d wall=%.3fs rate=%.2f/s p50=%.1fms p90=%.1fms p99=%.1fms max=%.1fms\n",
              name, c, NR, wall, NR / wall, pct(50), pct(90), pct(99), v[NR] }'
}

# driver_round ROUND: one round (the driver's syntax) in the warm JVM; prints its result line.
driver_round() {
    echo "$1" >&"$DRIVER_IN"
    local line
    read -r -u "$DRIVER_OUT" line || { cat "$WORK/berth.err" >&2; exit 1; }
    echo "$line"
}
# The driver's round prefix for a Berth tool: berth is the shim v2 runtime, berth-cd Berth over containerd.
driver_prefix() { if [ "$1" = berth-cd ]; then echo containerd:; fi; }
# The private containerd's CPU time so far, in ms (utime + stime; fields 14 and 15 of /proc/PID/stat).
TICK_MS=$((1000 / $(getconf CLK_TCK)))
daemon_cpu_ms() { awk -v t="$TICK_MS" '{ sub(/^.*\) /, ""); print ($12 + $13) * t }' "/proc/$PCD_PID/stat"; }

echo "# $(date -u +%FT%TZ) $(nproc) vCPU, load $(cut -d' ' -f1-3 /proc/loadavg);" \
    "tools=${TOOLS// /,} rounds=$ROUNDS N1=$N1 N4=$N4 stdio=$STDIO"
echo "# warm-up: $WARMUP lifecycles of each Berth backend (done), 5 of each peer"
for tool in $TOOLS; do
    case "$tool" in ctr | runc) peer_round "$tool" 1 5 "warm$tool" >/dev/null ;; esac
done

RESULTS=$WORK/results
: >"$RESULTS"
if [ "${EVENTS:-0}" = 1 ]; then
    ctr -a "$PCD_ADDRESS" events >"$WORK/events" 2>&1 &
    EVENTS_PID=$!
fi
for ((r = 1; r <= ROUNDS; r++)); do
    for c in 1 4; do
        n=$N1; [ "$c" = 4 ] && n=$N4
        for tool in $TOOLS; do
            cpu0=$(daemon_cpu_ms)
            case "$tool" in
                berth*) line=$(driver_round "$(driver_prefix "$tool")$c:$n") ;;
                *) line=$(peer_round "$tool" "$c" "$n" "$tool$r-c$c") ;;
            esac
            cpu1=$(daemon_cpu_ms)
            echo "round $r: $line"
            echo "$line" >>"$RESULTS"
            if [[ $tool == berth* ]]; then
                { grep '^phases' "$WORK/berth.err" || true; } | tail -n1 | sed "s/^/           $tool /"
                { grep '^threads' "$WORK/berth.err" || true; } | tail -n1 | sed "s/^/           $tool /"
            fi
            awk -v tool="$tool" -v ms=$((cpu1 - cpu0)) -v n="$n" \
                'BEGIN { printf "           %s containerd daemon CPU %.1f ms/op\n", tool, ms / n }'
        done
    done
done

if [ -n "$EVENTS_PID" ]; then
    kill "$EVENTS_PID"
    wait "$EVENTS_PID" 2>/dev/null || true
    EVENTS_PID=""
fi

# stdout_round TOOL TAG: one STDOUT_MIB MiB transfer; prints "TOOL-stdout bytes=… wall=…s rate=…MiB/s".
stdout_round() {
    local tool=$1 tag=$2 t0 t1 line
    case "$tool" in
        berth*)
            driver_round "$(driver_prefix "$tool")stdout:$STDOUT_MIB"
            return ;;
        ctr)
            t0=$EPOCHREALTIME
            ctr -a "$PCD_ADDRESS" -n "$NS" run --rm --rootfs --runc-root "$PCD_RUNC_ROOT" --fifo-dir "$PCD_FIFO_DIR" \
                "$ROOTFS" "$tag" "${DD[@]}" </dev/null >/dev/null 2>&1
            t1=$EPOCHREALTIME ;;
        runc)
            t0=$EPOCHREALTIME
            runc --root "$WORK/runc" run -b "$DD_BUNDLE" "$tag" </dev/null 2>/dev/null | cat >/dev/null
            t1=$EPOCHREALTIME ;;
    esac
    awk -v tool="$tool" -v b="$((STDOUT_MIB * 1048576))" -v s="$t0" -v e="$t1" \
        'BEGIN { printf "%s-stdout bytes=%d wall=%.3fs rate=%.1fMiB/s\n", tool, b, e - s, b / 1048576 / (e - s) }'
}
for ((r = 1; r <= STDOUT_ROUNDS; r++)); do
    for tool in $TOOLS; do
        line=$(stdout_round "$tool" "s$r")
        echo "round $r: $line"
        echo "$line" >>"$RESULTS"
    done
done

# Medians per tool and concurrency, then ratios.
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
field() { # field TOOL C KEY -> values of KEY (number only) over the rounds
    grep "^$1 c=$2 " "$RESULTS" | tr ' ' '\n' | grep "^$3=" | sed -E "s/^$3=([0-9.]+).*/\1/"
}
# ratio_line C A B: A's median rate over B's at concurrency C (the >= 2x target for Berth against ctr).
ratio_line() {
    local a b
    a=$(field "$2" "$1" rate | median); b=$(field "$3" "$1" rate | median)
    awk -v c="$1" -v an="$2" -v bn="$3" -v a="$a" -v b="$b" 'BEGIN {
        printf "c=%s: %s/%s rate %.2fx", c, an, bn, a / b
        if (bn == "ctr" && an ~ /^berth/) printf " (target >= 2x: %s)", (a / b >= 2 ? "met" : "MISSED")
        printf "\n" }'
}
# The ratios to print: each Berth tool against each peer, and berth-cd against berth.
PAIRS=()
for a in berth-cd berth; do
    for b in ctr runc berth; do
        if [ "$a" != "$b" ] && has_tool "$a" && has_tool "$b"; then PAIRS+=("$a $b"); fi
    done
done
echo
echo "# medians over $ROUNDS rounds (rate in lifecycles/s, latency in ms)"
printf '%-8s %3s %9s %8s %8s %8s\n' tool c rate p50 p90 p99
for c in 1 4; do
    for tool in $TOOLS; do
        printf '%-8s %3s %9s %8s %8s %8s\n' "$tool" "$c" "$(field "$tool" $c rate | median)" \
            "$(field "$tool" $c p50 | median)" "$(field "$tool" $c p90 | median)" "$(field "$tool" $c p99 | median)"
    done
done
echo
for c in 1 4; do
    for pair in "${PAIRS[@]}"; do
        # shellcheck disable=SC2086 # the pair splits into its two tools
        ratio_line "$c" $pair
    done
done
if has_tool berth && has_tool runc; then
    b=$(field berth 1 p50 | median); u=$(field runc 1 p50 | median)
    awk -v b="$b" -v u="$u" 'BEGIN {
        printf "sequential latency: Berth p50 %.1f ms vs runc run %.1f ms = %.2fx (target <= 1.6x: %s)\n", b, u, b / u, (b / u <= 1.6 ? "met" : "MISSED") }'
fi
if [ "$STDOUT_ROUNDS" -gt 0 ]; then
    stdout_rate() { grep "^$1-stdout " "$RESULTS" | sed -E 's/.*rate=([0-9.]+).*/\1/' | median; }
    printf 'stdout %d MiB, median MiB/s:' "$STDOUT_MIB"
    for tool in $TOOLS; do printf ' %s %.0f' "$tool" "$(stdout_rate "$tool")"; done
    echo
    for pair in "${PAIRS[@]}"; do
        read -r a b <<<"$pair"
        awk -v an="$a" -v bn="$b" -v a="$(stdout_rate "$a")" -v b="$(stdout_rate "$b")" 'BEGIN {
            printf "stdout: %s/%s %.2fx", an, bn, a / b
            if (bn == "ctr" && an ~ /^berth/) printf " (target >= 2x: %s)", (a / b >= 2 ? "met" : "MISSED")
            printf "\n" }'
    done
fi
if [ "${EVENTS:-0}" = 1 ]; then
    echo
    echo "# inside containerd: median ms between one container's events (benchmarks/daemon-phases.sh)"
    benchmarks/daemon-phases.sh "$WORK/events"
fi
