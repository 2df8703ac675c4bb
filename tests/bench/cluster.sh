#!/usr/bin/env bash
# The saved analyses on one machine and on 1 and 2 local workers, side by side (README, "Scaling
# out"). Each run starts from fresh processes, workers included, so every run reads and meshes
# all 831 masks (the feature cache lives in a process); the page cache is warm after the first.
#
# Usage: tests/bench/cluster.sh [DATA] [RUNS]
#   DATA  the full-size cohort (default $TMPDIR/npcql-full, written by `npcql sample --full-size`
#         when missing: about 6 minutes, 11 GB)
#   RUNS  runs per configuration (default 5); the median and the range are printed
#   PIN=1 one core per process: the single process and the first worker on core 0, the second
#         worker on core 1 (two one-core machines, simulated; the coordinator shares core 0)
#   NPCQL the npcql binary, built with `--features distributed` (default: the dev build in
#         $CARGO_TARGET_DIR, or target/)
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA="${1:-${TMPDIR:-/tmp}/npcql-full}"
RUNS="${2:-5}"
NPCQL="${NPCQL:-${CARGO_TARGET_DIR:-target}/debug/npcql}"
"$NPCQL" worker --help >/dev/null 2>&1 || {
    echo "$NPCQL has no 'worker' command: build it with cargo build --features distributed" >&2
    exit 1
}
if [ ! -d "$DATA/MRI-Segments" ]; then
    echo "writing the full-size cohort to $DATA ..." >&2
    "$NPCQL" sample --full-size --out "$DATA" >&2
fi

# `on_core N command...`: the command, pinned to core N when PIN=1.
on_core() {
    local core=$1; shift
    if [ "${PIN:-0}" = 1 ]; then taskset -c "$core" "$@"; else "$@"; fi
}

WORKER_PIDS=()
stop_workers() {
    for pid in "${WORKER_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${WORKER_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    # `on_core N command...`: the command, pinned to core N when PIN=1.
on_core() {
    local core=$1; shift
    if [ "${PIN:-0}" = 1 ]; then taskset -c "$core" "$@"; else "$@"; fi
}

WORKER_PIDS=()
}
trap stop_workers EXIT

# Starts N workers on free ports; sets WORKERS to their addresses joined by commas. (Not a
# command substitution: the subshell would lose the pids and wait on the workers' stdout.)
start_workers() {
    local addresses=() log
    for core in $(seq 0 $(($1 - 1))); do
        log=$(mktemp)
        on_core "$core" "$NPCQL" worker --listen 127.0.0.1:0 -d "$DATA" >"$log" 2>&1 &
        WORKER_PIDS+=($!)
        until grep -q "listening on" "$log"; do sleep 0.05; done
        addresses+=("$(sed -n 's/^npcql worker listening on \([^,]*\),.*/\1/p' "$log")")
    done
    WORKERS=$(IFS=,; echo "${addresses[*]}")
}

# Seconds for one `npcql -f QUERY` with extra flags, results discarded.
time_query() {
    local query=$1; shift
    local start end
    start=$(date +%s%N)
    on_core 0 "$NPCQL" -d "$DATA" "$@" -f "$query" >/dev/null
    end=$(date +%s%N)
    awk -v ns=$((end - start)) 'BEGIN { printf "%.3f\n", ns / 1e9 }'
}

# "median (min–max)" of the numbers on stdin.
summary() {
    sort -n | awk '{ v[NR] = $1 } END {
        m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf "%.2f s (%.2f–%.2f)", m, v[1], v[NR] }'
}

"$NPCQL" -d "$DATA" -c "SELECT count(*) FROM masks" >/dev/null   # warm the page cache
echo "npcql: $NPCQL; cohort: $DATA; $RUNS runs each; $(nproc) cores$([ "${PIN:-0}" = 1 ] && echo ", one per process")"
printf "%-34s %-24s %-24s %-24s\n" "analysis" "one process" "1 worker" "2 workers"
for query in queries/morphology_by_ebv.sql queries/cox_morphology.sql; do
    local_times=() one=() two=()
    for _ in $(seq "$RUNS"); do
        local_times+=("$(time_query "$query")")
        start_workers 1
        one+=("$(time_query "$query" --workers "$WORKERS")")
        stop_workers
        start_workers 2
        two+=("$(time_query "$query" --workers "$WORKERS")")
        stop_workers
    done
    printf "%-34s %-24s %-24s %-24s\n" "$query" \
        "$(printf '%s\n' "${local_times[@]}" | summary)" \
        "$(printf '%s\n' "${one[@]}" | summary)" \
        "$(printf '%s\n' "${two[@]}" | summary)"
done
