#!/usr/bin/env bash
# Whole retrieval, ratemem against reference integrations of the same network (scripts/ref_scipy.py:
# scipy solve_ivp RK45 and a numpy explicit Euler), in interleaved rounds. For each case a ratemem run
# with -output/-summary first writes the network (memories, cue) that the references read; then every
# round runs, one after the other: ratemem with -integrator bdf, ratemem with -integrator auto, scipy
# RK45, numpy Euler. Each is timed as a whole process (wall, /usr/bin/time) and for its integration
# alone (ratemem: the summary's timings.integrate; references: around the integrator call).
# Prints min and median per figure, the ratio reference / ratemem of the medians, the RHS counts, and
# that every run ended in the cued memory; the load average before and after. The small case also runs
# Brian2 (cython target, explicit Euler h = 0.01, all-to-all Synapses) when Debian's python3-brian is
# installed (apt-get install python3-brian cython3); without it the script says so and goes on.
#
# Usage: scripts/bench_retrieval.sh [ROUNDS (3)] [CASES (small,1e5)]
#   cases: small = n 1000, P 20, dense; 1e5 = n 10^5, P 50, lowrank (factored reference);
#          1e6 = n 10^6, P 50, lowrank (no numpy Euler: about 3 minutes a run)
# RATEMEM=path overrides build/ratemem; MPIEXEC="mpiexec -n 2" runs ratemem under it.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
cases=${2:-small,1e5}
exe=${RATEMEM:-build/ratemem}
[ -x "$exe" ] || { echo "bench_retrieval: $exe not found (bash scripts/build.sh)" >&2; exit 2; }
read -r -a launch <<<"${MPIEXEC:-}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
py=/usr/bin/python3

# time_run FILE CMD...: appends "wall" of CMD (whole process) to FILE; CMD's stdout to FILE.out
time_run() {
  local file=$1; shift
  /usr/bin/time -f "%e" -o "$tmp/t" "$@" >"$file.out" 2>"$file.err" || { cat "$file.err" >&2; exit 1; }
  cat "$tmp/t" >>"$file"
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
IFS=, read -r -a list <<<"$cases"
for c in "${list[@]}"; do
  case $c in
    small) args=(-neurons 1000 -memories 20 -storage dense); refs=(rk45 euler)
      if $py -c "import brian2" 2>/dev/null; then refs+=(brian2); else echo "bench_retrieval: Brian2 not installed (apt-get install python3-brian cython3): its row is left out"; fi ;;
    1e5) args=(-neurons 100000 -memories 50 -storage lowrank); refs=(rk45 euler) ;;
    1e6) args=(-neurons 1000000 -memories 50 -storage lowrank); refs=(rk45) ;;
    *) echo "bench_retrieval: unknown case $c" >&2; exit 2 ;;
  esac
  d=$tmp/$c; mkdir -p "$d"
  # the network the references integrate (and a warm-up of the page cache)
  "${launch[@]}" "$exe" retrieve "${args[@]}" -trials 1 -quiet -output "$d/net.h5" -summary "$d/net.json"
  for ((r = 0; r < rounds; r++)); do
    for integ in bdf auto; do
      time_run "$d/ratemem-$integ" "${launch[@]}" "$exe" retrieve "${args[@]}" -trials 1 -quiet -integrator "$integ" -summary "$d/s.json"
      $py -c "import json,sys; s=json.load(open(sys.argv[1])); t=s['trials'][0]; print(s['timings']['integrate'], t['rhs_evals'], t['weight_products'], t['label'], s['integrator']['method'])" \
        "$d/s.json" >>"$d/ratemem-$integ.int"
    done
    for m in "${refs[@]}"; do
      time_run "$d/ref-$m" $py scripts/ref_scipy.py "$d/net.h5" "$d/net.json" --method "$m"
      $py -c "import json,sys; o=json.loads(open(sys.argv[1]).read()); print(o['integrate_s'], o['rhs_evals'], o['rhs_evals'], 'retrieved' if o['nearest']==o['cue_memory'] and o['overlap']>0.9 else 'NOT-retrieved', o['method'], o['max_diff_ratemem'])" \
        "$d/ref-$m.out" >>"$d/ref-$m.int"
    done
  done
  echo
  echo "case $c: ratemem retrieve ${args[*]} -trials 1 -quiet; $rounds interleaved rounds; seconds (min / median)"
  $py - "$d" "$c" <<'EOF'
import os, statistics as st, sys
d, case = sys.argv[1], sys.argv[2]
rows = []
for name in ["ratemem-bdf", "ratemem-auto", "ref-rk45", "ref-euler", "ref-brian2"]:
    if not os.path.exists(os.path.join(d, name)):
        continue
    wall = [float(l) for l in open(os.path.join(d, name))]
    ints = [l.split() for l in open(os.path.join(d, name + ".int"))]
    integ = [float(v[0]) for v in ints]
    label = {"ratemem-bdf": "ratemem bdf", "ratemem-auto": "ratemem auto -> " + ints[0][4], "ref-rk45": "scipy RK45", "ref-euler": "numpy Euler h=0.01", "ref-brian2": "Brian2 Euler h=0.01"}[name]
    extra = ("  max |x - x_ratemem| %.1e" % max(float(v[5]) for v in ints)) if len(ints[0]) > 5 else ""
    rows.append((name, label, wall, integ, ints[0][1], ints[0][2], sorted(set(v[3] for v in ints)), extra))
f = lambda v: "%7.3f / %7.3f" % (min(v), st.median(v))
print("%-26s %19s %19s %7s %7s  %s" % ("", "whole process", "integration", "RHS", "W-prod", "label"))
for name, label, wall, integ, rhs, prod, labels, extra in rows:
    print("%-26s %19s %19s %7s %7s  %s%s" % (label, f(wall), f(integ), rhs, prod, ",".join(labels), extra))
base = {r[0]: r for r in rows}
for ref in ["ref-rk45", "ref-euler", "ref-brian2"]:
    if ref not in base:
        continue
    for mine in ["ratemem-bdf", "ratemem-auto"]:
        w = st.median(base[ref][2]) / st.median(base[mine][2])
        i = st.median(base[ref][3]) / st.median(base[mine][3])
        print("ratio %s / %s (medians): whole process %.2fx, integration %.2fx" % (base[ref][1], base[mine][1], w, i))
EOF
done
echo
echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"
