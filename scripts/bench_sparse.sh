#!/usr/bin/env bash
# Compressed diluted storage vs MATAIJ: synapse-updates per second of W x for the same
# network (same memories, same K inputs per neuron), both timed in the same run, interleaved, next
# to a STREAM triad on every rank. Runs the benchmark mode of tests/unit/t203-compressed.
#
#   scripts/bench_sparse.sh [extra program options, e.g. -compressed_block_cols 16384]
#   env: NPS="1 2"  NS="100000 1000000"  KS="100 1000"  REPEAT=7  P=10  DESIGN=paper
#        LOG=bench_sparse.log  T203=path/to/t203-compressed  MPIEXEC_FLAGS="--allow-run-as-root --oversubscribe"
#
# Memory: MATAIJ takes ~12.1 B per synapse (and on several ranks its assembly copies the
# off-diagonal part once more: +6 B per off-rank synapse), the compressed format ~4.5-6.7 B plus
# 4 B per synapse of set-up temporaries (built first and freed before MATAIJ is assembled). A point whose estimated
# peak does not fit in 90% of MemAvailable runs without MATAIJ (-bench_skip_aij) or is skipped.
# The machine is shared and noisy: read the ratio of one run (min and median of REPEAT products),
# not absolute times across runs.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
NPS=${NPS:-"1 2"}
NS=${NS:-"100000 1000000"}
KS=${KS:-"100 1000"}
REPEAT=${REPEAT:-7}
P=${P:-10}
DESIGN=${DESIGN:-paper}
LOG=${LOG:-bench_sparse.log}
read -r -a mpiflags <<< "${MPIEXEC_FLAGS:---allow-run-as-root --oversubscribe}"

exe=${T203:-$repo/build/tests/unit/t203-compressed}
[ -x "$exe" ] || { echo "bench_sparse.sh: $exe not found: build first (bash scripts/build.sh builds tests/unit/t203-compressed)" >&2; exit 1; }

{
  echo "# bench_sparse.sh $(date -u +%FT%TZ) on $(hostname): $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores"
  echo "# git $(git -C "$repo" rev-parse --short HEAD)$(git -C "$repo" diff --quiet || echo '+dirty'); load average $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee -a "$LOG"
for np in $NPS; do
  for n in $NS; do
    for K in $KS; do
      syn=$((n * K))
      avail=$(awk '/MemAvailable/ {print $2 * 1024}' /proc/meminfo)
      peak_both=$(awk -v s="$syn" -v p="$np" 'BEGIN {a = 11 * s; b = (18.8 + 6.1 * (p - 1) / p) * s; printf "%.0f", (a > b ? a : b) + 5e8}')
      peak_ours=$(awk -v s="$syn" 'BEGIN {printf "%.0f", 11 * s + 5e8}')
      extra=()
      if awk -v p="$peak_both" -v a="$avail" 'BEGIN {exit !(p > 0.9 * a)}'; then
        if awk -v p="$peak_ours" -v a="$avail" 'BEGIN {exit !(p > 0.9 * a)}'; then
          echo "# skipped n $n K $K np $np: needs ~$((peak_ours / 1000000000)) GB, $((avail / 1000000000)) GB available" | tee -a "$LOG"
          continue
        fi
        echo "# n $n K $K np $np: MATAIJ skipped, both would need ~$((peak_both / 1000000000)) GB, $((avail / 1000000000)) GB available" | tee -a "$LOG"
        extra=(-bench_skip_aij)
      fi
      cmd=(mpiexec "${mpiflags[@]}" -n "$np" "$exe" -bench_n "$n" -bench_K "$K" -bench_P "$P" -bench_design "$DESIGN" -bench_repeat "$REPEAT" "${extra[@]}" "$@")
      echo "\$ ${cmd[*]}   (load $(cut -d' ' -f1 /proc/loadavg))" | tee -a "$LOG"
      "${cmd[@]}" 2>&1 | tee -a "$LOG"
    done
  done
done
