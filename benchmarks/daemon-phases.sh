#!/usr/bin/env bash
# Where a lifecycle's time goes inside containerd, per client, from the daemon's own event timestamps.
#
#   benchmarks/daemon-phases.sh EVENTS_FILE
#
# EVENTS_FILE is the output of `ctr -a SOCKET events` over the rounds (containers-side-by-side.sh records it with
# EVENTS=1). Each container's id must carry its round's concurrency as `-c<N>-` (the driver's lc<pid>-c4-17, the
# script's ctr1-c4-2-9). For every namespace (bench-cd: Berth over containerd; bench-ctr: ctr run --rm) and
# concurrency, the median milliseconds between the daemon's events of one container:
#   create      /containers/create -> /tasks/create   shim start action, shim connect, runc create
#   start       /tasks/create -> /tasks/start         the client's Start call (runc start)
#   exit        /tasks/start -> /tasks/exit           /bin/true runs
#   del-task    /tasks/exit -> /tasks/delete          the client sees the exit and calls Tasks/Delete (runc delete)
#   del-ctr     /tasks/delete -> /containers/delete   the shim's shutdown, the bundle removed, Containers/Delete
#   client      /containers/delete -> the same client's next /containers/create (concurrency 1 only): the client's
#               own time between lifecycles (for ctr: its exit, the next fork+exec, its setup)
# Containers missing an event are left out; n is how many counted.
set -euo pipefail
[ $# = 1 ] || { sed -n '2,17p' "$0" >&2; exit 2; }
# ctr events lines: DATE TIME +0000 UTC NAMESPACE TOPIC JSON
awk '
{
    split($2, t, ":"); ts = (t[1] * 3600 + t[2] * 60 + t[3]) * 1000
    if (!match($0, /"(id|container_id)":"[^"]+"/)) next
    id = substr($0, RSTART, RLENGTH); sub(/^"[a-z_]+":"/, "", id); sub(/"$/, "", id)
    if (!match(id, /-c[0-9]+-/)) next
    c = substr(id, RSTART + 2, RLENGTH - 3)
    key = $5 " " c " " id
    if (!((key, $6) in at)) at[key, $6] = ts
    if (!(key in seen)) { seen[key] = 1; keys[++n] = key }
}
END {
    split("/containers/create /tasks/create /tasks/start /tasks/exit /tasks/delete /containers/delete", topic, " ")
    split("create start exit del-task del-ctr", stage, " ")
    for (i = 1; i <= n; i++) {
        k = keys[i]; ok = 1
        for (j = 1; j <= 6; j++) if (!((k, topic[j]) in at)) ok = 0
        if (!ok) continue
        split(k, f, " "); group = f[1] " " f[2]
        for (j = 1; j <= 5; j++) printf "%s %d %.3f\n", group, j, at[k, topic[j + 1]] - at[k, topic[j]]
        if (f[2] == 1 && (group in last)) printf "%s 6 %.3f\n", group, at[k, topic[1]] - last[group]
        last[group] = at[k, topic[6]]
    }
}' "$1" | sort -k1,1 -k2,2n -k3,3n -k4,4n | awk '
BEGIN { split("create start exit del-task del-ctr client", name, " ") }
function flush() {
    if (cnt) {
        med = cnt % 2 ? v[(cnt + 1) / 2] : (v[cnt / 2] + v[cnt / 2 + 1]) / 2
        out[grp] = out[grp] sprintf(" %s=%.1f", name[st], med)
        if (st == 1) num[grp] = cnt
    }
    cnt = 0
}
{
    g = $1 " c=" $2
    if (g != grp || $3 != st) { flush(); grp = g; st = $3; if (!(g in out)) order[++ng] = g }
    v[++cnt] = $4
}
END {
    flush()
    for (i = 1; i <= ng; i++) printf "%-9s %s n=%d median ms:%s\n", substr(order[i], 1, index(order[i], " ") - 1),
        substr(order[i], index(order[i], " ") + 1), num[order[i]], out[order[i]]
}'
