#!/usr/bin/env bash
# Retrieval against rewiring on a small-world ring (configs/experiments/rewire.yaml, docs/results.md):
# one `ratemem sweep` per indegree K and rewiring probability p into results/rewire/K<K>_p<p>.csv
# (the sweep's CSV key has no K or p; a rerun skips the points already there), then
# scripts/plot_rewire.py merges them into results/rewire.csv and draws results/rewire.png.
# --publish copies the CSV and PNG over docs/results/.
#
# Usage: scripts/rewire_sweep.sh [--np N] [--publish] [--k "50 100 200"] [--p "0 0.01 0.03 0.1 0.3 1"]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
np=${RATEMEM_NP:-2} publish=0 ks="50 100 200" ps="0 0.01 0.03 0.1 0.3 1"
while [ $# -gt 0 ]; do
  case $1 in
    --np) np=$2; shift ;;
    --publish) publish=1 ;;
    --k) ks=$2; shift ;;
    --p) ps=$2; shift ;;
    -h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "rewire_sweep: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[ -x build/ratemem ] || { echo "rewire_sweep: build/ratemem not found; run bash scripts/build.sh first" >&2; exit 1; }
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
mkdir -p results/rewire
for k in $ks; do
  for p in $ps; do
    echo "== K = $k, p = $p" >&2
    scripts/ratemem-mpi -n "$np" sweep -options_file_yaml configs/experiments/rewire.yaml -indegree "$k" -rewire "$p" \
      -sweep_csv "results/rewire/K${k}_p${p}.csv" -quiet
  done
done
"$PY" scripts/plot_rewire.py results/rewire results/rewire.csv results/rewire.png
if [ "$publish" -eq 1 ]; then
  cp results/rewire.csv results/rewire.png docs/results/
fi
