#!/usr/bin/env bash
# A private containerd for benchmarks and tests, isolated from any other containerd on the host.
#
#   private-containerd.sh start [DIR]   start one over DIR (default: a new mktemp -d directory) and print, on stdout,
#                                       shell assignments for eval:
#                                         PCD_DIR=…        the directory holding everything below
#                                         PCD_ADDRESS=…    the gRPC socket (ctr -a "$PCD_ADDRESS")
#                                         PCD_RUNC_ROOT=…  a runc root inside DIR: pass ctr run --runc-root "$PCD_RUNC_ROOT"
#                                                          so runc state never lands in the shared /run/containerd/runc
#                                         PCD_FIFO_DIR=…   a FIFO directory inside DIR: pass ctr run --fifo-dir "$PCD_FIFO_DIR"
#                                         PCD_PID=…        the daemon's pid
#   private-containerd.sh stop DIR      stop it and remove DIR; exits 1 if something could not be removed
#
# Layout of DIR: config.toml, containerd.log, containerd.pid, root/ (containerd root), state/ (containerd state),
# containerd.sock (gRPC), containerd.sock.ttrpc (the shims' events), debug.sock, opt/, runc/, fifo/.
# The config is containerd's version 2 with the CRI plugin disabled: no CNI, no image needed; run containers with
# `ctr run --rootfs DIR`. Needs root and containerd 1.6 (containerd, ctr, containerd-shim-runc-v2, runc on PATH).
#
# stop leaves nothing behind, even after a crashed client or a killed daemon:
#   1. while the daemon answers: in every namespace, SIGKILL and delete each task, then remove each container;
#   2. SIGTERM the daemon (SIGKILL after 10 s);
#   3. SIGKILL any containerd-shim-runc-v2 still carrying `-address DIR/containerd.sock` and remove its socket
#      (the path in the bundle's `address` file, under /run/containerd/s);
#   4. `runc --root <r> delete --force` every container left in DIR/runc/<ns> and in the default
#      /run/containerd/runc/<ns> of each namespace whose bundle is still in DIR (a client that did not pass --runc-root),
#      then rmdir the default roots of the daemon's namespaces when empty;
#   5. unmount every mount under DIR, deepest first;
#   6. rm -rf DIR.
# The paths must fit a Unix socket (107 bytes): keep DIR short (the default, /tmp/pcd.XXXXXX, does).
set -euo pipefail

usage() {
    sed -n '2,12p' "$0" >&2
    exit 2
}

# Writes DIR/config.toml.
write_config() {
    local dir=$1
    cat >"$dir/config.toml" <<EOF
version = 2
root = "$dir/root"
state = "$dir/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]

[grpc]
  address = "$dir/containerd.sock"

[ttrpc]
  address = "$dir/containerd.sock.ttrpc"

[debug]
  address = "$dir/debug.sock"
  level = "warn"

[plugins."io.containerd.internal.v1.opt"]
  path = "$dir/opt"
EOF
}

start() {
    local dir=${1:-}
    if [ -z "$dir" ]; then
        dir=$(mktemp -d /tmp/pcd.XXXXXX)
    else
        mkdir -p "$dir"
        dir=$(cd "$dir" && pwd -P)
    fi
    if [ -e "$dir/containerd.pid" ] && kill -0 "$(cat "$dir/containerd.pid")" 2>/dev/null; then
        echo "private-containerd: already running over $dir (pid $(cat "$dir/containerd.pid"))" >&2
        exit 1
    fi
    if [ ${#dir} -gt 80 ]; then
        echo "private-containerd: $dir is too long for its sockets" >&2
        exit 1
    fi
    mkdir -p "$dir/runc" "$dir/fifo"
    write_config "$dir"
    setsid containerd --config "$dir/config.toml" >"$dir/containerd.log" 2>&1 </dev/null &
    local pid=$!
    echo "$pid" >"$dir/containerd.pid"
    local i
    for i in $(seq 1 100); do
        if ctr -a "$dir/containerd.sock" version >/dev/null 2>&1; then
            printf 'PCD_DIR=%q\nPCD_ADDRESS=%q\nPCD_RUNC_ROOT=%q\nPCD_FIFO_DIR=%q\nPCD_PID=%q\n' \
                "$dir" "$dir/containerd.sock" "$dir/runc" "$dir/fifo" "$pid"
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            break
        fi
        sleep 0.05
    done
    echo "private-containerd: containerd did not come up; its log:" >&2
    cat "$dir/containerd.log" >&2 || true
    stop "$dir" || true
    exit 1
}

# Pids of live shims whose argv holds the exact argument "$1".
shims_of() {
    local address=$1 proc argv
    for proc in /proc/[0-9]*; do
        # A shim's argv: containerd-shim-runc-v2 -namespace NS -id ID -address ADDRESS
        argv=$(tr '\0' '\n' 2>/dev/null <"$proc/cmdline") || continue
        if [[ $(head -n1 <<<"$argv") == *containerd-shim* ]] && grep -qxF -- "$address" <<<"$argv"; then
            echo "${proc#/proc/}"
        fi
    done
}

stop() {
    local dir=${1:?private-containerd.sh stop DIR}
    [ -d "$dir" ] || { echo "private-containerd: no directory $dir" >&2; return 0; }
    dir=$(cd "$dir" && pwd -P)
    [ -f "$dir/config.toml" ] || { echo "private-containerd: $dir holds no config.toml; not touching it" >&2; exit 1; }
    local address="$dir/containerd.sock" status=0 ns id pid namespaces=""

    # 1. Graceful: tasks and containers, while the daemon answers.
    if ctr -a "$address" version >/dev/null 2>&1; then
        namespaces=$(ctr -a "$address" namespaces ls -q 2>/dev/null || true)
        for ns in $namespaces; do
            for id in $(ctr -a "$address" -n "$ns" tasks ls -q 2>/dev/null); do
                ctr -a "$address" -n "$ns" tasks kill -s SIGKILL "$id" >/dev/null 2>&1 || true
                ctr -a "$address" -n "$ns" tasks delete --force "$id" >/dev/null 2>&1 || true
            done
            for id in $(ctr -a "$address" -n "$ns" containers ls -q 2>/dev/null); do
                ctr -a "$address" -n "$ns" containers rm "$id" >/dev/null 2>&1 || true
            done
        done
    fi

    # 2. The daemon.
    if [ -f "$dir/containerd.pid" ]; then
        pid=$(cat "$dir/containerd.pid")
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
            for _ in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
            kill -KILL "$pid" 2>/dev/null || true
        fi
        rm -f "$dir/containerd.pid"
    fi

    # 3. Shims that outlived the daemon, and their sockets.
    for pid in $(shims_of "$address"); do
        echo "private-containerd: killing stray shim $pid" >&2
        kill -KILL "$pid" 2>/dev/null || true
    done
    local bundle
    for bundle in "$dir"/state/io.containerd.runtime.v2.task/*/*; do
        [ -d "$bundle" ] || continue
        if [ -f "$bundle/address" ]; then
            local sock
            sock=$(sed 's|^unix://||' "$bundle/address")
            case "$sock" in /run/containerd/s/*) rm -f "$sock" ;; esac
        fi
    done

    # 4. runc containers: the private root, then the default root of namespaces with bundles left.
    local root
    for root in "$dir"/runc/*; do
        [ -d "$root" ] || continue
        for id in $(runc --root "$root" list -q 2>/dev/null); do
            echo "private-containerd: deleting runc container $id in $root" >&2
            runc --root "$root" delete --force "$id" >/dev/null 2>&1 || true
        done
    done
    for bundle in "$dir"/state/io.containerd.runtime.v2.task/*/*; do
        [ -d "$bundle" ] || continue
        ns=$(basename "$(dirname "$bundle")")
        id=$(basename "$bundle")
        if runc --root "/run/containerd/runc/$ns" state "$id" >/dev/null 2>&1; then
            echo "private-containerd: deleting runc container $id in /run/containerd/runc/$ns" >&2
            runc --root "/run/containerd/runc/$ns" delete --force "$id" >/dev/null 2>&1 || true
        fi
        namespaces="$namespaces $ns"
    done
    # The shim's cleanup creates the default root of a namespace even for clients that passed --runc-root; remove
    # the ones left empty (rmdir does nothing to a non-empty one, which another client may be using).
    for ns in $namespaces; do
        rmdir "/run/containerd/runc/$ns" 2>/dev/null || true
    done

    # 5. Mounts under DIR (bundle rootfs binds, snapshots), deepest first.
    local mnt
    while read -r mnt; do
        umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || { echo "private-containerd: cannot unmount $mnt" >&2; status=1; }
    done < <(awk -v d="$dir/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r)

    # 6. The directory.
    rm -rf "$dir" || status=1
    if [ -e "$dir" ]; then
        echo "private-containerd: could not remove $dir" >&2
        status=1
    fi
    return "$status"
}

case "${1:-}" in
    start) shift; start "$@" ;;
    stop) shift; stop "$@" ;;
    *) usage ;;
esac
