#!/usr/bin/env bash
# The integrator's vector work (docs/benchmark.md, "Integrator vector work"): NVECTOR_PETSC
# (-integrator_nvector petsc, its fused operations off: the former default) against the native N_Vector
# (-integrator_nvector native, the default), interleaved (the order alternates from round to round), for
# each size and rank count. Per run, from -log_view: the event RmIntegVec (every vector operation of
# CVODE/ARKODE) and RmSynMult (the weight products) per step, their ratio, and the integration time; then
# min / median per variant.
# Usage: scripts/bench_vecwork.sh [rounds] [sizes] [ranks] [extra retrieve options...]
#   default: 3 rounds, sizes "100000 1000000", ranks "1 2", -memories 50 -storage lowrank -trials 1
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}; sizes=${2:-"100000 1000000"}; ranklist=${3:-"1 2"}; shift $(( $# > 3 ? 3 : $# )) || true
net=(-memories 50 -storage lowrank -trials 1)
[ $# -gt 0 ] && net=("$@")
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
variants=("-integrator_nvector petsc" "-integrator_nvector native")
echo "# $(uptime)"
echo "# ratemem retrieve -neurons N ${net[*]} -summary s.json -quiet -log_view :log <variant>"
for n in $sizes; do
  for ranks in $ranklist; do
    for r in $(seq 1 "$rounds"); do
      order=(0 1); [ $((r % 2)) -eq 0 ] && order=(1 0)
      for i in "${order[@]}"; do
        v=${variants[$i]}
        # shellcheck disable=SC2086
        nice mpiexec --allow-run-as-root --oversubscribe -n "$ranks" build/ratemem retrieve -neurons "$n" "${net[@]}" -summary "$tmp/s.json" -quiet $v \
          -log_view ":$tmp/log.txt" > /dev/null
        /usr/bin/python3 - "$n" "$ranks" "$v" "$tmp/s.json" "$tmp/log.txt" <<'PY' | tee -a "$tmp/rows"
import json, sys
n, ranks, v, sj, lv = sys.argv[1:6]
d = json.load(open(sj)); t = d['trials']
steps = sum(x['steps'] for x in t)
ev = {}
for line in open(lv):
    f = line.split()
    if f and f[0] in ('RmIntegVec', 'RmSynMult'): ev[f[0]] = ev.get(f[0], 0.0) + float(f[3])  # max over ranks, summed over stages
vec, prod = ev.get('RmIntegVec', 0.0), ev.get('RmSynMult', 0.0)
print(f"n {n:>8s} ranks {ranks} {v:28s} labels {','.join(x['label'] for x in t)} steps {steps} vec_ms_per_step {1e3*vec/steps:8.3f} "
      f"product_ms_per_step {1e3*prod/steps:8.3f} ratio {vec/prod:6.2f} integrate {d['timings']['integrate']:.3f}")
PY
      done
    done
  done
done
echo "# $(uptime)"
/usr/bin/python3 - "$tmp/rows" <<'PY'
import sys, statistics
rows = {}
for line in open(sys.argv[1]):
    f = line.split()
    key = (int(f[1]), int(f[3]), f[5])
    g = dict(zip(f[::2], f[1::2]))
    rows.setdefault(key, []).append((float(g['vec_ms_per_step']), float(g['product_ms_per_step']), float(g['ratio']), float(g['integrate'])))
print(f"{'n':>8s} {'ranks':>5s} {'nvector':8s} {'runs':>4s}  {'vector ms/step':>16s}  {'product ms/step':>16s}  {'ratio vec/product':>18s}  {'integrate s':>14s}   (min / median)")
for (n, ranks, v), xs in sorted(rows.items()):
    col = lambda k: f"{min(x[k] for x in xs):7.3f} / {statistics.median(x[k] for x in xs):7.3f}"
    print(f"{n:8d} {ranks:5d} {v:8s} {len(xs):4d}  {col(0):>16s}  {col(1):>16s}  {col(2):>18s}  {col(3):>14s}")
PY
