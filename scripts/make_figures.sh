#!/usr/bin/env bash
# Regenerates the committed figures and CSVs of docs/results.md (docs/results/) from the experiment
# configs of configs/experiments/: each sweep runs into results/NAME.csv (git-ignored; a rerun skips
# the points already there, so an interrupted run resumes), is plotted into results/, and the CSV,
# PNG (and JSON) are then copied over docs/results/. docs/results.md lists each experiment's measured wall
# time (the longest: the projection design's capacity, 35 min, and the Hebbian curve at n = 16000, 15 min,
# on 1 rank); the test suite does not run it.
#
# Usage: scripts/make_figures.sh [--dry-run] [--np N] [--fresh] [EXPERIMENT ...]
#   EXPERIMENT   basin capacity stabmap authors digits rewire census capacity_designs (default: all eight)
#   --dry-run    print the commands, run nothing
#   --np N       MPI ranks (default: $RATEMEM_NP, else 2)
#   --fresh      delete the experiment's results/ CSV first, so every point is computed again
# stabmap also needs the phase diagram docs/phase.csv, which `phase` regenerates (scripts/plot_phase.py
# --run, docs/stability.md); it is not in the default list because it rewrites docs/phase.{csv,json,png}.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

dry=0 fresh=0 np=${RATEMEM_NP:-2} names=()
while [ $# -gt 0 ]; do
  case $1 in
    --dry-run) dry=1 ;;
    --fresh) fresh=1 ;;
    --np) [ $# -ge 2 ] || { echo "make_figures: --np needs a number" >&2; exit 2; }; np=$2; shift ;;
    --np=*) np=${1#--np=} ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    basin|capacity|stabmap|authors|digits|rewire|census|capacity_designs|phase) names+=("$1") ;;
    *) echo "make_figures: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[ ${#names[@]} -gt 0 ] || names=(basin capacity stabmap authors digits rewire census capacity_designs)
[[ $np =~ ^[1-9][0-9]*$ ]] || { echo "make_figures: --np must be a positive integer" >&2; exit 2; }

PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
MPI=(scripts/ratemem-mpi -n "$np")

# run CMD...: print it; run it unless --dry-run
run() {
  printf '+'; printf ' %q' "$@"; printf '\n'
  [ "$dry" -eq 1 ] || "$@"
}
sweep() {   # sweep CONFIG_NAME: the experiment's sweep into results/CONFIG_NAME.csv
  if [ "$fresh" -eq 1 ]; then run rm -f "results/$1.csv"; fi
  run "${MPI[@]}" sweep -options_file_yaml "configs/experiments/$1.yaml" -sweep_csv "results/$1.csv"
}
publish() {   # publish FILE...: copy results/FILE over docs/results/FILE
  local f
  for f in "$@"; do run cp "results/$f" "docs/results/$f"; done
}

if [ "$dry" -eq 0 ] && [ ! -x build/ratemem ]; then
  echo "make_figures: build/ratemem not found; run bash scripts/build.sh first" >&2; exit 1
fi
run mkdir -p results

for name in "${names[@]}"; do
  echo "== $name" >&2
  case $name in
    basin)
      sweep basin
      run "$PY" scripts/plot_basin.py results/basin.csv results/basin.png
      publish basin.csv basin.png ;;
    capacity)
      sweep capacity
      sweep capacity_paper
      # n = 16000, into the same CSVs: the Hebbian loads of capacity.yaml, the paper design's around its transition
      run "${MPI[@]}" sweep -options_file_yaml configs/experiments/capacity.yaml -sweep_neurons 16000 -sweep_csv results/capacity.csv
      run "${MPI[@]}" sweep -options_file_yaml configs/experiments/capacity_paper.yaml -sweep_neurons 16000 \
        -sweep_load 0.1,0.11,0.12,0.13,0.14 -sweep_csv results/capacity_paper.csv
      run "$PY" scripts/plot_capacity.py results/capacity.csv results/capacity.png --paper results/capacity_paper.csv --table
      publish capacity.csv capacity_paper.csv capacity.png ;;
    stabmap)
      sweep stabmap
      run "$PY" scripts/plot_stabmap.py docs/phase.csv results/stabmap.csv results/stabmap.png --summary results/stabmap.json
      publish stabmap.csv stabmap.png stabmap.json ;;
    authors)
      sweep authors
      sweep authors_converged
      run "$PY" scripts/plot_authors.py results/authors.csv results/authors.png --converged results/authors_converged.csv
      publish authors.csv authors_converged.csv authors.png ;;
    digits)
      run "$PY" scripts/digits_example.py --exe build/ratemem --np "$np" --out results/digits
      for f in digits.csv digits.h5 digits.png digits_rate.png; do run cp "results/digits/$f" "docs/results/$f"; done
      # the projection design on the ten class means (docs/results.md "Projection design on real data")
      run "$PY" scripts/make_patterns.py --sklearn digits --digits-mode means --upsample 32x32 --threshold common-mean \
        --out results/digits_means32.h5 --force
      sweep digits_projection
      publish digits_projection.csv ;;
    rewire)
      # the sweep CSV's key has no K or p: one sweep per (K, p) into results/rewire/, merged by the plot script
      if [ "$fresh" -eq 1 ]; then run rm -rf results/rewire; fi
      run mkdir -p results/rewire
      for k in 50 100 200; do
        for p in 0 0.01 0.03 0.1 0.3 1; do
          run "${MPI[@]}" sweep -options_file_yaml configs/experiments/rewire.yaml -indegree "$k" -rewire "$p" -sweep_csv "results/rewire/K${k}_p${p}.csv" -quiet
        done
      done
      run "$PY" scripts/plot_rewire.py results/rewire results/rewire/merged.csv results/rewire.png
      run cp results/rewire/merged.csv docs/results/rewire.csv
      publish rewire.png ;;
    census)
      sweep census
      run "$PY" scripts/plot_census.py results/census.csv results/census.png --phase docs/phase.csv
      sweep census_ab
      run "$PY" scripts/plot_census.py results/census_ab.csv results/census_ab.png
      publish census.csv census.png census_ab.csv census_ab.png ;;
    capacity_designs)
      sweep capacity_designs
      # n = 4000 on fewer loads (the projection design's set-up grows as P^3), into the same CSV
      run "${MPI[@]}" sweep -options_file_yaml configs/experiments/capacity_designs.yaml -sweep_neurons 4000 \
        -sweep_load 0.02,0.05,0.1,0.15,0.2,0.3 -sweep_csv results/capacity_designs.csv
      run "$PY" scripts/plot_capacity_designs.py results/capacity_designs.csv results/capacity_designs.png --table
      publish capacity_designs.csv capacity_designs.png ;;
    phase)
      run "$PY" scripts/plot_phase.py --run build/ratemem --np "$np" results/phase.csv results/phase.png
      for f in phase.csv phase.json phase.png; do run cp "results/$f" "docs/$f"; done ;;
  esac
done
echo "make_figures: done (${names[*]})" >&2
