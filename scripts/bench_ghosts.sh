#!/usr/bin/env bash
# Ghost exchange of the compressed storage: single- against double-precision ghost values
# (-compressed_ghost_precision), with and without overlap (-compressed_ghost_overlap), on the same
# network. Runs the benchmark mode of tests/unit/t203-compressed, which times every product's
# exchange (the event RmGhostExchange, slowest rank) and the product itself; the four settings run
# in turn, ROUNDS times (interleaved, so each sees the same machine state), and the table gives the
# min over all products of all rounds and the median of the rounds' medians.
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

settings=("double 1" "single 1" "double 0" "single 0")
{
  echo "# bench_ghosts.sh $(date -u +%FT%TZ): ${LAUNCH} t203-compressed -bench_n $N -bench_K $K -bench_P $P -bench_repeat $REPEAT -bench_skip_aij $*; $ROUNDS rounds"
  echo "# git $(git -C "$repo" rev-parse --short HEAD)$(git -C "$repo" diff --quiet || echo '+dirty'); load average $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee -a "$LOG"
for ((r = 1; r <= ROUNDS; r++)); do
  for s in "${settings[@]}"; do
    read -r prec ovl <<< "$s"
    out=$tmp/$prec-$ovl-$r.txt
    nice "${launch[@]}" "$exe" -bench_n "$N" -bench_K "$K" -bench_P "$P" -bench_repeat "$REPEAT" -bench_skip_aij \
      -compressed_ghost_precision "$prec" -compressed_ghost_overlap "$ovl" "$@" > "$out" 2>&1 \
      || { tail -n 20 "$out" >&2; echo "bench_ghosts.sh: the run $prec/$ovl failed" >&2; exit 1; }
    grep -E "ghost exchange|compressed:" "$out" | sed "s/^/# round $r $prec overlap=$ovl:/" >> "$LOG"
  done
done
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$LOG"

# min over rounds of the per-run min, median of the per-run medians (ms); exchange, then product
summary() {  # summary PREC OVL -> "xmin xmed pmin pmed bytes ghosts"
  local f xs=() xm=() ps=() pm=() bytes ghosts
  for f in "$tmp/$1-$2-"*.txt; do
    xs+=("$(sed -n 's/.* min \([0-9.]*\) ms median \([0-9.]*\) ms per product.*/\1/p' "$f")")
    xm+=("$(sed -n 's/.* min \([0-9.]*\) ms median \([0-9.]*\) ms per product.*/\2/p' "$f")")
    ps+=("$(sed -n 's/.*MatMult wall min \([0-9.]*\) s median \([0-9.]*\) s.*/\1/p' "$f")")
    pm+=("$(sed -n 's/.*MatMult wall min \([0-9.]*\) s median \([0-9.]*\) s.*/\2/p' "$f")")
    bytes=$(sed -n 's/.* \([0-9]*\) bytes sent per product.*/\1/p' "$f")
    ghosts=$(sed -n 's/.*, \([0-9]*\) ghost values.*/\1/p' "$f")
  done
  min() { printf '%s\n' "$@" | sort -g | head -n 1; }
  med() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
  echo "$(min "${xs[@]}") $(med "${xm[@]}") $(awk -v t="$(min "${ps[@]}")" 'BEGIN {print t * 1e3}') $(awk -v t="$(med "${pm[@]}")" 'BEGIN {print t * 1e3}') $bytes $ghosts"
}
{
  echo "| ghosts | overlap | ghost values | bytes sent per product | exchange ms, min | exchange ms, median | product ms, min | product ms, median |"
  echo "|---|---|---|---|---|---|---|---|"
  for s in "${settings[@]}"; do
    read -r prec ovl <<< "$s"
    read -r xmin xmed pmin pmed bytes ghosts <<< "$(summary "$prec" "$ovl")"
    echo "| $prec | $([ "$ovl" = 1 ] && echo yes || echo no) | $ghosts | $bytes | $xmin | $xmed | $pmin | $pmed |"
    eval "x_${prec}_${ovl}_min=$xmin x_${prec}_${ovl}_med=$xmed"
  done
  awk -v a="$x_double_0_min" -v b="$x_single_0_min" -v c="$x_double_0_med" -v d="$x_single_0_med" \
    'BEGIN {printf "\nexchange without overlap, double/single: %.2fx (min), %.2fx (median)\n", a / b, c / d}'
} | tee -a "$LOG"
