#!/usr/bin/env bash
# Ghost exchange of the compressed storage: single- against double-precision ghost values
# (-compressed_ghost_precision) on the same network, with and without overlap
# (-compressed_ghost_overlap). Runs the benchmark mode of tests/unit/t203-compressed with
# -bench_ghost_pairs: in one process, REPEAT pairs of products, one with double and one with single
# ghosts (the order alternating), each timing its exchange (the event RmGhostExchange, slowest rank)
# and the product; so both precisions see the same machine state, and the ratio is taken pair by
# pair. ROUNDS runs of each overlap setting, in turn. The table gives the min over all products of
# all runs, the median of the runs' medians, and the median of the runs' per-pair ratio medians.
#
#   scripts/bench_ghosts.sh [extra program options, e.g. -connectivity ring -radius 50]
#   env: NP=2  N=500000  K=100  P=10  REPEAT=30  ROUNDS=3  LOG=bench_ghosts.log
#        LAUNCH="mpiexec --allow-run-as-root --oversubscribe -n 2"   (how to start NP ranks)
#        T203=path/to/t203-compressed
# On the emulated cluster (scripts/cluster_local.sh, one rank per node):
#   LAUNCH="bash scripts/cluster_local.sh mpirun -n 3 --map-by node" scripts/bench_ghosts.sh
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
NP=${NP:-2}
N=${N:-500000}
K=${K:-100}
P=${P:-10}
REPEAT=${REPEAT:-30}
ROUNDS=${ROUNDS:-3}
LOG=${LOG:-bench_ghosts.log}
LAUNCH=${LAUNCH:-"mpiexec --allow-run-as-root --oversubscribe -n $NP"}
read -r -a launch <<< "$LAUNCH"
exe=${T203:-$repo/build/tests/unit/t203-compressed}
[ -x "$exe" ] || { echo "bench_ghosts.sh: $exe not found: build first (bash scripts/build.sh)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

{
  echo "# bench_ghosts.sh $(date -u +%FT%TZ): ${LAUNCH} t203-compressed -bench_n $N -bench_K $K -bench_P $P -bench_repeat $REPEAT -bench_ghost_pairs $*; $ROUNDS runs per setting"
  echo "# git $(git -C "$repo" rev-parse --short HEAD)$(git -C "$repo" diff --quiet || echo '+dirty'); load average $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee -a "$LOG"
for ((r = 1; r <= ROUNDS; r++)); do
  for ovl in 0 1; do
    out=$tmp/$ovl-$r.txt
    nice "${launch[@]}" "$exe" -bench_n "$N" -bench_K "$K" -bench_P "$P" -bench_repeat "$REPEAT" -bench_ghost_pairs \
      -compressed_ghost_overlap "$ovl" "$@" > "$out" 2>&1 \
      || { tail -n 20 "$out" >&2; echo "bench_ghosts.sh: the run with -compressed_ghost_overlap $ovl failed" >&2; exit 1; }
    grep -A3 "^ghost pairs" "$out" | sed "s/^/# run $r overlap=$ovl: /" >> "$LOG"
  done
done
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$LOG"

min() { printf '%s\n' "$@" | sort -g | head -n 1; }
med() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
# field OVL PREC WHICH: one number per run (WHICH: xmin xmed pmin pmed)
field() {
  local f
  for f in "$tmp/$1-"*.txt; do
    sed -n "s/^  $2 ghosts: exchange min \([0-9.]*\) ms median \([0-9.]*\) ms; product min \([0-9.]*\) ms median \([0-9.]*\) ms/\1 \2 \3 \4/p" "$f" |
      awk -v w="$3" '{print (w == "xmin" ? $1 : w == "xmed" ? $2 : w == "pmin" ? $3 : $4)}'
  done
}
{
  echo "| overlap | ghosts | bytes sent per product | exchange ms, min | exchange ms, median | product ms, min | product ms, median | exchange double/single, per pair (median) |"
  echo "|---|---|---|---|---|---|---|---|"
  for ovl in 0 1; do
    ratios=$(for f in "$tmp/$ovl-"*.txt; do sed -n 's/.*per pair: median \([0-9.]*\),.*/\1/p' "$f"; done)
    for prec in double single; do
      bytes=$(sed -n "s/.*bytes sent per product double \([0-9]*\) single \([0-9]*\).*/$([ $prec = double ] && echo '\1' || echo '\2')/p" "$tmp/$ovl-1.txt")
      # shellcheck disable=SC2046
      echo "| $([ "$ovl" = 1 ] && echo yes || echo no) | $prec | $bytes | $(min $(field $ovl $prec xmin)) | $(med $(field $ovl $prec xmed)) | $(min $(field $ovl $prec pmin)) | $(med $(field $ovl $prec pmed)) | $([ $prec = single ] && med $ratios || echo) |"
    done
  done
  echo
  grep -h "^ghost pairs" "$tmp"/0-1.txt | sed 's/ repeat.*: / /; s/^/network: /'
} | tee -a "$LOG"
