#!/usr/bin/env bash
# Start-up cost of a whole ratemem process: wall time, CPU time (user + sys, children included) and
# wall - CPU (time spent waiting, not computing) of a small retrieval, in interleaved rounds.
#   singleton            build/ratemem retrieve ... (no launcher: ratemem's singleton MPI defaults,
#                        src/app/main.c MPISingletonDefaults)
#   singleton, OMPI      the same with Open MPI's own defaults (OMPI_MCA_ess_singleton_isolated=0,
#                        OMPI_MCA_pml empty: a value in the environment is never overridden)
#   mpiexec -n 1, -n 2   under mpiexec (nothing changed there); for -n 2 the CPU time is summed
#                        over both ranks, so wall - CPU is not an idle time
# Usage: scripts/startup_bench.sh [ROUNDS (5)] [NEURONS (1000)]; RATEMEM=path overrides build/ratemem.
# Prints min and median of each figure, and the load average before and after.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
n=${2:-1000}
exe=${RATEMEM:-build/ratemem}
[ -x "$exe" ] || { echo "startup_bench: $exe not found (bash scripts/build.sh)" >&2; exit 2; }
args=(retrieve -neurons "$n" -memories 10 -trials 1 -quiet)
mpiexec_=(mpiexec --oversubscribe)
[ "$(id -u)" = 0 ] && mpiexec_+=(--allow-run-as-root)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cases=("singleton" "singleton, OMPI" "mpiexec -n 1" "mpiexec -n 2")
run_case() { # case index -> appends "wall cpu" to $tmp/k
  local k=$1 cmd
  case $k in
    0) cmd=("$exe" "${args[@]}") ;;
    1) cmd=(env OMPI_MCA_ess_singleton_isolated=0 OMPI_MCA_pml= "$exe" "${args[@]}") ;;
    2) cmd=("${mpiexec_[@]}" -n 1 "$exe" "${args[@]}") ;;
    3) cmd=("${mpiexec_[@]}" -n 2 "$exe" "${args[@]}") ;;
  esac
  /usr/bin/time -f "%e %U %S" -o "$tmp/t" "${cmd[@]}" >/dev/null
  awk '{printf "%.3f %.3f\n", $1, $2 + $3}' "$tmp/t" >>"$tmp/$k"
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for k in 0 1 2 3; do run_case "$k"; : >"$tmp/$k"; done # warm-up (page cache), not counted
for ((r = 0; r < rounds; r++)); do
  for k in 0 1 2 3; do run_case "$k"; done
done
echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"
echo "ratemem retrieve -neurons $n -memories 10 -trials 1 -quiet, $rounds interleaved rounds (seconds, min / median)"
printf "%-18s %15s %15s %15s\n" case wall cpu wall-cpu
for k in 0 1 2 3; do
  /usr/bin/python3 - "$tmp/$k" "${cases[$k]}" <<'EOF'
import sys, statistics as st
rows = [tuple(map(float, l.split())) for l in open(sys.argv[1]) if l.strip()]
w = [a for a, _ in rows]; c = [b for _, b in rows]; d = [a - b for a, b in rows]
f = lambda v: "%6.3f / %6.3f" % (min(v), st.median(v))
print("%-18s %15s %15s %15s" % (sys.argv[2], f(w), f(c), f(d)))
EOF
done
