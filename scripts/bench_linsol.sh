#!/usr/bin/env bash
# The BDF Newton linear solvers side by side on one network (docs/benchmark.md, "Low-rank Newton solver"):
# interleaved rounds of the same retrieval with -cvode_ls spgmr (Jacobi), -cvode_ls woodbury and
# -cvode_ls spgmr -cvode_pc woodbury; prints per run the counts summed over trials, the weight products
# per RHS, the Woodbury set-ups and solves (-log_view) and the integration time, then min / median times.
# Usage: scripts/bench_linsol.sh [rounds] [ranks] [extra retrieve options...]
#   default: 3 rounds, 1 rank, -neurons 100000 -memories 50 -storage lowrank -trials 2
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}; ranks=${2:-1}; shift $(( $# > 2 ? 2 : $# )) || true
net=(-neurons 100000 -memories 50 -storage lowrank -trials 2)
[ $# -gt 0 ] && net=("$@")
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
variants=("-cvode_ls spgmr" "-cvode_ls woodbury" "-cvode_ls spgmr -cvode_pc woodbury")
[ "${LINSOL_VARIANTS:-}" = two ] && variants=("-cvode_ls spgmr" "-cvode_ls woodbury") # LINSOL_VARIANTS=two: without the preconditioner variant
echo "# $(uptime)"
echo "# ratemem retrieve ${net[*]} -summary s.json -quiet <variant>, $ranks rank(s)"
for r in $(seq 1 "$rounds"); do
  for v in "${variants[@]}"; do
    # shellcheck disable=SC2086
    mpiexec --allow-run-as-root --oversubscribe -n "$ranks" build/ratemem retrieve "${net[@]}" -summary "$tmp/s.json" -quiet $v \
      -log_view ":$tmp/log.txt" > /dev/null
    python3 - "$v" "$tmp/s.json" "$tmp/log.txt" <<'PY' | tee -a "$tmp/rows"
import json, sys
v, sj, lv = sys.argv[1:4]
d = json.load(open(sj)); t = d['trials']
s = lambda k: sum(x[k] for x in t)
ev = {}
for line in open(lv):
    f = line.split()
    if f and f[0] in ('RmWoodburySetUp', 'RmWoodburySolve', 'RmSynMult'): ev[f[0]] = (int(f[1]), float(f[3]))
ws, wv, sm = ev.get('RmWoodburySetUp', (0, 0)), ev.get('RmWoodburySolve', (0, 0)), ev.get('RmSynMult', (0, 0))
print(f"{v:36s} labels {','.join(x['label'] for x in t)} steps {s('steps')} rhs {s('rhs_evals')} nonlin {s('nonlin_iters')} "
      f"lin {s('lin_iters')} jv {s('jtimes_evals')} products {s('weight_products')} per_rhs {s('weight_products')/s('rhs_evals'):.2f} "
      f"wb_setups {ws[0]} ({ws[1]:.3f} s) wb_solves {wv[0]} ({wv[1]:.3f} s) products_time {sm[1]:.3f} integrate {d['timings']['integrate']:.3f}")
PY
  done
done
echo "# $(uptime)"
python3 - "$tmp/rows" <<'PY'
import sys, statistics, re
rows = {}
for line in open(sys.argv[1]):
    v = line[:36].strip(); t = float(line.split()[-1]); rows.setdefault(v, []).append(t)
for v, ts in rows.items(): print(f"{v:36s} integrate min {min(ts):.3f} median {statistics.median(ts):.3f} (n = {len(ts)})")
PY
